// The writer service on the kernel: consumes its cluster's FARO_STORY subjects as the shared durable `<cluster>_writer` and materialises story
// windows as JSON files (on close, as periodic snapshots, on flush()). The kernel owns the NATS connection,
// the streams and the dead letters; the writer owns its consumer group's work, its timers and its files.
import fs from "node:fs/promises";
import path from "node:path";
import type { BusMessage } from "@faro/bus";
import { decodeStoryEntry, FARO_INCIDENT, FARO_INSIGHT, FARO_STORY, storyFilter, validateStoryFile, type StoryEntry, type StoryFile } from "@faro/contracts";
import type { KernelContext, ServiceInstance } from "@faro/kernel";
import { KeyedLock } from "@faro/primitives";
import { renderStoryHtml } from "@faro/story-view";
import { readAdminToken, startAdmin, type AdminServer } from "./admin.js";
import { writeFileAtomic } from "./atomic.js";
import { buildStoryFile, type ReadEntry } from "./build.js";
import type { WriterConfig } from "./config.js";
import { InvalidStoryError, MalformedEntryError, ReadBackError } from "./errors.js";
import { writerMetrics, type WriterMetrics } from "./metrics.js";
import { storyFilePath } from "./paths.js";
import { lastSeqOf, readIncidents, readInsights, readStoryWindow, type ReadOptions } from "./readback.js";
import { compileRetentionPolicies, DEFAULT_POLICY, scanRetention, type RetentionResult } from "./retention.js";

/** Base name of the durable every replica shares (the kernel names it `<cluster>_writer`). */
export const CONSUMER_NAME = "writer";

/** The stage of the writer's dead letters: `faro.v1.dlq.writer.write`, id `dl:writer:write:<seq>`. */
export const DEAD_LETTER_STAGE = "write";

/** What a test or an embedding application may set beyond the configuration. */
export interface WriterOptions {
  /** Wall clock (ms) for snapshot intervals and retention. */
  now?: () => number;
}

export interface Writer extends ServiceInstance {
  /** Writes a file now for every story window this replica has seen and not yet written since; resolves to the files written. */
  flush(): Promise<number>;
  /** Runs one retention scan now. */
  retention(): Promise<RetentionResult>;
  /** The admin API's URL while it runs (admin.enabled), else undefined. */
  adminUrl(): string | undefined;
  /** The directory files are written to (absolute). */
  readonly dir: string;
  readonly writerMetrics: WriterMetrics;
}

/** What identifies one story window and where its entries are. */
interface Target {
  key: string;
  subject: string;
  storyId: string;
  window: number;
  tenant: string;
  cluster: string;
  namespace: string;
}

interface Tracked extends Target {
  /** Newest stream sequence seen for the window. */
  lastSeq: number;
  /** Newest sequence a file of this replica covered. */
  writtenSeq: number;
  /** Wall time of the last file, or of the first entry seen. */
  sinceMs: number;
  /** Stream sequence of the window's first entry, once a read-back found it (later reads start there). */
  firstSeq: number;
}

type Outcome = "final" | "snapshot" | "skipped";

/** Incident ids by reason named by the window's incident entries. */
function wantedIncidents(entries: readonly ReadEntry[]): Map<string, Set<string>> {
  const wanted = new Map<string, Set<string>>();
  for (const { entry } of entries) {
    if (entry.entryKind !== "incident") continue;
    const { incidentId, reason } = entry.incident;
    if (!incidentId || !reason) continue;
    const ids = wanted.get(reason) ?? new Set<string>();
    ids.add(incidentId);
    wanted.set(reason, ids);
  }
  return wanted;
}

/**
 * Builds the writer on the kernel's connections. Dead letters (undecodable entries, windows that do not
 * validate; stage `write`) follow the common `deadLetters.includePayload`: story entries are already
 * redacted, so turning it on is safe and puts the offending entry into the envelope.
 */
