// One container instance's log stream, run while this replica holds its lease: reads the log from the
// checkpoint, batches lines, and publishes each batch behind a pending intent so a resume re-publishes it exactly.
import type { Publisher } from "@faro/bus";
import { buildRawSubject, busMsgId, encodeLogBatch, logBatchId, type LogLine, type LogSource, type UnreadReason } from "@faro/contracts";
import { followLogs, textBytes, type KubeAccess, type LogLine as KubeLogLine } from "@faro/kube";
import { backoffDelay, sleep } from "@faro/primitives";
import type { Logger } from "pino";
import type { LineBudget } from "./budget.js";
import { LeaseLostError, LogStreamerError } from "./errors.js";
import { instanceKey, planRead, type PodLike, type ReadPlan, type WantedInstance } from "./instances.js";
import { ResumeFilter, advanceBy, limitLine, lineBytes, normalizeTimestamp, tailOf, timestampMs, type Position, type Tail } from "./lines.js";
import type { LogStreamerMetrics } from "./metrics.js";
import type { BusPosition } from "./recovery.js";
import type { Checkpoint, PendingBatch, StreamState } from "./state.js";

export interface StreamSettings {
  batchLines: number;
  batchBytes: number;
  flushMs: number;
  maxLineBytes: number;
  readMaxLineBytes: number;
  retryDelayMs: number;
  /** Give up on an instance whose status keeps saying it has not started (then counted as lost). */
  maxWaitMs: number;
}

export interface StreamContext {
  kc: KubeAccess;
  /** Bytes of lines buffered or in flight, across all streams of the replica. */
  budget: LineBudget;
  state: StreamState;
  publisher: Publisher;
  metrics: LogStreamerMetrics;
  logger: Logger;
  cluster: string;
  settings: StreamSettings;
  /** A fresh copy of the pod (undefined when it does not exist). */
  getPod(namespace: string, name: string, signal: AbortSignal): Promise<PodLike | undefined>;
  /** How far the instance's stream got on the bus (undefined: nothing published), for a checkpoint lost with Redis' state. */
  positionOnBus(info: WantedInstance): Promise<BusPosition | undefined>;
  /**
   * Whether a stream without a checkpoint must ask the bus first: its instance was registered again after the state
   * was lost (`info.recovered`), or the state was lost recently (a pod change may register an instance that had a
   * checkpoint before the recovery flags it).
   */
  mayHaveLostCheckpoint(info: WantedInstance, epoch: string): boolean;
}

export type StreamOutcome = "complete" | "gone" | "lost" | "lease_lost" | "stopped";

type ReadMode = "follow" | "final" | "previous";

/** An encoded batch and what its commit and metrics need of its lines. */
interface EncodedBatch {
  data: Uint8Array;
  count: number;
  bytes: number;
  truncated: number;
  tail: Tail | undefined;
}

/** One read of the log API: its own buffer and at most one batch in flight. */
interface ReadRun {
  source: LogSource;
  final: boolean;
  buf: LogLine[];
  bufBytes: number;
  /** Bytes this read holds of the shared budget (buffered + in flight). */
  held: number;
  inflight: Promise<void> | undefined;
  timer: NodeJS.Timeout | undefined;
  failed: unknown;
  /** The API read ended: no batch starts by itself any more (the reader publishes the rest in order). */
  closing: boolean;
  waiters: Array<() => void>;
  abort: AbortController;
}

/** Longest wait between re-reads of a stream (streams.retryDelay doubles up to it). */
const MAX_RETRY_MS = 5000;

