// The forwarder on the kernel: one durable consumer per configured sink on FARO_INCIDENT
// (`<cluster>_forwarder-<sink>`), so a slow or broken sink never holds back another. Per incident it applies
// routes and silences, the sink's rate limit, delivers with the idempotency key, retries with exponential
// backoff and jitter (Retry-After honoured), and acks the bus only once the receiver accepted — or after
// dead-lettering the incident with the reason (a permanent error such as 401, or max deliveries). A sink with
// `insights: true` has a second durable of the same name on FARO_INSIGHT: an insight is shown once the sink showed
// its incident (remembered in Redis), acked without delivery when the incident was not routed to the sink.
import type { BusMessage } from "@faro/bus";
import { ConsumerGroup, RetryableError } from "@faro/bus";
import { decodeIncidentContext, decodeInsight, FARO_INCIDENT, FARO_INSIGHT, incidentFilter, insightFilter } from "@faro/contracts";
import type { KernelContext, ServiceInstance } from "@faro/kernel";
import { backoffDelay, KeyedLock } from "@faro/primitives";
import { compileForwarderConfig, type CompiledForwarderConfig, type ForwarderConfig, type MatchTarget, type SinkConfig, type SinkType } from "./config.js";
import { DeliveryError, MalformedIncidentError, retryable } from "./errors.js";
import { makeDelivery, matchTarget } from "./incident.js";
import { makeInsightDelivery } from "./insight.js";
import { forwarderMetrics, type ForwarderMetrics } from "./metrics.js";
import { RateLimiter } from "./ratelimit.js";
import type { Sink, SinkContext } from "./sink.js";
import { createDirectorySink } from "./sinks/directory.js";
import { createGithubSink } from "./sinks/github.js";
import { createGrpcSink } from "./sinks/grpc.js";
import { createJiraSink } from "./sinks/jira.js";
import { createS3Sink } from "./sinks/s3.js";
import { createSlackSink } from "./sinks/slack.js";
import { createWebhookSink } from "./sinks/webhook.js";

/** `forwarder-<sink>`: the kernel names the durable `<cluster>_forwarder-<sink>`. */
export function consumerName(sink: string): string {
  return `forwarder-${sink}`;
}

/** Stage of every dead letter of a delivery: `faro.v1.dlq.forwarder.deliver`, id `dl:forwarder:deliver:<sink>:<seq>`. */
export const DELIVER_STAGE = "deliver";
/** Stage of an incident that cannot be decoded (the same for every sink; the id dedupes them). */
export const DECODE_STAGE = "decode";
/** Header naming the sink on a dead letter. */
export const SINK_HEADER = "Faro-Dlq-Sink";

const FACTORIES: Record<SinkType, (ctx: SinkContext) => Sink> = {
  webhook: (c) => createWebhookSink(c),
  grpc: (c) => createGrpcSink(c),
  slack: (c) => createSlackSink(c),
  github: (c) => createGithubSink(c),
  jira: (c) => createJiraSink(c),
  s3: (c) => createS3Sink(c),
  directory: (c) => createDirectorySink(c),
};

export interface ForwarderOptions {
  now?: () => number;
}

export interface Forwarder extends ServiceInstance {
  readonly forwarderMetrics: ForwarderMetrics;
  /** The durable consumer of each sink, by sink name. */
  readonly durables: ReadonlyMap<string, string>;
}

/** How long a sink remembers whether it showed an incident (for its insights); FARO_INCIDENT keeps 30 days. */
const SHOWN_TTL_SECONDS = 30 * 24 * 3600;

interface RunningSink {
  name: string;
  /** `faro:<cluster>:fwd:<sink>:` */
  keyPrefix: string;
  insightGroup?: ConsumerGroup;
  config: SinkConfig;
  sink: Sink;
  limiter: RateLimiter;
  group: ConsumerGroup;
}

