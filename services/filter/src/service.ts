// The filter service on the kernel: consumes its cluster's FARO_RAW subjects as the durable `<cluster>_filter`, routes each message to its
// tenants, drops noise lines, redacts, and publishes one clean copy per tenant to FARO_CLEAN.
import { DLQ_HEADERS, PoisonError, type BusMessage } from "@faro/bus";
import { buildDlqSubject, FARO_RAW, rawFilter } from "@faro/contracts";
import type { KernelContext, ServiceInstance } from "@faro/kernel";
import { compileFilterConfig, type CompiledFilterConfig, type FilterConfig } from "./config.js";
import { MalformedMessageError, RedactStageError } from "./errors.js";
import { filterMetrics, type FilterMetrics } from "./metrics.js";
import { createProcessor, type Outcome } from "./processor.js";

export const SERVICE = "filter";
/** The durable every replica shares (base name: the kernel names it `<cluster>_filter`). */
export const DURABLE = "filter";
export const DLQ_DECODE_SUBJECT = buildDlqSubject(SERVICE, "decode");
export const DLQ_REDACT_SUBJECT = buildDlqSubject(SERVICE, "redact");

export interface FilterStatus {
  started: boolean;
  stopped: boolean;
  /** Handlers running now. */
  inflight: number;
  tenants: readonly string[];
}

export interface Filter extends ServiceInstance {
  status(): FilterStatus;
  readonly filterMetrics: FilterMetrics;
}

export function createFilter(ctx: KernelContext<FilterConfig>, compiledRules?: CompiledFilterConfig): Filter {
  const { config, metrics: service } = ctx;
  const logger = ctx.logger.child({ component: "filter" });
  const registry = service.registry;
  const compiled = compiledRules ?? compileFilterConfig(config);
  const { matcher } = compiled;
  const processor = createProcessor(compiled);
  const fm = filterMetrics(registry, matcher);
  const handlers = service.queue("handlers", config.consumer.concurrency);
  const publisher = ctx.publisher({ name: "filter-clean" });

  let syncTimer: NodeJS.Timeout | undefined;
  let depthTimer: NodeJS.Timeout | undefined;
  let started = false;
  let running = false;
  let stopping: Promise<void> | undefined;

  /** Fail-safe: the message is not forwarded; a dead letter without payload records why. */
  async function withhold(msg: BusMessage, err: RedactStageError): Promise<void> {
    const category = err.subject.split(".")[5] ?? "unknown";
    fm.redactionFailures.inc({ category });
    logger.error({ subject: msg.subject, seq: msg.seq, reason: err.reason }, "redaction failed; message withheld and dead-lettered without payload");
    // A failed dead-letter publish throws: the raw message is nak'ed and retried, never lost.
    await ctx.deadLetter({
      stage: "redact",
      reason: "redaction failed",
      error: err.reason,
      originalSubject: msg.subject,
      key: msg.seq,
      streamSeq: msg.seq,
      deliveries: msg.deliveryCount,
      withhold: true,
      headers: {
        [DLQ_HEADERS.originalStream]: msg.stream,
        [DLQ_HEADERS.originalSeq]: String(msg.seq),
        [DLQ_HEADERS.deliveries]: String(msg.deliveryCount),
        ...(msg.msgId ? { [DLQ_HEADERS.originalMsgId]: msg.msgId } : {}),
      },
    });
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
        await publisher.publish(o.subject, o.data, { msgId: o.msgId });
        service.messagesOut.inc();
        fm.published.inc({ tenant: o.tenant, category: outcome.category });
      }),
    );
  }

  const group = ctx.consumerGroup({
    stream: FARO_RAW.name,
    consumer: {
      durable: DURABLE,
      // faro.v1.raw.<cluster>.>: this pipeline's cluster only.
      filterSubject: rawFilter({ cluster: config.cluster }).replace(/(\.\*)+$/, ".>"),
      ackWaitMs: config.consumer.ackWait,
      maxDeliver: config.consumer.maxDeliver,
      maxAckPending: config.consumer.maxAckPending,
      description: "Faro filter: tenants, noise rules, redaction (shared by every replica)",
    },
    handler: handle,
    poisonStage: "decode",
    concurrency: config.consumer.concurrency,
    isPoison: (err) => err instanceof MalformedMessageError,
    drainTimeoutMs: Math.max(1000, config.shutdown.timeout - 1000),
  });

  async function start(): Promise<void> {
    if (started || stopping) return;
    started = true;
    await group.start();
    syncTimer = setInterval(() => fm.syncRuleStats(), 1000);
    syncTimer.unref();
    depthTimer = setInterval(() => handlers.setDepth(group.inflight), 1000);
    depthTimer.unref();
    running = true;
    logger.info({ tenants: matcher.tenantNames, concurrency: config.consumer.concurrency }, "filter consuming FARO_RAW");
  }

  /** Stops consuming and lets running handlers finish; the kernel then flushes the publisher and closes NATS. */
  function stop(): Promise<void> {
    stopping ??= (async () => {
      running = false;
      clearInterval(syncTimer);
      clearInterval(depthTimer);
      await group.stop();
      fm.syncRuleStats();
      handlers.setDepth(0);
    })();
    return stopping;
  }

  return {
    start,
    stop,
    readiness: () => (running ? true : { ok: false, detail: "not consuming FARO_RAW" }),
    status: () => ({ started, stopped: stopping !== undefined, inflight: group.inflight, tenants: matcher.tenantNames }),
    filterMetrics: fm,
  };
}