export class InstanceStream {
  readonly key: string;
  private info: WantedInstance;
  private seq: number;
  private pos: Position;
  private pend: PendingBatch | undefined;
  private finished = false;
  /** One batch at a time per instance: seq numbers are assigned at publish, so overlap would reuse them. */
  private publishing = false;
  private readonly alreadyDone: boolean;
  /** No checkpoint existed: before the first read, check whether the bus knows the instance (lost state). */
  private fresh: boolean;
  private readonly epoch: string;
  /** The position came from the bus: lines after it may have gone with the pod. */
  private fromBus = false;
  private stopRequested = false;
  /**
   * Aborts what the stream waits on now (a pod read, a log read, a sleep). stop() aborts it directly: a
   * stream-wide signal with a listener per operation would cost two maps and a listener per open stream.
   */
  private op: AbortController | undefined;

  constructor(
    info: WantedInstance,
    cp: Checkpoint,
    private readonly ctx: StreamContext,
  ) {
    this.info = info;
    this.key = instanceKey(info);
    this.seq = cp.seq;
    this.pos = cp.pos;
    this.pend = cp.pend;
    this.alreadyDone = cp.done;
    this.fresh = cp.fresh && !cp.done && cp.seq === 0 && !cp.pend;
    this.epoch = cp.epoch;
  }

  /**
   * Takes the lease back after it expired or vanished with Redis' state, writing the checkpoint held in memory.
   * False when another replica has taken the stream over meanwhile (then this one stops).
   */
  async reclaim(): Promise<boolean> {
    if (this.stopRequested) return false;
    const res = await this.ctx.state.reclaim(this.info, this.key, { seq: this.seq, pos: this.pos, pend: this.pend });
    if (res === "reclaimed") {
      this.ctx.metrics.recovered.inc({ from: "memory" });
      this.log.info({ seq: this.seq, pending: this.pend }, "lease reclaimed, checkpoint rewritten from memory");
    }
    return res !== "lost";
  }

  /** Stops reading at once (stop, or the lease is lost); run() then resolves. */
  stop(): void {
    this.stopRequested = true;
    this.op?.abort();
  }

  /** A controller for the next operation, already aborted when the stream was stopped. */
  private begin(): AbortController {
    const op = new AbortController();
    if (this.stopRequested) op.abort();
    this.op = op;
    return op;
  }

  private opDone(op: AbortController): void {
    if (this.op === op) this.op = undefined;
  }

  /** A logger naming the instance, made when something is logged: a child logger per open stream costs memory. */
  private get log(): Logger {
    const { info } = this;
    return this.ctx.logger.child({ pod: info.pod, namespace: info.namespace, container: info.container, restartCount: info.restartCount });
  }

  get stopped(): boolean {
    return this.stopRequested;
  }

  async run(): Promise<StreamOutcome> {
    const { state, settings } = this.ctx;
    if (this.alreadyDone) {
      await state.finish(this.key, { seq: this.seq, pos: this.pos });
      return "complete";
    }
    // Thousands of streams may fail together (an API server restart): jitter spreads their re-reads.
    const backoff = { baseMs: settings.retryDelayMs, maxMs: Math.max(MAX_RETRY_MS, settings.retryDelayMs), jitter: 0.2 };
    let attempt = 0;
    let waitingSince = 0;
    while (!this.stopped) {
      try {
        if (this.finished) return await this.complete();
        const plan = await this.nextPlan();
        if (this.stopped) break;
        if (plan.kind !== "wait") waitingSince = 0;
        if (this.fresh && plan.kind !== "wait") {
          if (this.ctx.mayHaveLostCheckpoint(this.info, this.epoch)) await this.recoverFromBus();
          this.fresh = false;
          if (this.finished) return await this.complete();
        }
        switch (plan.kind) {
          case "follow": {
            const fresh = await this.read("follow", undefined);
            this.fromBus = false;
            if (this.finished) return await this.complete();
            if (fresh > 0) attempt = 0;
            // The stream ended without news while the status still says running: the status lags the
            // container's exit, or the connection broke. Look again shortly.
            else await this.sleep(backoffDelay(++attempt, backoff));
            break;
          }
          case "final":
          case "previous":
            await this.read(plan.kind, plan.bound);
            if (this.stopped) break;
            return await this.complete();
          case "wait":
            waitingSince ||= Date.now();
            if (Date.now() - waitingSince > settings.maxWaitMs) return await this.end("lost", plan.reason);
            await this.sleep(backoffDelay(++attempt, backoff));
            break;
          case "gone":
            return await this.end("gone", "pod is gone");
          case "lost":
            return await this.end("lost", plan.reason);
        }
      } catch (err) {
        if (err instanceof LeaseLostError) {
          // Expired (this replica was slow) or gone with Redis' state: take it back unless another replica has it.
          if (!this.stopped && (await this.reclaim().catch(() => false))) {
            await this.sleep(backoffDelay(++attempt, backoff));
            continue;
          }
          this.ctx.metrics.leasesLost.inc();
          this.log.warn({ instance: this.key }, "lease lost, stream stopped");
          return "lease_lost";
        }
        if (this.stopped) break;
        const kind = errorKind(err);
        const delay = backoffDelay(++attempt, backoff);
        this.ctx.metrics.readErrors.inc({ kind });
        // A 404 is the pod going away under a read: the next status read says "gone". Not worth a warning.
        this.log[kind === "api_404" ? "debug" : "warn"]({ err, retryInMs: delay }, "log stream failed, resuming from the checkpoint");
        if (!(await this.reload())) {
          this.ctx.metrics.leasesLost.inc();
          return "lease_lost";
        }
        await this.sleep(delay);
      }
    }
    return "stopped";
  }

