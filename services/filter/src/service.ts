// createFilter: consumes FARO_RAW as the durable `filter`, routes each message to its tenants, drops noise
// lines, redacts, and publishes one clean copy per tenant to FARO_CLEAN; usable in-process or from main.ts.
import {
  ConsumerGroup,
  DLQ_HEADERS,
  PoisonError,
  Publisher,
  connectBus,
  ensureStream,
  type Bus,
  type BusMessage,
  type DeadLetterSource,
} from "@faro/bus";
import {
  FARO_CLEAN,
  FARO_DLQ,
  FARO_RAW,
  buildDlqSubject,
  deadLetterId,
  encodeDeadLetter,
} from "@faro/contracts";
import { createLogger, createMetrics, type Logger, type Registry, type ServiceMetrics } from "@faro/observability";
import { compileFilterConfig, type CompiledFilterConfig, type FilterConfig } from "./config.js";
import { FilterStartError, MalformedMessageError, RedactStageError } from "./errors.js";
import { filterMetrics, type FilterMetrics } from "./metrics.js";
import { createProcessor, type Outcome } from "./processor.js";

export const SERVICE = "filter";
/** The durable every replica shares. */
export const DURABLE = "filter";
export const DLQ_DECODE_SUBJECT = buildDlqSubject(SERVICE, "decode");
export const DLQ_REDACT_SUBJECT = buildDlqSubject(SERVICE, "redact");
const MAX_DELIVERIES_REASON = "max deliveries exceeded";

export interface FilterDeps {
  logger?: Logger;
  /** The service metrics runService exposes (so both share one registry). */
  metrics?: ServiceMetrics;
  /** Registry for the filter's metrics; ignored when `metrics` is given. */
  registry?: Registry;
  /** Precompiled rules (e.g. from config validation); compiled from `config` when omitted. */
  compiled?: Partial<CompiledFilterConfig>;
}

export interface FilterStatus {
  started: boolean;
  stopped: boolean;
  /** Handlers running now. */
  inflight: number;
  tenants: readonly string[];
}

export interface Filter {
  /** Connects, provisions the streams and the durable, and starts consuming. Throws FilterStartError. */
  start(): Promise<void>;
  /** Stops consuming, lets running handlers finish (their publishes acked, then the raw ack), closes NATS. Idempotent. */
  stop(): Promise<void>;
  /** True while consuming. */
  ready(): boolean;
  status(): FilterStatus;
  readonly metrics: ServiceMetrics;
  readonly filterMetrics: FilterMetrics;
}

