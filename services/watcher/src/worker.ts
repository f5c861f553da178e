// One resource type's life in the watcher: seed from Redis, list+watch cluster-wide, filter, publish within
// the window (dead-letter what cannot be encoded), commit acked states in watch order, and restart from the
// acked state when publishing gives up.
import { FARO_RAW, type WatchType } from "@faro/contracts";
import { isTransientPublishError, PublishError, StoppedError, type Publisher } from "@faro/bus";
import { ResilientWatch, resourceName, type KnownObject, type KubeAccess, type ResourceInfo, type WatchEvent } from "@faro/kube";
import type { DeadLetterRequest } from "@faro/kernel";
import { backoffDelay, sleep, type Semaphore } from "@faro/primitives";
import type { Logger } from "pino";
import type { Registry } from "prom-client";
import type { ServiceMetrics } from "@faro/observability";
import { encodeChange, encodeEvent, involvedOf, involvedUid, unencodableDeadLetter, type InvolvedIdentity, type Outgoing } from "./encode.js";
import { labelsJson, type LabelMemory } from "./labels.js";
import type { WatcherMetrics } from "./metrics.js";
import type { Selection, WatchRole } from "./selection.js";
import { CommitLog, type RememberedObject, type StateStore } from "./state.js";

export interface WorkerContext {
  kc: KubeAccess;
  cluster: string;
  selection: Selection;
  publisher: Publisher;
  /** The kernel's dead letters (faro.v1.dlq.watcher.<stage>): throws when one cannot be stored. */
  deadLetter: (request: DeadLetterRequest) => Promise<void>;
  /** The publish window: a watch handler waits here for room (backpressure). */
  slots: Semaphore;
  store: StateStore;
  /** Labels of published objects by uid, shared by every worker: object workers fill it, the Event worker reads it. */
  labels: LabelMemory;
  logger: Logger;
  registry: Registry;
  metrics: WatcherMetrics;
  service: ServiceMetrics;
  watch: { watchdogMs: number; timeoutSeconds: number; pageSize: number; backoffMaxMs: number };
  /** Called for every CustomResourceDefinition change seen live (not for the initial list). */
  onCrdChange?: (ev: WatchEvent) => void;
}

export class ResourceWorker {
  readonly name: string;
  private gen = 0;
  private watch: ResilientWatch | undefined;
  private log = new CommitLog();
  private readonly inflight = new Set<Promise<void>>();
  /** Events only: involved kind/name per uid, for DELETEDs that arrive as stubs after a relist. */
  private readonly involved = new Map<string, InvolvedIdentity>();
  private stopped = false;
  private stopping: Promise<void> | undefined;
  private restarting: Promise<void> | undefined;
  private flushing: Promise<void> = Promise.resolve();
  private readonly lg: Logger;
  /** Aborted by stop(): ends a retry pause at once. */
  private readonly halt = new AbortController();

  constructor(
    private readonly ctx: WorkerContext,
    readonly info: ResourceInfo,
    readonly role: WatchRole,
  ) {
    this.name = resourceName(info);
    this.lg = ctx.logger.child({ resource: this.name });
  }

  /** False while restarting from Redis: nothing is being delivered then. */
  get synced(): boolean {
    return !this.restarting && !this.stopped && (this.watch?.isSynced ?? false);
  }

  get objects(): number {
    return this.watch?.size ?? 0;
  }

  /** Starts in the background: loads the remembered state (retrying while Redis is down), then watches. */
  start(): void {
    void this.startGeneration(0);
  }