  /**
   * Reads the pod and decides what to do. Only the plan (and a terminated instance's bound) leaves this frame:
   * a pod object kept by the suspended run() for as long as its stream is followed costs several KiB per stream.
   */
  private async nextPlan(): Promise<ReadPlan & { bound?: string }> {
    const op = this.begin();
    let pod: PodLike | undefined;
    try {
      pod = await this.ctx.getPod(this.info.namespace, this.info.pod, op.signal);
    } finally {
      this.opDone(op);
    }
    this.refreshInfo(pod);
    const plan = planRead(pod, this.info);
    if (plan.kind !== "final" && plan.kind !== "previous") return plan;
    return { ...plan, bound: finishedBound(pod!, this.info.container, plan.kind === "previous") };
  }

  /**
   * The instance has no checkpoint but may have had one in a Redis state that was lost: continue from what its
   * batches on the bus say (or end at once when its endOfStream is there) instead of reading it again from the start.
   */
  private async recoverFromBus(): Promise<void> {
    const found = await this.ctx.positionOnBus(this.info);
    if (!found) {
      this.ctx.metrics.recovered.inc({ from: "none" });
      return;
    }
    this.ctx.metrics.recovered.inc({ from: "bus" });
    this.seq = found.seq;
    this.pos = found.pos;
    this.pend = undefined;
    this.fromBus = true;
    if (found.done) this.finished = true;
    this.log.info({ seq: found.seq, done: found.done, batches: found.batches }, "checkpoint missing: continuing from the instance's batches on the bus");
    // Written at once: a replica that takes over from here must not start over either.
    if (!found.done) await this.ctx.state.write(this.key, { seq: this.seq, pos: this.pos, pend: undefined });
  }

  /** A newer pod change of a followed instance: later batches carry its labels (and node). */
  updateFrom(info: WantedInstance): void {
    if (info.podUid !== this.info.podUid) return;
    if (info.node) this.info.node = info.node;
    this.info.podLabels = info.podLabels;
  }

  private refreshInfo(pod: PodLike | undefined): void {
    if (!pod || pod.metadata.uid !== this.info.podUid) return;
    if (pod.spec?.nodeName) this.info.node = pod.spec.nodeName;
    if (pod.metadata.labels) this.info.podLabels = { ...pod.metadata.labels };
  }

