// Consumer group: every replica of a service runs one over the same durable pull consumer; ack after the handler,
// nak with exponential delay on failure, dead-letter poison and max-deliveries messages.
import type { ConsumerMessages, JetStreamClient, JetStreamManager, JsMsg, StoredMsg } from "@nats-io/jetstream";
import type { Msg, NatsConnection, Subscription } from "@nats-io/transport-node";
import { pino, type Logger } from "pino";
import type { Registry } from "prom-client";
import { backoffDelay, Semaphore, sleep } from "@faro/primitives";
import { buildDlqSubject, deadLetterId, encodeDeadLetter } from "@faro/contracts";
import { deadLetterHeaders, headerMap, type DeadLetterKind, type DeadLetterSource } from "./dead-letter.js";
import { DeadLetterError, PoisonError, RetryableError, StoppedError } from "./errors.js";
import { busMetrics, type BusMetrics } from "./metrics.js";
import { ensureConsumer, type ConsumerSpec } from "./provision.js";
import { Publisher } from "./publisher.js";

/** A message handed to a handler. */
export interface BusMessage {
  readonly stream: string;
  readonly subject: string;
  readonly data: Uint8Array;
  /** Headers, first value per key. */
  readonly headers: ReadonlyMap<string, string>;
  /** Stream sequence. */
  readonly seq: number;
  /** 1 on first delivery. */
  readonly deliveryCount: number;
  /** The Nats-Msg-Id it was published with, if any. */
  readonly msgId: string | undefined;
  /** Resets the server's ack timer; call it periodically from handlers that run longer than ackWait. */
  working(): void;
}

export type BusHandler = (msg: BusMessage) => Promise<void>;

export interface ConsumerGroupOptions {
  nc: NatsConnection;
  js: JetStreamClient;
  jsm: JetStreamManager;
  stream: string;
  consumer: ConsumerSpec;
  handler: BusHandler;
  /**
   * Subject of every dead letter; default `faro.v1.dlq.<service>.<stage>` (FARO_DLQ captures it), the stage
   * being the PoisonError's, else `poisonStage`, and `deliver` for max deliveries.
   */
  dlqSubject?: string;
  /** Stage of dead letters for poison messages whose error names none. Default `decode`. */
  poisonStage?: string;
  /** Put the original bytes into the envelope (default false: raw messages are not redacted). */
  includePayload?: boolean;
  /** Called once per stored (not duplicate) dead letter, e.g. to count it in the service's metrics. */
  onDeadLetter?: (info: { stage: string; kind: DeadLetterKind; reason: string }) => void;
  /** Service name written into dead letters and logs. */
  service: string;
  /** Handlers running at once in this replica. Default 64. */
  concurrency?: number;
  /** Messages requested per pull; bounded by what this replica can work on so it does not hoard. Default = concurrency. */
  batch?: number;
  /** Marks more errors as poison (e.g. a decoder's error class) in addition to PoisonError. */
  isPoison?: (err: unknown) => boolean;
  /** Nak delay for delivery n is base × 2^(n-1), capped. Defaults 500 ms and 30 s. */
  nakBaseMs?: number;
  nakMaxMs?: number;
  /** How long stop() waits for running handlers. Default 10 s. */
  drainTimeoutMs?: number;
  /** How often num_pending (lag) is read from consumer info. Default 5 s; 0 disables. */
  pendingPollMs?: number;
  /** Create/update the durable from `consumer` on start (and when it disappears). Default true. */
  provision?: boolean;
  /** Nak delay of messages fetched but not started when stop() is called. Default 1000 ms. */
  handBackDelayMs?: number;
  /** Pull request expiry (ms); the client default (30 s) fits production. */
  expiresMs?: number;
  logger?: Logger;
  registry?: Registry;
}