  private async startGeneration(attempt: number): Promise<void> {
    const gen = ++this.gen;
    let remembered: Map<string, RememberedObject>;
    for (let i = attempt; ; i++) {
      if (this.stopped || gen !== this.gen) return;
      try {
        remembered = await this.ctx.store.load(this.name);
        break;
      } catch (err) {
        this.ctx.service.errors.inc({ kind: "redis" });
        const delay = backoffDelay(i + 1, { baseMs: 250, maxMs: this.ctx.watch.backoffMaxMs, jitter: 0.2 });
        this.lg.warn({ err, delayMs: delay }, "cannot load remembered state from Redis; retrying");
        await sleep(delay, this.halt.signal);
      }
    }
    if (this.stopped || gen !== this.gen) return;
    this.log = new CommitLog();
    const initial = new Map<string, KnownObject>();
    this.involved.clear();
    for (const [uid, r] of remembered) {
      initial.set(uid, { resourceVersion: r.resourceVersion, name: r.name, ...(r.namespace ? { namespace: r.namespace } : {}) });
      if (this.role === "events" && r.extra) this.involved.set(uid, { kind: r.extra[0], name: r.extra[1] });
      // The list re-emits nothing unchanged: labels of objects that did not change while we were down come from here.
      else if (r.labels) this.ctx.labels.seed(uid, r.labels);
    }
    this.lg.debug({ remembered: initial.size }, "starting list+watch");
    const log = this.log;
    this.watch = new ResilientWatch(this.ctx.kc, {
      resource: this.info,
      onEvent: (ev) => this.onEvent(ev, gen, log),
      // An object without identity cannot be tracked by the watch: it takes the unencodable path (dead letter).
      onMalformed: (ev) => this.onEvent(ev, gen, log),
      initialState: initial,
      // Only uid → rv is kept per object: the watcher's memory must not grow with object sizes.
      retainObjects: false,
      pageSize: this.ctx.watch.pageSize,
      timeoutSeconds: this.ctx.watch.timeoutSeconds,
      watchdogMs: this.ctx.watch.watchdogMs,
      backoff: { maxMs: this.ctx.watch.backoffMaxMs },
      logger: this.ctx.logger, // ResilientWatch adds resource and namespace itself
      registry: this.ctx.registry,
    }).start();
  }

  private async onEvent(ev: WatchEvent, gen: number, log: CommitLog): Promise<void> {
    if (gen !== this.gen) return;
    if (this.ctx.onCrdChange && ev.origin !== "list") this.ctx.onCrdChange(ev);
    const m = ev.object.metadata;
    const ns = this.info.namespaced ? (m.namespace ?? "") : "";
    const accepted = this.role === "events" ? this.ctx.selection.acceptsEvent(ns) : this.ctx.selection.accepts(this.info, ns);
    if (!accepted) {
      this.ctx.metrics.filtered.inc({ resource: this.name });
      this.ctx.service.messagesDropped.inc({ reason: "filtered" });
      // Forget a deleted object even when it is not published (any more): the hash must not keep it forever.
      if (ev.type === "DELETED") {
        log.done(log.push(m.uid, null, m.resourceVersion));
        if (this.role === "objects") this.ctx.labels.forget(m.uid);
      }
      return;
    }
    let out: Outgoing | undefined;
    let value: RememberedObject | null = null;
    let unencodable: DeadLetterRequest | undefined;
    try {
      const now = Date.now();
      if (this.role === "events") {
        const remembered = this.involved.get(m.uid);
        // Labels only when the involved object was seen first; an Event is never held back waiting for it.
        const labels = this.ctx.labels.labelsOf(involvedUid(ev.object));
        out = encodeEvent(this.ctx.cluster, ev.type as WatchType, ev.object, now, remembered, labels);
        const inv = involvedOf(ev.object) ?? remembered;
        if (ev.type === "DELETED") this.involved.delete(m.uid);
        else if (inv) this.involved.set(m.uid, inv);
        if (ev.type !== "DELETED") value = { resourceVersion: m.resourceVersion, name: m.name, namespace: ns, extra: [inv?.kind ?? "", inv?.name ?? ""] };
      } else {
        out = encodeChange(this.ctx.cluster, this.info, ev.type as WatchType, ev.object, now);
        if (ev.type === "DELETED") this.ctx.labels.forget(m.uid);
        else {
          const labels = this.ctx.labels.capacity > 0 ? this.ctx.labels.remember(m.uid, labelsJson(m.labels)) : "";
          value = { resourceVersion: m.resourceVersion, name: m.name, namespace: ns, ...(labels ? { labels } : {}) };
        }
      }
    } catch (err) {
      // An object without identity cannot be published or deduplicated on FARO_RAW: count it, say so, and
      // dead-letter it. It is never committed to Redis, so a restart or relist offers it again.
      this.ctx.service.messagesDropped.inc({ reason: "unencodable" });
      this.ctx.service.errors.inc({ kind: "encode" });
      this.lg.error({ err, uid: m.uid, name: m.name }, "a change cannot be encoded; dead-lettered instead of published");
      unencodable = unencodableDeadLetter(this.info, ev.type as WatchType, ev.object, err);
    }
    // Backpressure: the watch does not read further until the window has room.
    await this.ctx.slots.acquire();
    this.ctx.metrics.inflight.set(this.ctx.slots.inUse);
    let sent: Promise<void>;
    if (out) {
      const o = out;
      const entry = log.push(m.uid, value, m.resourceVersion);
      const type = ev.type;
      sent = this.ctx.publisher.publish(o.subject, o.data, { msgId: o.msgId, expectStream: FARO_RAW.name }).then(
        (ack) => {
          if (ack.duplicate) this.ctx.metrics.duplicates.inc({ resource: this.name });
          else {
            this.ctx.metrics.published.inc({ resource: this.name, type });
            this.ctx.service.messagesOut.inc();
          }
          log.done(entry);
        },
        (err: unknown) => this.onPublishFailure(err, gen, log, entry, { subject: o.subject, msgId: o.msgId }),
      );
    } else {
      const dl = unencodable!;
      sent = this.ctx.deadLetter(dl).then(
        () => undefined,
        (err: unknown) => this.onPublishFailure(err, gen, log, undefined, { deadLetter: dl.originalSubject, key: String(dl.key) }),
      );
    }
    const p = sent.finally(() => {
      this.ctx.slots.release();
      this.ctx.metrics.inflight.set(this.ctx.slots.inUse);
      this.inflight.delete(p);
    });
    this.inflight.add(p);
  }