  /** After a failure the Redis checkpoint is the truth (a write may or may not have happened). */
  private async reload(): Promise<boolean> {
    try {
      const cp = await this.ctx.state.acquire(this.key);
      // Not ours now: expired, or gone with Redis' state (then reclaimed with the checkpoint in memory).
      if (!cp) return await this.reclaim();
      // A checkpoint that vanished under a lease held again: the one in memory is the truth (the next write restores it).
      if (cp.fresh && (this.seq > 0 || this.pend)) return true;
      this.seq = cp.seq;
      this.pos = cp.pos;
      this.pend = cp.pend;
    } catch (err) {
      this.ctx.metrics.service.errors.inc({ kind: "redis" });
      this.log.warn({ err }, "reloading the checkpoint failed; keeping the one in memory");
    }
    return true;
  }

  /** Waits `ms`, or less when the stream is stopped meanwhile. */
  private async sleep(ms: number): Promise<void> {
    if (this.stopped) return;
    const op = this.begin();
    try {
      await sleep(ms, op.signal);
    } finally {
      this.opDone(op);
    }
  }

  /**
   * Reads the log once from the checkpoint. Returns how many new lines it saw. `follow` keeps reading
   * until the API ends the stream (the container stopped or the connection broke); `final` and
   * `previous` read what is there and end the instance's stream with endOfStream.
   */
  private async read(mode: ReadMode, bound: string | undefined): Promise<number> {
    const { settings } = this.ctx;
    const run: ReadRun = {
      source: mode === "previous" ? "previous" : "follow",
      final: mode !== "follow",
      buf: [],
      bufBytes: 0,
      held: 0,
      inflight: undefined,
      timer: undefined,
      failed: undefined,
      closing: false,
      waiters: [],
      abort: this.begin(),
    };
    const filter = new ResumeFilter(this.pos);
    let replay: { pend: PendingBatch; lines: LogLine[] } | undefined = this.pend ? { pend: this.pend, lines: [] } : undefined;
    let fresh = 0;
    let beyond = false;

    const onLine = (l: KubeLogLine): void | Promise<void> => {
      if (beyond || this.finished || run.failed !== undefined) return;
      const { ts, fresh: isNew } = filter.accept(l.timestamp);
      if (!isNew) return;
      if (bound !== undefined && ts >= bound) {
        // A later instance's line (the container restarted again between the status read and this read).
        beyond = true;
        run.abort.abort();
        return;
      }
      fresh++;
      const line = limitLine(l.text, ts, settings.maxLineBytes, l.truncated ? (textBytes(l) ?? settings.readMaxLineBytes) : undefined);
      if (replay) {
        replay.lines.push(line);
        if (replay.lines.length >= replay.pend.count) {
          const r = replay;
          replay = undefined;
          return this.publishReplay(r.pend, r.lines);
        }
        return;
      }
      return this.add(run, line);
    };

    try {
      if (replay && replay.pend.count === 0) {
        const r = replay;
        replay = undefined;
        await this.publishReplay(r.pend, []);
      }
      if (!this.finished) {
        await followLogs(
          this.ctx.kc,
          {
            namespace: this.info.namespace,
            pod: this.info.pod,
            container: this.info.container,
            follow: mode === "follow",
            previous: mode === "previous",
            timestamps: true,
            sinceTime: this.pos.ts || undefined,
            maxLineBytes: settings.readMaxLineBytes,
          },
          onLine,
          run.abort.signal,
        );
      }
      run.closing = true;
      clearTimeout(run.timer);
      while (run.inflight) await run.inflight;
      if (run.failed !== undefined) throw run.failed;
      if (this.stopped || this.finished) return fresh;
      if (replay) {
        // The log ended before the pending batch was complete. A follow is retried; a final read cannot get more.
        if (!run.final) return fresh;
        this.unrecoverable(replay.pend);
      }
      if (run.final) {
        await this.publishRest(run, true);
        this.finished = true;
      } else {
        await this.publishRest(run, false);
      }
      return fresh;
    } finally {
      run.closing = true;
      clearTimeout(run.timer);
      this.opDone(run.abort);
      for (const w of run.waiters.splice(0)) w();
      // Whatever happened, no publish of this read may still be running when the next read starts.
      while (run.inflight) await run.inflight.catch(() => undefined);
      this.ctx.budget.give(run.held);
      run.held = 0;
    }
  }