class Message implements BusMessage {
  private hdrs: Map<string, string> | undefined;
  constructor(
    readonly raw: JsMsg,
    readonly stream: string,
  ) {}
  get subject(): string {
    return this.raw.subject;
  }
  get data(): Uint8Array {
    return this.raw.data;
  }
  get headers(): ReadonlyMap<string, string> {
    this.hdrs ??= headerMap(this.raw.headers);
    return this.hdrs;
  }
  get seq(): number {
    return this.raw.seq;
  }
  get deliveryCount(): number {
    return this.raw.info.deliveryCount;
  }
  get msgId(): string | undefined {
    return this.raw.headers?.get("Nats-Msg-Id") || undefined;
  }
  working(): void {
    this.raw.working();
  }
}

interface MaxDeliveriesAdvisory {
  stream: string;
  consumer: string;
  stream_seq: number;
  deliveries: number;
}

export class ConsumerGroup {
  private readonly opts: ConsumerGroupOptions;
  private readonly durable: string;
  private readonly concurrency: number;
  private readonly batch: number;
  private readonly logger: Logger;
  private readonly metrics: BusMetrics;
  private readonly label: { consumer: string };
  /** Label-bound metric children for the per-message path (avoids hashing labels for every message). */
  private readonly hot: {
    consumed: { inc(): void };
    acked: { inc(): void };
    naked: { inc(): void };
    inflight: { set(v: number): void };
    seconds: Record<"ack" | "nak" | "dead_letter", { observe(v: number): void }>;
  };
  private readonly dlq: Publisher;
  private readonly abort = new AbortController();
  private readonly background = new Set<Promise<unknown>>();
  private messages: ConsumerMessages | undefined;
  private loop: Promise<void> | undefined;
  private advisorySub: Subscription | undefined;
  private pendingTimer: NodeJS.Timeout | undefined;
  /** Handler slots: at most `concurrency` handlers run at once (faro_bus_inflight). */
  private readonly slots: Semaphore;
  private started = false;
  private stopping: Promise<void> | undefined;

  constructor(opts: ConsumerGroupOptions) {
    this.opts = opts;
    this.durable = opts.consumer.durable;
    this.concurrency = Math.max(1, Math.floor(opts.concurrency ?? 64));
    this.batch = Math.max(1, Math.floor(opts.batch ?? this.concurrency));
    this.logger = (opts.logger ?? pino({ name: "faro-bus", level: "warn" })).child({
      component: "consumer-group",
      stream: opts.stream,
      consumer: this.durable,
      service: opts.service,
    });
    this.metrics = busMetrics(opts.registry);
    this.label = { consumer: this.durable };
    const m = this.metrics;
    this.hot = {
      consumed: m.consumed.labels(this.label),
      acked: m.acked.labels(this.label),
      naked: m.naked.labels(this.label),
      inflight: m.inflight.labels(this.label),
      seconds: {
        ack: m.handlerSeconds.labels({ ...this.label, outcome: "ack" }),
        nak: m.handlerSeconds.labels({ ...this.label, outcome: "nak" }),
        dead_letter: m.handlerSeconds.labels({ ...this.label, outcome: "dead_letter" }),
      },
    };
    this.slots = new Semaphore(this.concurrency, (n) => this.hot.inflight.set(n));
    this.dlq = new Publisher({
      js: opts.js,
      name: `${this.durable}-dlq`,
      window: 64,
      retryForMs: 30_000,
      logger: this.logger,
      metrics: this.metrics,
    });
  }

  /** The durable consumer's name (consumer.durable). */
  get name(): string {
    return this.durable;
  }

  /** Handlers running now. */
  get inflight(): number {
    return this.slots.inUse;
  }