export function createForwarder(ctx: KernelContext<ForwarderConfig>, compiled: CompiledForwarderConfig = compileForwarderConfig(ctx.config), options: ForwarderOptions = {}): Forwarder {
  const { config, metrics: service } = ctx;
  const logger = ctx.logger.child({ component: "forwarder" });
  const metrics = forwarderMetrics(service.registry);
  const now = options.now ?? Date.now;
  // Aborted only after the consumer groups drained: a delivery in flight during draining finishes.
  const hardStop = new AbortController();
  // One delivery per incident at a time in a replica, in arrival (stream) order: revisions stay ordered.
  const locks = new KeyedLock();
  let consuming = false;
  let stopping: Promise<void> | undefined;

  const withLock = <T>(key: string, fn: () => Promise<T>): Promise<T> => locks.run(key, fn);

  function routed(sink: string, t: MatchTarget): boolean {
    if (compiled.routes.length === 0) return true;
    return compiled.routes.some((r) => (r.sinks.size === 0 || r.sinks.has(sink)) && r.matches(t));
  }

  function silencedBy(sink: string, t: MatchTarget): string | undefined {
    const at = now();
    return compiled.silences.find((s) => (s.sinks.size === 0 || s.sinks.has(sink)) && at >= s.startsMs && at < s.endsMs && s.matches(t))?.name;
  }

  /** One thing to deliver: an incident revision or an insight. */
  interface Job {
    key: string;
    deliver(signal: AbortSignal): Promise<void>;
    /** After the receiver accepted. */
    accepted(): Promise<void>;
    /** After it was dead-lettered. */
    gaveUp(): Promise<void>;
  }

  const shownKey = (rs: RunningSink, incidentId: string) => `${rs.keyPrefix}shown:${incidentId}`;
  /** Remembers what became of an incident for the sink's insights: `delivered` wins over `skipped`. */
  async function markShown(rs: RunningSink, incidentId: string, state: "delivered" | "skipped"): Promise<void> {
    if (!rs.config.insights) return;
    if (state === "delivered") await ctx.redis().set(shownKey(rs, incidentId), state, "EX", SHOWN_TTL_SECONDS);
    else await ctx.redis().set(shownKey(rs, incidentId), state, "EX", SHOWN_TTL_SECONDS, "NX");
  }

  async function deadLetter(rs: RunningSink, msg: BusMessage, d: { key: string }, reason: string, err: DeliveryError): Promise<void> {
    await ctx.deadLetter({
      stage: DELIVER_STAGE,
      reason,
      error: err.message,
      originalSubject: msg.subject,
      key: `${rs.name}:${msg.seq}`,
      streamSeq: msg.seq,
      deliveries: msg.deliveryCount,
      payload: msg.data,
      headers: { [SINK_HEADER]: rs.name },
    });
    metrics.deadLettered.inc({ sink: rs.name, reason });
    logger.warn({ sink: rs.name, key: d.key, seq: msg.seq, deliveries: msg.deliveryCount, reason, error: err.message }, "incident dead-lettered");
  }

  /** Attempts until accepted, dead-lettered, or the message is nak'ed (RetryableError) for a later delivery. */
  async function attempt(rs: RunningSink, msg: BusMessage, d: Job): Promise<void> {
    const cfg = rs.config;
    for (;;) {
      const waited = await rs.limiter.take(ctx.signal);
      if (waited.waitedMs > 0) metrics.rateLimitedSeconds.inc({ sink: rs.name }, waited.waitedMs / 1000);
      // Draining: hand the incident back instead of waiting out a limit.
      if (!waited.ok) throw new RetryableError(`sink ${rs.name}: draining`, { delayMs: 1000 });
      const started = performance.now();
      try {
        await d.deliver(hardStop.signal);
      } catch (raw) {
        const err = raw instanceof DeliveryError ? raw : retryable(rs.name, d.key, (raw as Error).message, { kind: "error" }, raw);
        metrics.failed.inc({ sink: rs.name, kind: err.kind });
        metrics.attemptSeconds.observe({ sink: rs.name, outcome: err.retryable ? "retry" : "permanent" }, (performance.now() - started) / 1000);
        if (!err.retryable) {
          await deadLetter(rs, msg, d, "permanent error", err);
          return d.gaveUp();
        }
        const after = err.extra.retryAfterMs;
        if (after !== undefined) rs.limiter.pauseUntil(now() + after);
        // A throttled receiver: wait within this attempt, as often as it asks (the incident keeps its place in its
        // thread's order and a throttled answer is not a delivery); draining hands it back instead.
        if (after !== undefined && after <= cfg.retry.maxRetryAfter && !ctx.signal.aborted) {
          metrics.retried.inc({ sink: rs.name, kind: "retry_after" });
          logger.debug({ sink: rs.name, key: d.key, retryAfterMs: after }, "receiver throttled; waiting for Retry-After");
          continue;
        }
        if (msg.deliveryCount >= cfg.maxDeliveries) {
          await deadLetter(rs, msg, d, "max deliveries exceeded", err);
          return d.gaveUp();
        }
        metrics.retried.inc({ sink: rs.name, kind: err.kind });
        const delayMs = after ?? backoffDelay(msg.deliveryCount, { baseMs: cfg.retry.base, maxMs: cfg.retry.max, jitter: 0.2 });
        logger.warn({ sink: rs.name, key: d.key, deliveries: msg.deliveryCount, retryInMs: delayMs, error: err.message }, "delivery failed; retrying");
        throw new RetryableError(err.message, { cause: err, delayMs });
      }
      metrics.attemptSeconds.observe({ sink: rs.name, outcome: "accepted" }, (performance.now() - started) / 1000);
      await d.accepted();
      service.messagesOut.inc();
      logger.debug({ sink: rs.name, key: d.key }, "incident delivered");
      return;
    }
  }

  async function handle(rs: RunningSink, msg: BusMessage): Promise<void> {
    service.messagesIn.inc();
    let incident;
    try {
      incident = decodeIncidentContext(msg.data);
    } catch (err) {
      throw new MalformedIncidentError(msg.subject, (err as Error).message, { cause: err });
    }
    const d = makeDelivery(rs.name, msg.subject, incident);
    const t = matchTarget(d);
    if (!routed(rs.name, t)) {
      metrics.unrouted.inc({ sink: rs.name });
      service.messagesDropped.inc({ reason: "unrouted" });
      await markShown(rs, incident.incidentId, "skipped");
      return;
    }
    const silence = silencedBy(rs.name, t);
    if (silence !== undefined) {
      await markShown(rs, incident.incidentId, "skipped");
      metrics.silenced.inc({ sink: rs.name, silence });
      service.messagesDropped.inc({ reason: "silenced" });
      logger.debug({ sink: rs.name, key: d.key, silence }, "incident silenced");
      return;
    }
    // Long attempts (Retry-After, rate limit) keep the message from being redelivered meanwhile.
    const keepAlive = setInterval(() => msg.working(), Math.max(1000, Math.floor(rs.config.ackWait / 3)));
    try {
      const job: Job = {
        key: d.key,
        deliver: (signal) => rs.sink.deliver(d, signal),
        accepted: async () => {
          metrics.delivered.inc({ sink: rs.name, event: d.isRepeat ? "updated" : "opened" });
          const detected = Date.parse(d.incident.detectedAt);
          if (!Number.isNaN(detected)) metrics.latencySeconds.observe({ sink: rs.name }, Math.max(0, now() - detected) / 1000);
          await markShown(rs, incident.incidentId, "delivered");
        },
        gaveUp: () => markShown(rs, incident.incidentId, "skipped"),
      };
      await withLock(`${rs.name}/${incident.incidentId}`, () => attempt(rs, msg, job));
    } finally {
      clearInterval(keepAlive);
    }
  }

  /** An insight: shown after its incident (the sink's thread or ticket exists), acked when the incident went elsewhere. */
  async function handleInsight(rs: RunningSink, msg: BusMessage): Promise<void> {
    service.messagesIn.inc();
    let insight;
    try {
      insight = decodeInsight(msg.data);
    } catch (err) {
      throw new MalformedIncidentError(msg.subject, (err as Error).message, { cause: err, what: "insight" });
    }
    const d = makeInsightDelivery(rs.name, msg.subject, insight);
    const state = await ctx.redis().get(shownKey(rs, insight.incidentId));
    if (state === "skipped") {
      metrics.unrouted.inc({ sink: rs.name });
      service.messagesDropped.inc({ reason: "unrouted" });
      return;
    }
    if (state === null) {
      // The incident has not reached this sink yet (the analyzer is usually faster): wait for it, within bounds.
      const err = retryable(rs.name, d.key, `incident ${insight.incidentId} not shown by this sink yet`, { kind: "incident_pending" });
      if (msg.deliveryCount >= rs.config.maxDeliveries) return deadLetter(rs, msg, d, "incident never shown", err);
      metrics.retried.inc({ sink: rs.name, kind: err.kind });
      throw new RetryableError(err.message, { cause: err, delayMs: backoffDelay(msg.deliveryCount, { baseMs: rs.config.retry.base, maxMs: rs.config.retry.max, jitter: 0.2 }) });
    }
    const keepAlive = setInterval(() => msg.working(), Math.max(1000, Math.floor(rs.config.ackWait / 3)));
    try {
      const job: Job = {
        key: d.key,
        deliver: (signal) => rs.sink.deliverInsight!(d, signal),
        accepted: async () => void metrics.delivered.inc({ sink: rs.name, event: "insight" }),
        gaveUp: async () => undefined,
      };
      // The same lock as its incident's revisions: an insight never overtakes the message it replies to.
      await withLock(`${rs.name}/${insight.incidentId}`, () => attempt(rs, msg, job));
    } finally {
      clearInterval(keepAlive);
    }
  }

  const sinks: RunningSink[] = config.sinks.map((sc) => {
    const name = sc.name!;
    const sinkCtx: SinkContext = { name, config: sc, logger: logger.child({ sink: name }), metrics, env: ctx.env, redis: () => ctx.redis(), bus: ctx.bus, keyPrefix: ctx.scope.keyPrefix(undefined, `fwd:${name}:`) };
    const rs = { name, keyPrefix: sinkCtx.keyPrefix, config: sc, sink: FACTORIES[sc.type!](sinkCtx), limiter: new RateLimiter(sc.rateLimit.perSecond, sc.rateLimit.burst) } as RunningSink;
    if (sc.insights) {
      rs.insightGroup = ctx.consumerGroup({
        stream: FARO_INSIGHT.name,
        consumer: {
          durable: consumerName(name),
          filterSubject: insightFilter({ cluster: config.cluster }),
          ackWaitMs: sc.ackWait,
          maxDeliver: sc.maxDeliveries,
          maxAckPending: sc.maxAckPending,
          description: `Faro forwarder sink ${name} (${sc.type}): insights`,
        },
        handler: (msg) => handleInsight(rs, msg),
        poisonStage: DECODE_STAGE,
        concurrency: sc.concurrency,
        isPoison: (err) => err instanceof MalformedIncidentError,
      });
    }
    rs.group = ctx.consumerGroup({
      stream: FARO_INCIDENT.name,
      consumer: {
        durable: consumerName(name),
        // faro.v1.incident.*.<cluster>.>: every tenant, namespace and reason of this pipeline's cluster.
        filterSubject: incidentFilter({ cluster: config.cluster }).replace(/(\.\*)+$/, ".>"),
        ackWaitMs: sc.ackWait,
        maxDeliver: sc.maxDeliveries,
        maxAckPending: sc.maxAckPending,
        description: `Faro forwarder sink ${name} (${sc.type})`,
      },
      handler: (msg) => handle(rs, msg),
      poisonStage: DECODE_STAGE,
      concurrency: sc.concurrency,
      isPoison: (err) => err instanceof MalformedIncidentError,
    });
    return rs;
  });

  async function doStop(): Promise<void> {
    consuming = false;
    await Promise.allSettled(sinks.flatMap((s) => [s.group.stop(), ...(s.insightGroup ? [s.insightGroup.stop()] : [])]));
    hardStop.abort();
    await Promise.allSettled(sinks.map((s) => s.sink.stop()));
  }

  return {
    async start() {
      if (stopping) return;
      for (const s of sinks) await s.sink.start();
      for (const s of sinks) {
        await s.group.start();
        await s.insightGroup?.start();
      }
      consuming = true;
      if (sinks.length === 0) logger.info("no sinks configured; the forwarder has nothing to deliver");
      else logger.info({ sinks: sinks.map((s) => ({ name: s.name, type: s.config.type, durable: s.group.name })) }, "forwarder consuming");
    },
    stop() {
      stopping ??= doStop();
      return stopping;
    },
    readiness: () => (consuming ? true : { ok: false, detail: stopping ? "stopped" : "sinks not started yet" }),
    forwarderMetrics: metrics,
    durables: new Map(sinks.map((s) => [s.name, s.group.name])),
  };
}