  /** Buffers a line; starts a batch when due; returns a promise (backpressure) while the buffer is over its bound. */
  private add(run: ReadRun, line: LogLine): void | Promise<void> {
    const { batchLines, batchBytes, flushMs } = this.ctx.settings;
    const { budget } = this.ctx;
    const b = lineBytes(line);
    run.buf.push(line);
    run.bufBytes += b;
    run.held += b;
    budget.take(b);
    // With the shared budget spent, a partial batch goes out now so this stream can free its share.
    const full = run.buf.length >= batchLines || run.bufBytes >= batchBytes || budget.exhausted;
    if (!run.inflight && !run.closing) {
      if (full) this.startBatch(run);
      else if (!run.final && !run.timer) {
        run.timer = setTimeout(() => {
          run.timer = undefined;
          if (!run.inflight && !run.closing && run.buf.length > 0) this.startBatch(run);
        }, flushMs);
      }
    }
    if (run.buf.length >= 2 * batchLines || run.bufBytes >= 2 * batchBytes) {
      return new Promise<void>((resolve) => run.waiters.push(resolve));
    }
    if (budget.exhausted) return budget.wait(run.abort.signal);
  }

  /** Takes one batch off the buffer and publishes it; when done, the next one goes at once if lines waited. */
  private startBatch(run: ReadRun): void {
    clearTimeout(run.timer);
    run.timer = undefined;
    const lines = this.take(run);
    const bytes = sumBytes(lines);
    run.inflight = this.publishBatch(lines, run.source, false).then(
      () => {
        run.inflight = undefined;
        run.held -= bytes;
        this.ctx.budget.give(bytes);
        const { batchLines, batchBytes } = this.ctx.settings;
        if (run.buf.length < 2 * batchLines && run.bufBytes < 2 * batchBytes) for (const w of run.waiters.splice(0)) w();
        if (run.closing || run.abort.signal.aborted || run.buf.length === 0) return;
        // Lines that arrived while a batch was in flight have waited long enough; a final read keeps the
        // remainder for its endOfStream batch.
        const full = run.buf.length >= batchLines || run.bufBytes >= batchBytes || this.ctx.budget.exhausted;
        if (full || !run.final) this.startBatch(run);
      },
      (err: unknown) => {
        run.inflight = undefined;
        run.failed = err;
        run.abort.abort();
        for (const w of run.waiters.splice(0)) w();
      },
    );
  }

  private take(run: ReadRun): LogLine[] {
    const { batchLines, batchBytes } = this.ctx.settings;
    let n = 0;
    let bytes = 0;
    while (n < run.buf.length && n < batchLines) {
      const b = lineBytes(run.buf[n]!);
      if (n > 0 && bytes + b > batchBytes) break;
      bytes += b;
      n++;
    }
    run.bufBytes -= bytes;
    return run.buf.splice(0, n);
  }

  /** Publishes what is left in the buffer; with eos the last batch (possibly empty) ends the instance's stream. */
  private async publishRest(run: ReadRun, eos: boolean): Promise<void> {
    while (run.buf.length > 0) {
      const next = this.publishNext(run, eos);
      await next.sent;
      run.held -= next.bytes;
      this.ctx.budget.give(next.bytes);
      if (eos && next.last) return;
    }
    if (eos) await this.publishBatch([], "follow", true);
  }

  /** Takes and starts the next batch of a read's rest (not in publishRest's frame, which would keep its lines until the ack). */
  private publishNext(run: ReadRun, eos: boolean): { sent: Promise<void>; bytes: number; last: boolean } {
    const lines = this.take(run);
    const last = run.buf.length === 0;
    return { sent: this.publishBatch(lines, run.source, eos && last), bytes: sumBytes(lines), last };
  }