  /** Provisions the durable (unless provision=false), subscribes to max-deliveries advisories and starts pulling. */
  async start(): Promise<void> {
    if (this.stopping) throw new StoppedError(`consumer group ${this.opts.stream}/${this.durable}`);
    if (this.started) return;
    this.started = true;
    const { nc, jsm, stream } = this.opts;
    if (this.opts.provision !== false) await ensureConsumer(jsm, stream, this.opts.consumer);
    // Fails fast (before the loop) when the durable does not exist.
    await this.opts.js.consumers.get(stream, this.durable);

    // A queue group makes one replica handle each advisory; the dead letter's msgId makes a repeat harmless.
    this.advisorySub = nc.subscribe(`$JS.EVENT.ADVISORY.CONSUMER.MAX_DELIVERIES.${stream}.${this.durable}`, {
      queue: `faro-dlq.${stream}.${this.durable}`,
      callback: (err, msg) => {
        if (err) {
          this.logger.error({ err }, "max-deliveries advisory subscription failed");
          return;
        }
        this.track(this.onMaxDeliveries(msg));
      },
    });

    const poll = this.opts.pendingPollMs ?? 5000;
    if (poll > 0) {
      this.track(this.pollPending());
      this.pendingTimer = setInterval(() => this.track(this.pollPending()), poll);
      this.pendingTimer.unref();
    }
    this.loop = this.pullLoop();
    this.logger.info({ concurrency: this.concurrency, batch: this.batch }, "consumer group started");
  }

  /**
   * Stops pulling, hands back buffered messages (nak), waits up to drainTimeoutMs for running handlers, then
   * releases the advisory subscription, timers and the dead-letter publisher. Idempotent.
   */
  stop(): Promise<void> {
    this.stopping ??= this.doStop();
    return this.stopping;
  }

  private async doStop(): Promise<void> {
    this.abort.abort();
    clearInterval(this.pendingTimer);
    this.advisorySub?.unsubscribe();
    this.closeMessages("stop");
    await this.loop;
    const drained = await this.waitIdle(this.opts.drainTimeoutMs ?? 10_000);
    if (!drained) {
      this.logger.warn({ inflight: this.slots.inUse }, "stop: handlers still running after the drain timeout; their messages will be redelivered");
    }
    await Promise.allSettled([...this.background]);
    await this.dlq.close();
    this.hot.inflight.set(this.slots.inUse);
    this.logger.info("consumer group stopped");
  }

  private track(p: Promise<unknown>): void {
    this.background.add(p);
    const forget = () => this.background.delete(p);
    p.then(forget, forget);
  }

  private closeMessages(reason: string): void {
    const m = this.messages;
    if (!m) return;
    m.close().catch((err: unknown) => this.logger.warn({ err, reason }, "closing the pull subscription failed"));
  }

  private async pullLoop(): Promise<void> {
    const { js, stream } = this.opts;
    let failures = 0;
    while (!this.abort.signal.aborted) {
      try {
        const consumer = await js.consumers.get(stream, this.durable);
        const messages = await consumer.consume({
          max_messages: this.batch,
          ...(this.opts.expiresMs ? { expires: this.opts.expiresMs } : {}),
        });
        this.messages = messages;
        if (this.abort.signal.aborted) this.closeMessages("stop");
        this.track(this.watchStatus(messages));
        for await (const m of messages) {
          failures = 0;
          if (this.abort.signal.aborted) {
            this.handBack(m);
            continue;
          }
          // Stopping (abort) ends a wait for a slot: the loop naks instead of dispatching.
          const held = await this.slots.acquire(this.abort.signal);
          if (!held || this.abort.signal.aborted) {
            if (held) this.slots.release();
            this.handBack(m);
            continue;
          }
          void this.dispatch(m);
        }
      } catch (err) {
        if (this.abort.signal.aborted) break;
        failures++;
        this.metrics.consumerRestarts.inc({ ...this.label, reason: "error" });
        const wait = backoffDelay(failures, { baseMs: 250, maxMs: 5000, jitter: 0.2 });
        this.logger.error({ err, retryInMs: wait }, "pull loop failed, recreating");
        await sleep(wait, this.abort.signal);
      }
    }
  }