  /** `entry` is the commit-log entry of a FARO_RAW publish; a dead letter has none (it is never committed). */
  private onPublishFailure(err: unknown, gen: number, log: CommitLog, entry: Parameters<CommitLog["done"]>[0] | undefined, about: Record<string, string>): void {
    if (err instanceof StoppedError) {
      // Shutting down: not committed, so the next start publishes it again (JetStream dedupes if it got there).
      log.block();
      return;
    }
    const cause = err instanceof PublishError ? err.cause : err;
    if (!isTransientPublishError(cause)) {
      // The server refuses this message (e.g. larger than the stream allows): retrying cannot help.
      this.ctx.metrics.publishErrors.inc({ resource: this.name, kind: "rejected" });
      // A rejected dead letter's change was counted as dropped (unencodable) already.
      if (entry) this.ctx.service.messagesDropped.inc({ reason: "publish_rejected" });
      this.ctx.service.errors.inc({ kind: "publish" });
      this.lg.error({ err, ...about }, "JetStream rejected a change; dropped and counted");
      if (entry) log.done(entry);
      return;
    }
    this.ctx.metrics.publishErrors.inc({ resource: this.name, kind: "gave_up" });
    this.ctx.service.errors.inc({ kind: "publish" });
    log.block();
    if (gen === this.gen) void this.restart("publish_failed", err);
  }

  /**
   * Starts over from what Redis says was acked: the new watch relists and publishes every state after it
   * (already stored ones are dropped by JetStream's duplicate window).
   */
  private restart(reason: string, err: unknown): Promise<void> {
    this.restarting ??= (async () => {
      this.lg.error({ err, reason }, "publishing gave up; restarting the watch from the acked state in Redis");
      this.ctx.metrics.watchResets.inc({ resource: this.name, reason });
      this.gen++;
      await this.watch?.stop();
      this.watch = undefined;
      await Promise.allSettled([...this.inflight]);
      await this.flush();
      await sleep(Math.min(this.ctx.watch.backoffMaxMs, 1000), this.halt.signal);
      this.restarting = undefined;
      if (!this.stopped) await this.startGeneration(0);
    })();
    return this.restarting;
  }

  /** Writes committed states to Redis; a failed write is put back and retried by the next flush. */
  flush(): Promise<void> {
    this.flushing = this.flushing.then(async () => {
      const log = this.log;
      const batch = log.drain();
      if (batch.size === 0) return;
      try {
        await this.ctx.store.apply(this.name, batch);
        this.ctx.metrics.stateWrites.inc({ result: "ok" });
      } catch (err) {
        log.restore(batch);
        this.ctx.metrics.stateWrites.inc({ result: "error" });
        this.ctx.service.errors.inc({ kind: "redis" });
        this.lg.warn({ err, entries: batch.size }, "writing acked resourceVersions to Redis failed; will retry");
      }
    });
    return this.flushing;
  }

  /** Acked changes not yet in Redis. */
  get pending(): number {
    return this.log.pending.size;
  }

  /** Stops the watch, waits for publishes in flight and writes their acked states. Idempotent. */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      this.stopped = true;
      this.halt.abort();
      await this.restarting;
      await this.watch?.stop();
      await Promise.allSettled([...this.inflight]);
      await this.flush();
      this.involved.clear();
    })();
    return this.stopping;
  }
}
