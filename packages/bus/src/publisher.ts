// JetStream publisher with a bounded in-flight window, retries under the same Nats-Msg-Id, and metrics.
import { JetStreamApiError, type JetStreamClient, type PubAck } from "@nats-io/jetstream";
import { headers as natsHeaders, type MsgHdrs } from "@nats-io/transport-node";
import { setMaxListeners } from "node:events";
import { backoffDelay, Semaphore, sleep } from "@faro/primitives";
import { pino, type Logger } from "pino";
import type { Registry } from "prom-client";
import { PublishError, StoppedError } from "./errors.js";
import { busMetrics, type BusMetrics } from "./metrics.js";

export interface PublisherOptions {
  js: JetStreamClient;
  /** Metric label of this publisher. Default "publisher". */
  name?: string;
  /** Maximum publishes awaiting a PubAck; further publish() calls wait. Default 1024. */
  window?: number;
  /** Wait for one PubAck attempt. Default 5000 ms. */
  timeoutMs?: number;
  /** Total time a publish keeps retrying transient errors (no responders, timeouts). Default 60 s. */
  retryForMs?: number;
  retryBaseMs?: number;
  retryMaxMs?: number;
  logger?: Logger;
  registry?: Registry;
  metrics?: BusMetrics;
}

export interface PublishOptions {
  /** Deterministic id: JetStream drops a repeat within the stream's duplicate window. Required. */
  msgId: string;
  headers?: Record<string, string> | MsgHdrs;
  /** Fail unless the subject is stored by this stream. */
  expectStream?: string;
}

/** True for failures that may pass on retry: server restarting, JetStream not ready, PubAck timeout. */
export function isTransientPublishError(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  if (err.name === "TimeoutError" || err.name === "JetStreamNotEnabled" || err.name === "NoRespondersError") return true;
  if (err.name === "RequestError" && typeof (err as { isNoResponders?: () => boolean }).isNoResponders === "function") {
    return (err as unknown as { isNoResponders(): boolean }).isNoResponders();
  }
  // 503: JetStream temporarily unavailable (e.g. recovering its store after a restart).
  if (err instanceof JetStreamApiError) return err.status === 503;
  return false;
}

export class Publisher {
  readonly window: number;
  private readonly js: JetStreamClient;
  private readonly name: string;
  private readonly timeoutMs: number;
  private readonly retryForMs: number;
  private readonly retryBaseMs: number;
  private readonly retryMaxMs: number;
  private readonly logger: Logger;
  private readonly metrics: BusMetrics;
  /** The in-flight window: a slot per publish awaiting its PubAck (retries included). */
  private readonly slots: Semaphore;
  private readonly perStream = new Map<string, { published: { inc(): void }; duplicates: { inc(): void } }>();
  private readonly pending = new Set<Promise<unknown>>();
  private readonly abort = new AbortController();
  private closed = false;
  private closing: Promise<void> | undefined;

  constructor(opts: PublisherOptions) {
    this.js = opts.js;
    this.name = opts.name ?? "publisher";
    this.window = Math.max(1, Math.floor(opts.window ?? 1024));
    this.timeoutMs = opts.timeoutMs ?? 5000;
    this.retryForMs = opts.retryForMs ?? 60_000;
    this.retryBaseMs = opts.retryBaseMs ?? 100;
    this.retryMaxMs = opts.retryMaxMs ?? 2000;
    this.logger = (opts.logger ?? pino({ name: "faro-bus", level: "warn" })).child({ component: "publisher", publisher: this.name });
    this.metrics = opts.metrics ?? busMetrics(opts.registry);
    this.metrics.publishWindow.set({ publisher: this.name }, this.window);
    const inflightGauge = this.metrics.publishInflight.labels({ publisher: this.name });
    inflightGauge.set(0);
    this.slots = new Semaphore(this.window, (n) => inflightGauge.set(n));
    // Every publish in the window may sleep between retries with one abort listener on this signal: the
    // window bounds them (more would be a leak worth the warning).
    setMaxListeners(this.window + 1, this.abort.signal);
  }