  /** Recreates the pull on missed heartbeats; re-provisions a durable that disappeared. */
  private async watchStatus(messages: ConsumerMessages): Promise<void> {
    for await (const s of messages.status()) {
      if (this.abort.signal.aborted) return;
      switch (s.type) {
        case "heartbeats_missed":
          if (s.count >= 2) {
            this.logger.warn({ count: s.count }, "heartbeats missed, recreating the pull");
            this.metrics.consumerRestarts.inc({ ...this.label, reason: "heartbeats_missed" });
            this.closeMessages("heartbeats_missed");
            return;
          }
          break;
        case "consumer_deleted":
        case "consumer_not_found":
          this.logger.error({ status: s }, "durable consumer is gone");
          if (this.opts.provision !== false) {
            try {
              await ensureConsumer(this.opts.jsm, this.opts.stream, this.opts.consumer);
              this.metrics.consumerRestarts.inc({ ...this.label, reason: s.type });
              this.closeMessages(s.type);
              return;
            } catch (err) {
              this.logger.error({ err }, "re-provisioning the durable failed; the client keeps retrying");
            }
          }
          break;
        case "stream_not_found":
        case "no_responders":
        case "exceeded_limits":
          this.logger.warn({ status: s }, "pull status");
          break;
        default:
          break;
      }
    }
  }

  /**
   * A message we will not process (stopping): nak it so another replica gets it soon instead of after ack_wait.
   * The short delay lets the server drop our just-closed pull request first, so the nak'ed message is not
   * redelivered into it and stranded until ack_wait.
   */
  private handBack(m: JsMsg): void {
    m.nak(this.opts.handBackDelayMs ?? 1000);
    this.hot.naked.inc();
  }

