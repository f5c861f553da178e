// Replay: rebuilds the correlator's Redis state and the story files of one cluster from FARO_CLEAN, running the correlator's
// own Processor on a virtual clock and building files with the writer's own builder; it publishes nothing (decision 0011).
import fs from "node:fs";
import path from "node:path";
import type { Bus } from "@faro/bus";
import {
  cleanFilter,
  decodeIncidentContext,
  decodeInsight,
  decodeStoryEntry,
  encodeIncidentContext,
  encodeStoryEntry,
  FARO_CLEAN,
  FARO_INSIGHT,
  insightFilter,
  validateStoryFile,
  type IncidentContext,
  type Insight,
} from "@faro/contracts";
import { CorrelatorState, InvolvedObjectPendingError, MalformedInputError, Processor, settingsFrom, type CorrelatorConfig } from "@faro/correlator";
import type { Logger } from "@faro/observability";
import { createRedactor } from "@faro/redact";
import { buildStoryFile, storyFilePath, writeFileAtomic, type ReadEntry } from "@faro/writer";
import type { Redis } from "ioredis";

/** Where replay starts: the stream's first message or a point in time. */
export type ReplayFrom = { kind: "start" } | { kind: "time"; ms: number };

export interface ReplayOptions {
  bus: Bus;
  /** The target Redis (fresh, or another key prefix). */
  redis: Redis;
  /** Key prefix of the rebuilt correlator state. */
  keyPrefix: string;
  /** The correlator's configuration (settings, security thresholds, cluster). */
  correlator: CorrelatorConfig;
  cluster: string;
  from: ReplayFrom;
  /** Empty directory the story files are written to. */
  dir: string;
  /** Limits of one story file (the writer's `limits`). */
  limits: { maxLogLines: number; maxBytes: number };
  /** Clean messages in the Processor at once (the correlator's consumer.concurrency). */
  concurrency: number;
  logger: Logger;
  onProgress?: (done: number, total: number) => void;
}

export interface ReplayResult {
  messages: number;
  /** Clean messages the correlator refused as malformed (the live correlator dead-lettered them). */
  malformed: number;
  entries: number;
  incidents: number;
  files: string[];
  /** Files that did not validate (not written). */
  invalid: { file: string; errors: string[] }[];
  firstSeq: number;
  lastSeq: number;
}

/** The stream no longer holds what replay was asked to start from (its retention removed it). */
export class ReplayHorizonError extends Error {
  override name = "ReplayHorizonError";
  constructor(
    message: string,
    readonly firstAvailable: string | undefined,
  ) {
    super(message);
  }
}

/** Stream time a live pipeline's handlers typically lag behind the stream; replay's handlers see that far ahead. */
const LAG_MS = 2000;

/** A read that receives nothing for this long fails (the server or the stream went away). */
const READ_IDLE_MS = 15_000;

interface Window {
  entries: ReadEntry[];
}

/** Checks the start against the stream's first message; resolves to the first sequence to read (0: nothing to read). */
async function startSeq(bus: Bus, filter: string, from: ReplayFrom): Promise<{ first: number; last: number }> {
  const info = await bus.jsm.streams.info(FARO_CLEAN.name, { subjects_filter: filter } as never);
  const { first_seq: firstSeq, first_ts: firstTs, messages } = info.state;
  if (from.kind === "time") {
    const firstMs = messages > 0 ? Date.parse(firstTs) : Number.POSITIVE_INFINITY;
    // Messages are removed from the front only: when the oldest one left is younger than the start, what came between is gone.
    if (messages > 0 && firstMs > from.ms && firstSeq > 1)
      throw new ReplayHorizonError(`FARO_CLEAN no longer holds ${new Date(from.ms).toISOString()}: its oldest message is from ${firstTs} (stream retention ${FARO_CLEAN.maxAgeMs / 3_600_000}h)`, firstTs);
  } else if (firstSeq > 1) {
    throw new ReplayHorizonError(`FARO_CLEAN no longer holds its start: messages 1..${firstSeq - 1} were removed by retention (oldest left: ${firstTs}); pass --from TIME at or after it to replay what is left`, firstTs);
  }
  // The newest message of this cluster bounds the read (what arrives during replay is for the resumed pipeline).
  const newest = messages > 0 ? await bus.jsm.streams.getMessage(FARO_CLEAN.name, { last_by_subj: filter }) : null;
  return { first: newest ? firstSeq : 0, last: newest ? newest.seq : 0 };
}