export function createWriter(ctx: KernelContext<WriterConfig>, options: WriterOptions = {}): Writer {
  const { config, metrics: service, bus } = ctx;
  const logger = ctx.logger.child({ component: "writer" });
  const metrics = writerMetrics(service.registry);
  const now = options.now ?? Date.now;
  const dir = path.resolve(config.dir);
  const snapshotMs = config.snapshot.interval;
  const maxTracked = config.snapshot.maxTracked;
  const inflight = service.queue("handlers_in_flight", config.consumer.concurrency);
  const trackedQueue = service.queue("tracked_stories", maxTracked);
  // Validated by the service definition (a bad pattern exits 2 naming the policy's field).
  const retentionRules = compileRetentionPolicies(config.retention.policies, config.retention.maxAge);
  for (const p of retentionRules.policies) metrics.retentionPolicyMaxAge.set({ policy: p.name }, p.maxAgeMs / 1000);
  metrics.retentionPolicyMaxAge.set({ policy: DEFAULT_POLICY }, retentionRules.defaultMaxAgeMs / 1000);
  const buildOpts = { maxLogLines: config.limits.maxLogLines, maxBytes: config.limits.maxBytes };

  // Open windows seen by this replica (Map order = least recently updated first), bounded.
  const tracked = new Map<string, Tracked>();
  // Windows whose final file this replica wrote: a straggling entry must not bring them back as snapshots.
  const closed = new Map<string, true>();
  // One materialisation per file at a time in this replica; across replicas the content is identical anyway.
  const locks = new KeyedLock();

  let snapshotTimer: NodeJS.Timeout | undefined;
  let retentionTimer: NodeJS.Timeout | undefined;
  let ticking: Promise<unknown> | undefined;
  let scanning: Promise<RetentionResult> | undefined;
  let started = false;
  let consuming = false;
  let stopping: Promise<void> | undefined;
  let admin: AdminServer | undefined;

  function readOpts(progress?: () => void): ReadOptions {
    return {
      idleTimeoutMs: config.readback.idleTimeout,
      ...(progress ? { onProgress: progress } : {}),
      onWarning: (what, err) => {
        service.errors.inc({ kind: "readback" });
        logger.warn({ err, what }, "read-back warning");
      },
    };
  }

  const withLock = <T>(key: string, fn: () => Promise<T>): Promise<T> => locks.run(key, fn);

  function rememberClosed(key: string): void {
    tracked.delete(key);
    closed.delete(key);
    closed.set(key, true);
    if (closed.size > maxTracked) closed.delete(closed.keys().next().value!);
    trackedQueue.setDepth(tracked.size);
  }

  function track(t: Target, seq: number): void {
    if (closed.has(t.key)) return;
    const prev = tracked.get(t.key);
    if (prev) {
      tracked.delete(t.key); // re-insert: most recently updated last
      prev.lastSeq = Math.max(prev.lastSeq, seq);
      tracked.set(t.key, prev);
      return;
    }
    tracked.set(t.key, { ...t, lastSeq: seq, writtenSeq: 0, sinceMs: now(), firstSeq: 1 });
    if (tracked.size > maxTracked) {
      tracked.delete(tracked.keys().next().value!);
      metrics.trackedEvictions.inc();
    }
    trackedQueue.setDepth(tracked.size);
  }

  async function isFinal(file: string): Promise<boolean> {
    let text: string;
    try {
      text = await fs.readFile(file, "utf8");
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") return false;
      throw err;
    }
    const f = JSON.parse(text) as Partial<StoryFile>;
    return f.closeReason !== undefined && f.closeReason !== "snapshot";
  }

  function decodeOrUndefined(data: Uint8Array): StoryEntry | undefined {
    try {
      return decodeStoryEntry(data);
    } catch (err) {
      metrics.undecodable.inc({ stream: FARO_STORY.name });
      logger.warn({ err }, "undecodable last entry of a story subject");
      return undefined;
    }
  }

  /**
   * Reads the window back, builds, validates and writes its file. `closeSeq` (the close entry's stream
   * sequence) makes it a final file; without it the window is read up to the subject's newest message and
   * written as a snapshot, or as the final file when its close entry is found on the way.
   */
  async function materialize(t: Target, closeSeq: number | undefined, progress?: () => void): Promise<Outcome> {
    const file = storyFilePath(dir, t.namespace, t.storyId, t.window);
    return withLock(file, async () => {
      const started = performance.now();
      let endSeq = closeSeq ?? (await lastSeqOf(bus.jsm, FARO_STORY.name, t.subject))?.seq ?? 0;
      for (let round = 0; round < 3; round++) {
        const known = tracked.get(t.key);
        const read = await readStoryWindow(bus.js, t.subject, t.window, endSeq, readOpts(progress), known?.firstSeq ?? 1);
        const firstSeq = read.entries.reduce((m, r) => Math.min(m, r.streamSeq), Number.MAX_SAFE_INTEGER);
        if (known && firstSeq !== Number.MAX_SAFE_INTEGER) known.firstSeq = firstSeq;
        if (read.undecodable) metrics.undecodable.inc({ stream: FARO_STORY.name }, read.undecodable);
        if (closeSeq !== undefined && read.closeSeq === undefined) {
          throw new ReadBackError(FARO_STORY.name, t.subject, `close entry at sequence ${closeSeq} not found`);
        }
        if (read.entries.length === 0) {
          logger.warn({ storyId: t.storyId, window: t.window }, "no entries of the window left in the stream; no file written");
          return "skipped";
        }
        const isClosed = read.closeSeq !== undefined;
        // A snapshot never replaces a final file (another replica may have written it meanwhile).
        if (!isClosed && (await isFinal(file))) {
          rememberClosed(t.key);
          return "skipped";
        }
        const inc = await readIncidents(bus.js, bus.jsm, t, wantedIncidents(read.entries), readOpts(progress));
        if (inc.undecodable) metrics.undecodable.inc({ stream: FARO_INCIDENT.name }, inc.undecodable);
        // The analyzer's insights about these incidents, when it runs (docs/analysis.md).
        const ins = await readInsights(bus.js, bus.jsm, t, new Set(inc.contexts.map((c) => c.incidentId)), readOpts(progress));
        if (ins.undecodable) metrics.undecodable.inc({ stream: FARO_INSIGHT.name }, ins.undecodable);
        const built = buildStoryFile(read.entries, inc.contexts, buildOpts, ins.insights);
        const kind = built.closed ? "final" : "snapshot";
        const valid = validateStoryFile(built.file);
        if (!valid.ok) {
          metrics.validationFailures.inc({ kind });
          service.errors.inc({ kind: "validation" });
          const err = new InvalidStoryError(t.storyId, t.window, valid.errors);
          logger.error({ err, storyId: t.storyId, window: t.window, errors: valid.errors.slice(0, 20) }, "story file does not validate; not written");
          if (closeSeq !== undefined) throw err;
          return "skipped";
        }
        await writeFileAtomic(file, built.json);
        if (config.html.enabled) await writePage(file, built.file, kind);
        const bytes = Buffer.byteLength(built.json);
        metrics.filesWritten.inc({ kind });
        metrics.bytesWritten.inc(bytes);
        metrics.writeSeconds.observe({ kind }, (performance.now() - started) / 1000);
        if (built.duplicates) metrics.duplicates.inc(built.duplicates);
        if (built.elidedLines) metrics.elidedLines.inc(built.elidedLines);
        if (built.oversize) metrics.oversize.inc();
        if (kind === "snapshot") metrics.snapshots.inc();
        service.messagesOut.inc();
        logger.debug({ file, kind, bytes, entries: built.file.stats["entries"] }, "story file written");
        if (built.closed) {
          rememberClosed(t.key);
          return "final";
        }
        // A close published while this snapshot was being built would be overwritten by it: write the final instead.
        const last = await lastSeqOf(bus.jsm, FARO_STORY.name, t.subject);
        if (!last || last.seq <= endSeq) return "snapshot";
        const e = decodeOrUndefined(last.data);
        if (!e || !(e.window > t.window || (e.window === t.window && e.entryKind === "close"))) return "snapshot";
        endSeq = last.seq;
      }
      return "snapshot";
    });
  }

  /**
   * The story's HTML page beside its file (html.enabled). The JSON file is the record: a page that cannot be
   * rendered or written is counted and logged, and the file stays written.
   */
  async function writePage(file: string, story: StoryFile, kind: "final" | "snapshot"): Promise<void> {
    const page = file.replace(/\.json$/, ".html");
    try {
      await writeFileAtomic(page, renderStoryHtml(story));
      metrics.htmlPages.inc({ kind });
    } catch (err) {
      metrics.htmlFailures.inc();
      service.errors.inc({ kind: "html" });
      logger.warn({ err, file: page, storyId: story.storyId, window: story.window }, "story page not written");
    }
  }

  async function snapshotDue(force: boolean): Promise<number> {
    let written = 0;
    const wall = now();
    const due = [...tracked.values()].filter((t) => t.lastSeq > t.writtenSeq && (force || wall - t.sinceMs >= snapshotMs));
    for (const t of due) {
      if (stopping && !force) break;
      const seqAtStart = t.lastSeq;
      try {
        const outcome = await materialize(t, undefined);
        if (outcome !== "skipped") written++;
        t.writtenSeq = Math.max(t.writtenSeq, seqAtStart);
        t.sinceMs = now();
      } catch (err) {
        service.errors.inc({ kind: "snapshot" });
        logger.warn({ err, storyId: t.storyId, window: t.window }, "snapshot failed; retried at the next interval");
      }
    }
    return written;
  }

  function tick(): void {
    if (ticking || stopping) return;
    ticking = snapshotDue(false).finally(() => (ticking = undefined));
  }

  async function scanOnce(): Promise<RetentionResult> {
    const r = await scanRetention(dir, retentionRules, now());
    for (const [policy, n] of Object.entries(r.byPolicy)) metrics.retentionDeletions.inc({ policy }, n);
    if (r.tempRemoved.length) metrics.tempFilesRemoved.inc(r.tempRemoved.length);
    for (const { file, err } of r.errors) {
      service.errors.inc({ kind: "retention" });
      logger.warn({ err, file }, "retention could not remove or inspect a file");
    }
    if (r.deleted.length || r.tempRemoved.length) logger.info({ deleted: r.deleted.length, byPolicy: r.byPolicy, tempRemoved: r.tempRemoved.length }, "retention scan");
    return r;
  }

  /** One scan at a time; a call made while one runs gets a fresh scan after it (it may have missed new files). */
  function retention(): Promise<RetentionResult> {
    // The previous scan's failure was reported to its own caller; it must not stop this one.
    const next = (scanning ?? Promise.resolve()).catch(() => undefined).then(scanOnce);
    const mine = next.finally(() => {
      if (scanning === mine) scanning = undefined;
    });
    scanning = mine;
    return mine;
  }

  function retentionTick(): void {
    if (scanning || stopping) return;
    retention().catch((err: unknown) => {
      service.errors.inc({ kind: "retention" });
      logger.warn({ err }, "retention scan failed; retried at the next interval");
    });
  }

  /** One story entry: a close materialises its window (final file), any other entry is tracked for snapshots. */
  async function handle(msg: BusMessage): Promise<void> {
    service.messagesIn.inc();
    inflight.setDepth(group.inflight);
    let entry: StoryEntry;
    try {
      entry = decodeStoryEntry(msg.data);
    } catch (err) {
      throw new MalformedEntryError(msg.subject, (err as Error).message, { cause: err });
    }
    const t: Target = {
      key: `${entry.storyId}:${entry.window}`,
      subject: msg.subject,
      storyId: entry.storyId,
      window: entry.window,
      tenant: entry.tenant,
      cluster: entry.cluster,
      namespace: entry.namespace,
    };
    if (entry.entryKind === "close") await materialize(t, msg.seq, () => msg.working());
    else track(t, msg.seq);
  }

  // Poison (dead letter on faro.v1.dlq.writer.write, counted by the kernel as faro_dead_letters_total{reason="write"}):
  // an entry that cannot be decoded, or a window whose file would not validate. Everything else is retried.
  const group = ctx.consumerGroup({
    stream: FARO_STORY.name,
    consumer: {
      durable: CONSUMER_NAME,
      // faro.v1.story.*.<cluster>.>: every tenant of this pipeline's cluster only.
      filterSubject: storyFilter({ cluster: config.cluster }).replace(/(\.\*)+$/, ".>"),
      ackWaitMs: config.consumer.ackWait,
      maxDeliver: config.consumer.maxDeliver,
      maxAckPending: config.consumer.maxAckPending,
      description: "Faro writer: story files (shared by all replicas)",
    },
    handler: handle,
    poisonStage: DEAD_LETTER_STAGE,
    concurrency: config.consumer.concurrency,
    isPoison: (err) => err instanceof MalformedEntryError || err instanceof InvalidStoryError,
  });

  async function start(): Promise<void> {
    if (started || stopping) return;
    started = true;
    await fs.mkdir(dir, { recursive: true });
    await group.start();
    if (snapshotMs > 0) {
      snapshotTimer = setInterval(tick, Math.max(20, Math.min(1000, Math.floor(snapshotMs / 2))));
      snapshotTimer.unref();
    }
    retentionTimer = setInterval(retentionTick, config.retention.scanInterval);
    retentionTimer.unref();
    consuming = true;
    retentionTick();
    // The admin API (off by default); the definition checked that a token is configured.
    const adminToken = config.admin.enabled ? readAdminToken(config.admin) : undefined;
    if (adminToken) admin = await startAdmin({ dir, host: config.admin.host, port: config.admin.port, token: adminToken, jsm: bus.jsm, logger, registry: service.registry });
    logger.info({ durable: group.name, dir, snapshotMs, concurrency: config.consumer.concurrency }, "writer consuming");
  }

  /**
   * Stops the timers, lets a running snapshot round and retention scan finish, stops consuming (running
   * handlers write their files) and waits for every file in flight. NATS is the kernel's: closed after this.
   */
  async function doStop(): Promise<void> {
    consuming = false;
    await admin?.close();
    clearInterval(snapshotTimer);
    clearInterval(retentionTimer);
    await ticking;
    await scanning?.catch(() => undefined); // reported by retentionTick or to retention()'s caller
    await group.stop();
    await locks.idle();
    inflight.setDepth(0);
  }

  return {
    start,
    stop() {
      stopping ??= doStop();
      return stopping;
    },
    readiness: () => (consuming ? true : { ok: false, detail: stopping ? "stopped" : "not consuming FARO_STORY yet" }),
    async flush() {
      await ticking;
      return await snapshotDue(true);
    },
    retention,
    adminUrl: () => admin?.url,
    dir,
    writerMetrics: metrics,
  };
}