  private async waitIdle(timeoutMs: number): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), timeoutMs)));
    try {
      return await Promise.race([this.slots.idle().then(() => true), timedOut]);
    } finally {
      clearTimeout(timer);
    }
  }

  private isPoison(err: unknown): boolean {
    if (err instanceof PoisonError) return true;
    try {
      return this.opts.isPoison?.(err) ?? false;
    } catch (e) {
      this.logger.error({ err: e }, "isPoison threw; treating the error as retryable");
      return false;
    }
  }

  private async dispatch(m: JsMsg): Promise<void> {
    const started = performance.now();
    const msg = new Message(m, this.opts.stream);
    let outcome: "ack" | "nak" | "dead_letter" = "ack";
    this.hot.consumed.inc();
    try {
      await this.opts.handler(msg);
      m.ack();
      this.hot.acked.inc();
    } catch (err) {
      if (this.isPoison(err)) {
        outcome = "dead_letter";
        const reason = err instanceof Error ? err.message : String(err);
        try {
          const stage = (err instanceof PoisonError ? err.stage : undefined) ?? this.opts.poisonStage ?? "decode";
          await this.deadLetter(this.source(msg), reason, "poison", stage);
          m.term();
          this.metrics.termed.inc(this.label);
        } catch (dlErr) {
          // Without a stored dead letter the message must stay: nak it so it is retried (or hits max_deliver).
          outcome = "nak";
          this.nak(m, undefined);
          this.logger.error({ err: dlErr, seq: msg.seq }, "dead-lettering a poison message failed, nak'ed it");
        }
      } else {
        outcome = "nak";
        const delay = this.nak(m, err instanceof RetryableError ? err.delayMs : undefined);
        this.logger.warn(
          { err, seq: msg.seq, subject: msg.subject, deliveryCount: msg.deliveryCount, retryInMs: delay },
          "handler failed, nak'ed for redelivery",
        );
      }
    } finally {
      this.hot.seconds[outcome].observe((performance.now() - started) / 1000);
      this.slots.release();
    }
  }

  private nak(m: JsMsg, delayMs: number | undefined): number {
    const delay =
      delayMs ??
      backoffDelay(m.info.deliveryCount, { baseMs: this.opts.nakBaseMs ?? 500, maxMs: this.opts.nakMaxMs ?? 30_000, jitter: 0.1 });
    m.nak(delay);
    this.hot.naked.inc();
    return delay;
  }

  private source(msg: BusMessage): DeadLetterSource {
    return {
      stream: msg.stream,
      seq: msg.seq,
      subject: msg.subject,
      data: msg.data,
      headers: msg.headers,
      msgId: msg.msgId,
      deliveryCount: msg.deliveryCount,
    };
  }

  /** Publishes the documented DeadLetter envelope (docs/subjects.md) with id `dl:<service>:<stage>:<seq>`. */
  private async deadLetter(src: DeadLetterSource, reason: string, kind: DeadLetterKind, stage: string): Promise<void> {
    const subject = this.opts.dlqSubject ?? buildDlqSubject(this.opts.service, stage);
    try {
      const include = this.opts.includePayload === true;
      const payload = encodeDeadLetter({
        service: this.opts.service,
        stage,
        originalSubject: src.subject,
        reason: kind === "max_deliveries" ? "max deliveries exceeded" : "poison message",
        error: reason,
        deliveries: src.deliveryCount,
        streamSeq: src.seq,
        payload: include ? src.data : new Uint8Array(),
        payloadWithheld: !include,
        atMs: Date.now(),
      });
      const ack = await this.dlq.publish(subject, payload, {
        msgId: deadLetterId(this.opts.service, stage, src.seq),
        headers: deadLetterHeaders(src, reason, this.opts.service, kind),
      });
      if (!ack.duplicate) {
        this.metrics.deadLettered.inc({ ...this.label, reason: kind });
        this.opts.onDeadLetter?.({ stage, kind, reason });
      }
      this.logger.warn({ seq: src.seq, subject: src.subject, reason, kind, stage, dlqSeq: ack.seq }, "message dead-lettered");
    } catch (err) {
      this.metrics.deadLetterErrors.inc(this.label);
      throw new DeadLetterError(src.stream, src.seq, subject, { cause: err });
    }
  }

  private async onMaxDeliveries(msg: Msg): Promise<void> {
    let adv: MaxDeliveriesAdvisory;
    try {
      adv = msg.json<MaxDeliveriesAdvisory>();
    } catch (err) {
      this.logger.error({ err }, "undecodable max-deliveries advisory");
      return;
    }
    const { stream } = this.opts;
    let stored: StoredMsg | null = null;
    try {
      stored = await this.opts.jsm.streams.getMessage(stream, { seq: adv.stream_seq });
    } catch (err) {
      this.logger.error({ err, seq: adv.stream_seq }, "cannot fetch a message that exceeded max deliveries; not dead-lettered");
      this.metrics.deadLetterErrors.inc(this.label);
      return;
    }
    if (!stored) {
      this.logger.error({ seq: adv.stream_seq }, "message that exceeded max deliveries is no longer in the stream; not dead-lettered");
      this.metrics.deadLetterErrors.inc(this.label);
      return;
    }
    const headers = headerMap(stored.header);
    try {
      await this.deadLetter(
        {
          stream,
          seq: stored.seq,
          subject: stored.subject,
          data: stored.data,
          headers,
          msgId: headers.get("Nats-Msg-Id"),
          deliveryCount: adv.deliveries,
        },
        "max deliveries exceeded",
        "max_deliveries",
        "deliver",
      );
    } catch (err) {
      this.logger.error({ err, seq: adv.stream_seq }, "dead-lettering a message that exceeded max deliveries failed");
    }
  }

  private async pollPending(): Promise<void> {
    try {
      const info = await this.opts.jsm.consumers.info(this.opts.stream, this.durable);
      this.metrics.pending.set(this.label, info.num_pending);
    } catch (err) {
      this.logger.debug({ err }, "reading consumer info for lag failed");
    }
  }
}