/** Reads every message on `filter` of `stream` from `opts` up to the stream's last sequence now, in stream order. */
async function* readStream(bus: Bus, stream: string, filter: string, from: ReplayFrom, endSeq: number): AsyncGenerator<{ seq: number; subject: string; data: Uint8Array; tsMs: number; pending: number }> {
  if (endSeq <= 0) return;
  const consumer = await bus.js.consumers.get(
    stream,
    from.kind === "time"
      ? { filter_subjects: filter, deliver_policy: "by_start_time" as never, opt_start_time: new Date(from.ms).toISOString() }
      : { filter_subjects: filter, deliver_policy: "all" as never },
  );
  const messages = await consumer.consume({ max_messages: 1024 });
  let stalled = false;
  let timer: NodeJS.Timeout | undefined;
  const arm = () => {
    clearTimeout(timer);
    timer = setTimeout(() => {
      stalled = true;
      void messages.close();
    }, READ_IDLE_MS);
  };
  try {
    arm();
    for await (const m of messages) {
      arm();
      if (m.seq > endSeq) break;
      yield { seq: m.seq, subject: m.subject, data: m.data, tsMs: Math.floor(m.info.timestampNanos / 1e6), pending: m.info.pending };
      if (m.seq >= endSeq || m.info.pending === 0) break;
    }
  } finally {
    clearTimeout(timer);
    await messages.close();
    // An ordered consumer left behind is removed by the server when idle; failing to delete it changes nothing.
    await consumer.delete().catch(() => undefined);
  }
  if (stalled) throw new Error(`reading ${stream} (${filter}) stalled: nothing for ${READ_IDLE_MS / 1000}s before sequence ${endSeq}`);
}

/**
 * Runs the replay. The Processor is the live correlator's, fed in stream order with the same per-subject ordering and
 * concurrency, on a clock that is each message's stream timestamp (when the live pipeline received it), so debounce,
 * idle closes and settle behave as they did live; its scan runs each `detect.scanInterval` of that clock.
 */