  /** Publishes awaiting their PubAck. */
  get inflight(): number {
    return this.slots.inUse;
  }

  /**
   * Publishes and resolves with the PubAck (`duplicate` true when JetStream had the msgId already).
   * Waits first while the in-flight window is full. Rejects with PublishError when retries run out.
   */
  publish(subject: string, data: Uint8Array, opts: PublishOptions): Promise<PubAck> {
    if (this.closed) return Promise.reject(new StoppedError(`publisher ${this.name}`));
    if (!opts.msgId) return Promise.reject(new PublishError(subject, "", 0, "msgId is required"));
    const p = this.run(subject, data, opts);
    this.pending.add(p);
    const forget = () => this.pending.delete(p);
    p.then(forget, forget);
    return p;
  }

  /** Resolves when every publish started before the call has settled (failures are the callers' to see). */
  async flush(): Promise<void> {
    while (this.pending.size > 0) {
      await Promise.allSettled([...this.pending]);
    }
  }

  /** Refuses new publishes, waits for those in flight (retries included), then releases. Idempotent. */
  close(): Promise<void> {
    this.closed = true;
    this.closing ??= (async () => {
      await this.flush();
      this.abort.abort();
      this.metrics.publishInflight.set({ publisher: this.name }, 0);
    })();
    return this.closing;
  }

  private streamCounters(stream: string): { published: { inc(): void }; duplicates: { inc(): void } } {
    let c = this.perStream.get(stream);
    if (!c) {
      c = { published: this.metrics.published.labels({ stream }), duplicates: this.metrics.publishDuplicates.labels({ stream }) };
      this.perStream.set(stream, c);
    }
    return c;
  }

  private async run(subject: string, data: Uint8Array, opts: PublishOptions): Promise<PubAck> {
    await this.slots.acquire();
    try {
      const hdrs = toHeaders(opts.headers);
      const started = Date.now();
      for (let attempt = 1; ; attempt++) {
        try {
          const ack = await this.js.publish(subject, data, {
            msgID: opts.msgId,
            timeout: this.timeoutMs,
            ...(hdrs ? { headers: hdrs } : {}),
            ...(opts.expectStream ? { expect: { streamName: opts.expectStream } } : {}),
          });
          const c = this.streamCounters(ack.stream);
          if (ack.duplicate) c.duplicates.inc();
          else c.published.inc();
          if (attempt > 1) this.logger.debug({ subject, msgId: opts.msgId, attempt }, "publish succeeded after retry");
          return ack;
        } catch (err) {
          const transient = isTransientPublishError(err);
          const elapsed = Date.now() - started;
          if (!transient || elapsed >= this.retryForMs || this.abort.signal.aborted) {
            this.metrics.publishErrors.inc({ kind: "fatal" });
            this.logger.error({ err, subject, msgId: opts.msgId, attempt, transient }, "publish failed");
            throw new PublishError(
              subject,
              opts.msgId,
              attempt,
              transient ? `gave up after ${elapsed} ms: ${(err as Error).message}` : (err as Error).message,
              { cause: err },
            );
          }
          this.metrics.publishErrors.inc({ kind: "transient" });
          this.metrics.publishRetries.inc();
          const wait = Math.min(backoffDelay(attempt, { baseMs: this.retryBaseMs, maxMs: this.retryMaxMs, jitter: 0.2 }), this.retryForMs - elapsed);
          if (attempt === 1) this.logger.warn({ err, subject, msgId: opts.msgId }, "publish failed, retrying with the same msgId");
          await sleep(wait, this.abort.signal);
        }
      }
    } finally {
      this.slots.release();
    }
  }
}

function toHeaders(h: Record<string, string> | MsgHdrs | undefined): MsgHdrs | undefined {
  if (!h) return undefined;
  if (typeof (h as MsgHdrs).set === "function" && typeof (h as MsgHdrs).keys === "function") return h as MsgHdrs;
  const out = natsHeaders();
  for (const [k, v] of Object.entries(h as Record<string, string>)) out.set(k, v);
  return out;
}