  /**
   * Intent, publish, and (unless another intent follows at once) commit of one batch. The batch is encoded
   * first, so its lines are garbage while it is in flight: a burst on a thousand streams would otherwise hold
   * every in-flight batch's line objects until its ack.
   */
  private publishBatch(lines: LogLine[], source: LogSource, eos: boolean, unread: UnreadReason = ""): Promise<void> {
    // An empty endOfStream marker always says "follow", so whoever ends the stream gives it the same id.
    const pend: PendingBatch = { seqStart: this.seq, count: lines.length, source: lines.length === 0 ? "follow" : source, eos, ...(unread ? { unread } : {}) };
    return this.publishEncoded(pend, this.encode(pend, lines));
  }

  private async publishEncoded(pend: PendingBatch, batch: EncodedBatch): Promise<void> {
    // The intent carries the commit of the previous batch: one Redis round trip per batch.
    await this.ctx.state.write(this.key, { seq: this.seq, pos: this.pos, pend });
    this.pend = pend;
    await this.publishLines(pend, batch, false);
    this.commitInMemory(pend, batch);
    if (!pend.eos) await this.ctx.state.write(this.key, { seq: this.seq, pos: this.pos, pend: undefined });
  }

  private publishReplay(pend: PendingBatch, lines: LogLine[]): Promise<void> {
    return this.publishReplayEncoded(pend, this.encode(pend, lines));
  }

  private async publishReplayEncoded(pend: PendingBatch, batch: EncodedBatch): Promise<void> {
    await this.publishLines(pend, batch, true);
    this.commitInMemory(pend, batch);
    if (!pend.eos) await this.ctx.state.write(this.key, { seq: this.seq, pos: this.pos, pend: undefined });
  }

  private commitInMemory(pend: PendingBatch, batch: EncodedBatch): void {
    this.pos = advanceBy(this.pos, batch.tail);
    this.seq = pend.seqStart + batch.count;
    this.pend = undefined;
    if (pend.eos) this.finished = true;
  }

  /** A pending batch whose lines can no longer be read: assume it went out, so numbering stays unique. */
  private unrecoverable(pend: PendingBatch): void {
    this.ctx.metrics.replays.inc({ outcome: "unrecoverable" });
    this.log.warn({ pend }, "pending batch cannot be re-read; assuming it was published");
    this.seq = pend.seqStart + pend.count;
    this.pend = undefined;
  }

  private async publishLines(pend: PendingBatch, batch: EncodedBatch, replay: boolean): Promise<void> {
    if (this.publishing) throw new LogStreamerError(`${this.key}: two batches in flight at once (seq ${pend.seqStart})`);
    this.publishing = true;
    try {
      await this.sendBatch(pend, batch, replay);
    } finally {
      this.publishing = false;
    }
  }

  /** The batch's message, and what its commit and metrics need of its lines. */
  private encode(pend: PendingBatch, lines: LogLine[]): EncodedBatch {
    const { ctx, info } = this;
    let bytes = 0;
    let truncated = 0;
    for (const l of lines) {
      bytes += lineBytes(l);
      if (l.truncated) truncated++;
    }
    const data = encodeLogBatch({
      cluster: ctx.cluster,
      namespace: info.namespace,
      pod: info.pod,
      podUid: info.podUid,
      container: info.container,
      containerType: info.containerType,
      restartCount: info.restartCount,
      source: pend.source,
      seqStart: pend.seqStart,
      lines,
      podOwnerRefs: info.podOwnerRefs,
      node: info.node,
      observedAtMs: Date.now(),
      endOfStream: pend.eos,
      podLabels: info.podLabels,
      ...(pend.unread ? { unreadReason: pend.unread } : {}),
    });
    return { data, count: lines.length, bytes, truncated, tail: tailOf(lines) };
  }