export async function replay(o: ReplayOptions): Promise<ReplayResult> {
  const filter = cleanFilter({ cluster: o.cluster }).replace(/(\.\*)+$/, ".>");
  const { first, last } = await startSeq(o.bus, filter, o.from);
  const settings = settingsFrom(o.correlator);
  let clock = 0;
  const windows = new Map<string, Window>();
  const contexts = new Map<string, IncidentContext[]>();
  let entrySeq = 0;
  const result: ReplayResult = { messages: 0, malformed: 0, entries: 0, incidents: 0, files: [], invalid: [], firstSeq: first, lastSeq: last };

  const processor = new Processor({
    state: new CorrelatorState(o.redis, o.keyPrefix),
    // What the live correlator publishes, taken as the writer reads it back (encoded, decoded): nothing leaves this process.
    sink: {
      async publishEntry(_subject, entry, msgId) {
        const e = decodeStoryEntry(encodeStoryEntry(entry));
        const key = `${e.storyId}|${e.window}`;
        const w = windows.get(key) ?? { entries: [] };
        w.entries.push({ streamSeq: ++entrySeq, msgId, entry: e });
        windows.set(key, w);
        result.entries++;
      },
      async publishIncident(_subject, incident) {
        const c = decodeIncidentContext(encodeIncidentContext(incident));
        const list = contexts.get(c.storyId) ?? [];
        list.push(c);
        contexts.set(c.storyId, list);
        result.incidents++;
      },
    },
    settings,
    redactor: createRedactor(),
    logger: o.logger,
    security: o.correlator.security,
    now: () => clock,
  });

  // Per subject in order (as the live consumer), at most `concurrency` at once.
  const chains = new Map<string, Promise<void>>();
  const inflight = new Set<Promise<void>>();
  const retries: { subject: string; data: Uint8Array; attempt: number; dueMs: number }[] = [];
  let failure: unknown;
  const handle = async (subject: string, data: Uint8Array, attempt: number): Promise<void> => {
    try {
      await processor.handleClean(subject, data, attempt);
    } catch (err) {
      // The live consumer redelivers after 250 ms doubling to 2.5 s (services/correlator INVOLVED_RETRY, without jitter here).
      if (err instanceof InvolvedObjectPendingError) retries.push({ subject, data, attempt: attempt + 1, dueMs: clock + Math.min(2500, 250 * 2 ** (attempt - 1)) });
      else if (err instanceof MalformedInputError) result.malformed++;
      else failure ??= err;
    }
  };
  // Stream time at which each in-flight handler was dispatched.
  const startedAt = new Map<Promise<void>, number>();
  const dispatch = async (subject: string, data: Uint8Array, attempt: number, tsMs = clock): Promise<void> => {
    while (inflight.size >= o.concurrency) await Promise.race(inflight);
    // Live, a handler waiting for a crashed container's last log lines (incident.settle) sees what arrives in that wall
    // time plus the pipeline's lag; replay runs no further ahead of it than that, or the incident would be harvested from
    // a later state (and no less, or the last log lines would be missed).
    for (;;) {
      const behind = [...startedAt].filter(([, t]) => t + settings.settleMs + LAG_MS < tsMs).map(([p]) => p);
      if (behind.length === 0) break;
      await Promise.race(behind);
    }
    clock = Math.max(clock, tsMs);
    const prev = chains.get(subject) ?? Promise.resolve();
    const run = prev.then(() => handle(subject, data, attempt));
    chains.set(subject, run);
    inflight.add(run);
    startedAt.set(run, tsMs);
    void run.finally(() => {
      inflight.delete(run);
      startedAt.delete(run);
      if (chains.get(subject) === run) chains.delete(subject);
    });
  };
  const drain = async () => {
    while (inflight.size) await Promise.all([...inflight]);
  };

  let nextTick = 0;
  for await (const m of readStream(o.bus, FARO_CLEAN.name, filter, o.from, last)) {
    if (failure) break;
    if (nextTick === 0) nextTick = m.tsMs + settings.scanIntervalMs;
    while (m.tsMs >= nextTick) {
      clock = Math.max(clock, nextTick);
      await processor.tick();
      nextTick += settings.scanIntervalMs;
    }
    // An Event whose object was unknown is retried after later messages, as the live consumer's delayed redelivery.
    for (let i = 0; i < retries.length; ) {
      const r = retries[i]!;
      if (r.dueMs > m.tsMs) i++;
      else {
        retries.splice(i, 1);
        await dispatch(r.subject, r.data, r.attempt, r.dueMs);
      }
    }
    // As the live service: object versions carry no delivery count (never told early), Events and logs their first delivery.
    await dispatch(m.subject, m.data, m.subject.split(".")[6] === "obj" ? Number.POSITIVE_INFINITY : 1, m.tsMs);
    result.messages++;
    if (result.messages % 1000 === 0) o.onProgress?.(result.messages, last - first + 1);
  }
  await drain();
  for (let round = 0; retries.length && round <= settings.unknownObjectRetries; round++) {
    for (const r of retries.splice(0)) await dispatch(r.subject, r.data, r.attempt, Math.max(clock, r.dueMs));
    await drain();
  }
  if (failure) throw failure;
  await processor.tick();

  const insights = await readInsights(o.bus, o.cluster);
  for (const [key, w] of windows) {
    const storyId = key.slice(0, key.lastIndexOf("|"));
    const built = buildStoryFile(w.entries, contexts.get(storyId) ?? [], o.limits, insights.get(storyId) ?? []);
    const f = built.file;
    const file = storyFilePath(o.dir, f.namespace, f.storyId, f.window);
    const v = validateStoryFile(f);
    if (!v.ok) {
      result.invalid.push({ file, errors: v.errors.map(String) });
      continue;
    }
    fs.mkdirSync(path.dirname(file), { recursive: true });
    await writeFileAtomic(file, built.json);
    result.files.push(file);
  }
  result.files.sort();
  return result;
}

/** The analyzer's insights of the cluster by story id (read only; FARO_INSIGHT keeps them 30 days). */
async function readInsights(bus: Bus, cluster: string): Promise<Map<string, Insight[]>> {
  const out = new Map<string, Insight[]>();
  const filter = insightFilter({ cluster });
  // No FARO_INSIGHT stream (the analyzer never ran) means no insights, as for the writer.
  const newest = await bus.jsm.streams.getMessage(FARO_INSIGHT.name, { last_by_subj: filter }).catch(() => null);
  if (!newest) return out;
  for await (const m of readStream(bus, FARO_INSIGHT.name, filter, { kind: "start" }, newest.seq)) {
    try {
      const i = decodeInsight(m.data);
      const list = out.get(i.storyId) ?? [];
      list.push(i);
      out.set(i.storyId, list);
    } catch {
      // The writer skips undecodable insights too; the story goes without it.
    }
  }
  return out;
}