export function createFilter(config: FilterConfig, deps: FilterDeps = {}): Filter {
  const logger = (deps.logger ?? createLogger({ service: SERVICE, level: config.log.level, pretty: config.log.pretty })).child({ component: "filter" });
  const service = deps.metrics ?? createMetrics(SERVICE, { registry: deps.registry, defaultMetrics: deps.registry === undefined });
  const registry = service.registry;
  const compiled = deps.compiled?.matcher && deps.compiled.redactor ? (deps.compiled as CompiledFilterConfig) : { ...compileFilterConfig(config), ...deps.compiled };
  const { matcher } = compiled;
  const processor = createProcessor(compiled);
  const fm = filterMetrics(registry, matcher);
  service.queue("publish_window", config.publish.window);
  const handlers = service.queue("handlers", config.consumer.concurrency);

  let bus: Bus | undefined;
  let publisher: Publisher | undefined;
  let group: ConsumerGroup | undefined;
  let syncTimer: NodeJS.Timeout | undefined;
  let depthTimer: NodeJS.Timeout | undefined;
  let started = false;
  let running = false;
  let stopping: Promise<void> | undefined;

  /** Dead letters of undecodable messages (and of max deliveries), built by the consumer group. */
  const buildDeadLetter = (src: DeadLetterSource, reason: string): Uint8Array => {
    const maxDeliveries = reason === MAX_DELIVERIES_REASON;
    service.deadLetters.inc({ reason: maxDeliveries ? "max_deliveries" : "decode" });
    const include = config.deadLetters.includePayload;
    return encodeDeadLetter({
      service: SERVICE,
      stage: maxDeliveries ? "deliver" : "decode",
      originalSubject: src.subject,
      reason: maxDeliveries ? MAX_DELIVERIES_REASON : "malformed raw message",
      error: reason,
      deliveries: src.deliveryCount,
      streamSeq: src.seq,
      payload: include ? src.data : new Uint8Array(),
      payloadWithheld: !include,
      atMs: Date.now(),
    });
  };

  /** Fail-safe: the message is not forwarded; a dead letter without payload records why. */
  async function withhold(msg: BusMessage, err: RedactStageError): Promise<void> {
    const category = err.subject.split(".")[5] ?? "unknown";
    fm.redactionFailures.inc({ category });
    logger.error({ subject: msg.subject, seq: msg.seq, reason: err.reason }, "redaction failed; message withheld and dead-lettered without payload");
    const payload = encodeDeadLetter({
      service: SERVICE,
      stage: "redact",
      originalSubject: msg.subject,
      reason: "redaction failed",
      error: err.reason,
      deliveries: msg.deliveryCount,
      streamSeq: msg.seq,
      payload: new Uint8Array(),
      payloadWithheld: true,
      atMs: Date.now(),
    });
    const headers: Record<string, string> = {
      [DLQ_HEADERS.reason]: `redaction failed: ${err.reason}`,
      [DLQ_HEADERS.service]: SERVICE,
      [DLQ_HEADERS.kind]: "poison",
      [DLQ_HEADERS.originalSubject]: msg.subject,
      [DLQ_HEADERS.originalStream]: msg.stream,
      [DLQ_HEADERS.originalSeq]: String(msg.seq),
      [DLQ_HEADERS.deliveries]: String(msg.deliveryCount),
    };
    if (msg.msgId) headers[DLQ_HEADERS.originalMsgId] = msg.msgId;
    // A failed dead-letter publish throws: the raw message is nak'ed and retried, never lost.
    const ack = await publisher!.publish(DLQ_REDACT_SUBJECT, payload, { msgId: deadLetterId(SERVICE, "redact", msg.seq), headers });
    if (!ack.duplicate) service.deadLetters.inc({ reason: "redact" });
  }

  function count(outcome: Outcome): void {
    if (outcome.hits.length > 0) {
      const byRule = new Map<string, number>();
      for (const h of outcome.hits) byRule.set(h.rule, (byRule.get(h.rule) ?? 0) + 1);
      for (const [rule, n] of byRule) fm.redactions.inc({ rule, category: outcome.category }, n);
    }
    for (const l of outcome.lines) {
      if (l.kept > 0) fm.logLines.inc({ tenant: l.tenant, outcome: "kept" }, l.kept);
      for (const [rule, n] of Object.entries(l.dropped)) {
        fm.logLines.inc({ tenant: l.tenant, outcome: "dropped" }, n);
        fm.logLinesDropped.inc({ tenant: l.tenant, rule }, n);
      }
    }
    if (outcome.dropped !== undefined) service.messagesDropped.inc({ reason: outcome.dropped });
  }

  async function handle(msg: BusMessage): Promise<void> {
    service.messagesIn.inc();
    let outcome: Outcome;
    try {
      outcome = processor.process({ subject: msg.subject, data: msg.data, msgId: msg.msgId, stream: msg.stream, seq: msg.seq });
    } catch (err) {
      if (err instanceof RedactStageError) return await withhold(msg, err);
      if (err instanceof MalformedMessageError) throw new PoisonError(err.message, { cause: err });
      service.errors.inc({ kind: "handler" });
      throw err;
    }
    count(outcome);
    if (outcome.outputs.length === 0) return;
    // Ack (by returning) only once every tenant's copy is stored; a failure naks the raw message and the
    // retry republishes under the same msgIds, which JetStream drops for the copies already stored.
    await Promise.all(
      outcome.outputs.map(async (o) => {
        await publisher!.publish(o.subject, o.data, { msgId: o.msgId });
        service.messagesOut.inc();
        fm.published.inc({ tenant: o.tenant, category: outcome.category });
      }),
    );
  }

  async function step<T>(name: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      throw new FilterStartError(name, (err as Error).message, { cause: err });
    }
  }

  async function start(): Promise<void> {
    if (started || stopping) return;
    started = true;
    bus = await step("nats", () => connectBus({ ...natsEndpoint(config.nats.url), name: "faro-filter", logger, registry }));
    const b = bus;
    if (config.publish.ensureStreams) {
      for (const s of [FARO_RAW, FARO_CLEAN, FARO_DLQ]) await step(`stream ${s.name}`, () => ensureStream(b.jsm, s));
    } else {
      for (const s of [FARO_RAW, FARO_CLEAN, FARO_DLQ]) await step(`stream ${s.name}`, () => b.jsm.streams.info(s.name));
    }
    publisher = new Publisher({
      js: b.js,
      name: "filter-clean",
      window: config.publish.window,
      timeoutMs: config.publish.timeout,
      retryForMs: config.publish.retryFor,
      logger,
      registry,
    });
    group = new ConsumerGroup({
      nc: b.nc,
      js: b.js,
      jsm: b.jsm,
      stream: FARO_RAW.name,
      consumer: {
        durable: DURABLE,
        filterSubject: FARO_RAW.subjects[0],
        ackWaitMs: config.consumer.ackWait,
        maxDeliver: config.consumer.maxDeliver,
        maxAckPending: config.consumer.maxAckPending,
        description: "Faro filter: tenants, noise rules, redaction (shared by every replica)",
      },
      handler: handle,
      dlqSubject: DLQ_DECODE_SUBJECT,
      service: SERVICE,
      concurrency: config.consumer.concurrency,
      isPoison: (err) => err instanceof MalformedMessageError,
      buildDeadLetter,
      drainTimeoutMs: Math.max(1000, config.shutdown.timeout - 1000),
      logger,
      registry,
    });
    const g = group;
    await step("consumer", () => g.start());
    syncTimer = setInterval(() => fm.syncRuleStats(), 1000);
    syncTimer.unref();
    depthTimer = setInterval(() => handlers.setDepth(g.inflight), 1000);
    depthTimer.unref();
    running = true;
    logger.info({ tenants: matcher.tenantNames, concurrency: config.consumer.concurrency }, "filter consuming FARO_RAW");
  }

  function stop(): Promise<void> {
    stopping ??= (async () => {
      running = false;
      clearInterval(syncTimer);
      clearInterval(depthTimer);
      // Order matters: handlers finish (their publishes need the publisher and the connection), then the
      // publisher flushes, then the connection drains.
      const release = async (what: string, fn: () => Promise<void> | undefined) => {
        try {
          await fn();
        } catch (err) {
          service.errors.inc({ kind: "stop" });
          logger.error({ err, what }, "releasing failed during stop");
        }
      };
      await release("consumer", () => group?.stop());
      await release("publisher", () => publisher?.close());
      await release("nats", () => bus?.close());
      fm.syncRuleStats();
      handlers.setDepth(0);
    })();
    return stopping;
  }

  return {
    start,
    stop,
    ready: () => running && bus !== undefined && !bus.nc.isClosed(),
    status: () => ({ started, stopped: stopping !== undefined, inflight: group?.inflight ?? 0, tenants: matcher.tenantNames }),
    metrics: service,
    filterMetrics: fm,
  };
}

/**
 * Splits `nats://user:password@host:port` into the server address and credentials: the NATS client
 * ignores userinfo in URLs, and a server with per-tenant users (deploy/nats/tenants.conf) needs them.
 */
export function natsEndpoint(url: string): { servers: string; user?: string; pass?: string } {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    // Not a URL the config accepted; let the client report it.
    return { servers: url };
  }
  if (u.username === "") return { servers: url };
  const user = decodeURIComponent(u.username);
  const pass = decodeURIComponent(u.password);
  u.username = "";
  u.password = "";
  return { servers: u.toString().replace(/\/$/, ""), user, pass };
}