  private async sendBatch(pend: PendingBatch, batch: EncodedBatch, replay: boolean): Promise<void> {
    const { ctx, info } = this;
    const subject = buildRawSubject(ctx.cluster, info.namespace, { category: "log", pod: info.pod, container: info.container });
    const ack = await ctx.publisher.publish(subject, batch.data, {
      msgId: busMsgId(logBatchId(info.podUid, info.container, info.restartCount, pend.seqStart, pend.source), ctx.cluster),
    });
    const m = ctx.metrics;
    if (replay) m.replays.inc({ outcome: ack.duplicate ? "duplicate" : "published" });
    if (ack.duplicate) {
      m.service.messagesDropped.inc({ reason: "duplicate" });
      return;
    }
    m.service.messagesOut.inc();
    m.batches.inc();
    if (batch.count === 0) return;
    m.lines.inc({ source: pend.source }, batch.count);
    m.bytes.inc(batch.bytes);
    if (batch.truncated) m.truncated.inc(batch.truncated);
    const lag = (Date.now() - timestampMs(batch.tail!.ts)) / 1000;
    if (Number.isFinite(lag)) m.lag.observe(Math.max(0, lag));
  }

  /** Ends the stream without reading (pod gone, log no longer served): an endOfStream marker, then finish. */
  private async end(outcome: "gone" | "lost", reason: string): Promise<StreamOutcome> {
    if (this.pend) {
      if (this.pend.count === 0) {
        await this.publishReplay(this.pend, []);
        return await this.complete(outcome);
      }
      this.unrecoverable(this.pend);
    }
    // Nothing read of a pod that is gone, or a log the API no longer serves: the marker says so, and the story shows it.
    let unread: UnreadReason = "";
    // Continued from the bus after Redis lost the state, and the pod went before it could be read again: what it
    // wrote meanwhile is gone with it, and the marker says so.
    if (outcome === "lost" || this.seq === 0 || this.fromBus) {
      unread = outcome === "lost" || this.seq > 0 ? "not_served" : "gone_before_read";
      this.ctx.metrics.linesLost.inc({ reason: unread });
      this.log.warn({ reason, seq: this.seq }, "instance log ends without a full read");
    }
    await this.publishBatch([], "follow", true, unread);
    return await this.complete(outcome);
  }

  private async complete(outcome: StreamOutcome = "complete"): Promise<StreamOutcome> {
    await this.ctx.state.finish(this.key, { seq: this.seq, pos: this.pos });
    if (this.ctx.logger.isLevelEnabled("debug")) this.log.debug({ lines: this.seq, outcome }, "instance stream finished");
    return outcome;
  }
}

/**
 * Exclusive upper bound for line timestamps of a terminated instance: its finishedAt (whole seconds in the
 * API) plus one second. Lines at or after it belong to a later instance.
 */
function finishedBound(pod: PodLike, container: string, previous: boolean): string | undefined {
  const s = pod.status ?? {};
  const st = [...(s.initContainerStatuses ?? []), ...(s.containerStatuses ?? []), ...(s.ephemeralContainerStatuses ?? [])].find((c) => c.name === container);
  const term = previous ? st?.lastState?.terminated : st?.state?.terminated;
  const ms = term?.finishedAt ? Date.parse(term.finishedAt) : NaN;
  if (!Number.isFinite(ms)) return undefined;
  return normalizeTimestamp(new Date(Math.floor(ms / 1000) * 1000 + 1000).toISOString());
}

function sumBytes(lines: LogLine[]): number {
  let n = 0;
  for (const l of lines) n += lineBytes(l);
  return n;
}

function errorKind(err: unknown): string {
  const e = err as { name?: string; code?: number };
  if (e?.name === "KubeApiError") return `api_${e.code ?? "error"}`;
  if (e?.name === "StateError") return "redis";
  if (e?.name === "PublishError") return "publish";
  return "network";
}

export type { ReadPlan };
