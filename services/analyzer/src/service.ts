// The analyzer service on the kernel: consumes its cluster's FARO_INCIDENT subjects as the shared durable
// `<cluster>_analyzer`, runs the built-in analyzers on every incident revision and publishes one Insight
// (faro.v1.insight.<tenant>.<cluster>.<namespace>.<storyId>, id is:<incidentId>:<repeatCount>:builtin); with an
// LLM provider configured, a second one from the model (…:llm). Acks only after its publishes were acked.
import fs from "node:fs/promises";
import type { BusMessage } from "@faro/bus";
import {
  buildInsightSubject,
  decodeIncidentContext,
  encodeInsight,
  evidenceResolves,
  FARO_INCIDENT,
  FARO_INSIGHT,
  incidentFilter,
  insightMessageId,
  type Encodable,
  type Finding,
  type IncidentContext,
  type Insight,
} from "@faro/contracts";
import { redactUrl, type KernelContext, type ServiceInstance } from "@faro/kernel";
import { createRedactor } from "@faro/redact";
import { noFinding, runBuiltins } from "./builtins/index.js";
import type { AnalyzerConfig, BuiltinName } from "./config.js";
import { AnalyzerError, ApiKeyFileError, MalformedIncidentError, RedactionRefusedError } from "./errors.js";
import { anthropicProvider } from "./llm/anthropic.js";
import { LlmAnalyzer } from "./llm/analyzer.js";
import { openAiProvider } from "./llm/openai.js";
import { fingerprint } from "./llm/prompt.js";
import type { LlmProviderClient } from "./llm/provider.js";
import { analyzerMetrics, type AnalyzerMetrics } from "./metrics.js";

/** Base name of the durable every replica shares (the kernel names it `<cluster>_analyzer`). */
export const CONSUMER_NAME = "analyzer";

/** The stage of the analyzer's poison dead letters: `faro.v1.dlq.analyzer.decode`, id `dl:analyzer:decode:<seq>`. */
export const DEAD_LETTER_STAGE = "decode";

export interface AnalyzerOptions {
  /** Wall clock (ms) for created_at and the LLM cache. */
  now?: () => number;
  /** Backoff base of LLM retries without Retry-After (tests shorten it). */
  llmRetryBaseMs?: number;
}

export interface Analyzer extends ServiceInstance {
  readonly analyzerMetrics: AnalyzerMetrics;
}

/** Keeps the references that resolve into the incident; the others are counted and dropped. */
function resolvable(ic: IncidentContext, f: Finding, onDropped: (n: number) => void): Finding {
  const evidence = f.evidence.filter((r) => evidenceResolves(ic, r));
  if (evidence.length !== f.evidence.length) onDropped(f.evidence.length - evidence.length);
  return { ...f, evidence };
}

export function insightFor(ic: IncidentContext, primary: Finding, others: readonly Finding[], createdAt: string, fp: string, llm?: { prompt: string; answer: string; model: string }): Encodable<Insight> {
  return {
    incidentId: ic.incidentId,
    repeatCount: ic.repeatCount,
    storyId: ic.storyId,
    tenant: ic.tenant,
    cluster: ic.cluster,
    namespace: ic.namespace,
    reason: ic.reason,
    analyzer: primary.analyzer,
    probableCause: primary.probableCause,
    evidence: primary.evidence,
    nextSteps: primary.nextSteps,
    confidence: primary.confidence,
    otherFindings: [...others],
    prompt: llm?.prompt ?? "",
    answer: llm?.answer ?? "",
    model: llm?.model ?? "",
    createdAt,
    fingerprint: fp,
  };
}

/** Builds the analyzer on the kernel's connections; no I/O until start(). */
export function createAnalyzer(ctx: KernelContext<AnalyzerConfig>, options: AnalyzerOptions = {}): Analyzer {
  const { config, metrics: service } = ctx;
  const logger = ctx.logger.child({ component: "analyzer" });
  const metrics = analyzerMetrics(service.registry);
  const now = options.now ?? Date.now;
  const names = config.builtins as readonly BuiltinName[];
  const publisher = ctx.publisher({ name: "analyzer-insight" });
  const inflight = service.queue("handlers_in_flight", config.consumer.concurrency);
  const llmQueue = service.queue("llm_in_flight", config.llm.concurrency);
  const llmCache = service.queue("llm_cache", config.llm.cache.size);
  let llm: LlmAnalyzer | undefined;
  let started = false;
  let consuming = false;
  let stopping: Promise<void> | undefined;

  async function apiKey(): Promise<string | undefined> {
    if (!config.llm.apiKeyFile) return config.llm.apiKey;
    try {
      return (await fs.readFile(config.llm.apiKeyFile, "utf8")).trimEnd();
    } catch (err) {
      throw new ApiKeyFileError(config.llm.apiKeyFile, { cause: err });
    }
  }

  function providerClient(key: string | undefined): LlmProviderClient | undefined {
    const l = config.llm;
    if (l.provider === "none") return undefined;
    const common = { model: l.model!, timeoutMs: l.timeout, ...(l.endpoint ? { endpoint: l.endpoint } : {}), ...(key ? { apiKey: key } : {}) };
    return l.provider === "openai" ? openAiProvider({ ...common, maxTokensField: l.maxTokensField }) : anthropicProvider(common);
  }

  async function publish(ic: IncidentContext, source: "builtin" | "llm", insight: Encodable<Insight>): Promise<void> {
    const subject = buildInsightSubject(ic.tenant, ic.cluster, ic.namespace, ic.storyId);
    const ack = await publisher.publish(subject, encodeInsight(insight), { msgId: insightMessageId(ic.incidentId, ic.repeatCount, source), expectStream: FARO_INSIGHT.name });
    if (ack.duplicate) {
      // A redelivered or repeated revision: the stream has its insight already.
      service.messagesDropped.inc({ reason: "duplicate_insight" });
      return;
    }
    service.messagesOut.inc();
    metrics.insights.inc({ source, analyzer: insight.analyzer });
  }

  async function handle(msg: BusMessage): Promise<void> {
    service.messagesIn.inc();
    inflight.setDepth(group.inflight);
    let ic: IncidentContext;
    try {
      ic = decodeIncidentContext(msg.data);
    } catch (err) {
      throw new MalformedIncidentError(msg.subject, (err as Error).message, { cause: err });
    }
    const createdAt = new Date(now()).toISOString();
    const fp = fingerprint(ic);
    const dropped = (n: number) => metrics.unresolvedEvidence.inc({ source: "builtin" }, n);
    const findings = runBuiltins(ic, names, (name, err) => {
      service.errors.inc({ kind: "analyzer" });
      logger.error({ err, analyzer: name, incidentId: ic.incidentId }, "built-in analyzer failed; skipped for this incident");
    }).map((f) => resolvable(ic, f, dropped));
    for (const f of findings) metrics.findings.inc({ analyzer: f.analyzer });
    const [primary, ...others] = findings.length ? findings : [noFinding(ic)];
    await publish(ic, "builtin", insightFor(ic, primary!, others, createdAt, fp));
    if (!llm) return;
    try {
      const r = await llm.analyze(ic, ctx.signal, () => msg.working());
      if (r) await publish(ic, "llm", insightFor(ic, r.finding, [], createdAt, r.fingerprint, r));
      // Draining cut the request short: nak, so a replica (or this one after a restart) asks again; the built-in
      // insight is deduped by its message id.
      else if (ctx.signal.aborted) throw new AnalyzerError(`draining: the LLM analysis of ${ic.incidentId} was abandoned; the incident is redelivered`);
    } catch (err) {
      // Refused prompts are counted and logged by the LLM analyzer; the built-in insight stands.
      if (!(err instanceof RedactionRefusedError)) throw err;
    }
  }

  // Poison (dead letter on faro.v1.dlq.analyzer.decode, counted as faro_dead_letters_total{reason="decode"}):
  // an incident that cannot be decoded. Everything else (publish failures) is nak'ed and retried.
  const group = ctx.consumerGroup({
    stream: FARO_INCIDENT.name,
    consumer: {
      durable: CONSUMER_NAME,
      // faro.v1.incident.*.<cluster>.>: every tenant of this pipeline's cluster only.
      filterSubject: incidentFilter({ cluster: config.cluster }).replace(/(\.\*)+$/, ".>"),
      ackWaitMs: config.consumer.ackWait,
      maxDeliver: config.consumer.maxDeliver,
      maxAckPending: config.consumer.maxAckPending,
      description: "Faro analyzer: insights per incident revision (shared by all replicas)",
    },
    handler: handle,
    poisonStage: DEAD_LETTER_STAGE,
    concurrency: config.consumer.concurrency,
    isPoison: (err) => err instanceof MalformedIncidentError,
  });

  async function start(): Promise<void> {
    if (started || stopping) return;
    started = true;
    const client = providerClient(await apiKey());
    if (client) {
      llm = new LlmAnalyzer({
        provider: client,
        maxTokens: config.llm.maxTokens,
        maxPromptTokens: config.llm.maxPromptTokens,
        concurrency: config.llm.concurrency,
        retries: config.llm.retries,
        retryMaxDelayMs: config.llm.retryMaxDelay,
        cacheSize: config.llm.cache.size,
        cacheTtlMs: config.llm.cache.ttl,
        redactor: createRedactor(),
        metrics,
        logger,
        onInflight: (n) => llmQueue.setDepth(n),
        onCacheSize: (n) => llmCache.setDepth(n),
        now,
        ...(options.llmRetryBaseMs !== undefined ? { retryBaseMs: options.llmRetryBaseMs } : {}),
      });
    }
    await group.start();
    consuming = true;
    logger.info({ durable: group.name, builtins: names, llm: llm ? { provider: config.llm.provider, model: config.llm.model, endpoint: config.llm.endpoint ? redactUrl(config.llm.endpoint) : "(default)" } : "none" }, "analyzer consuming");
  }

  /** Stops consuming; running handlers finish (LLM waits end early on the kernel's abort signal) and publish. */
  async function doStop(): Promise<void> {
    consuming = false;
    await group.stop();
    inflight.setDepth(0);
  }

  return {
    start,
    stop() {
      stopping ??= doStop();
      return stopping;
    },
    readiness: () => (consuming ? true : { ok: false, detail: stopping ? "stopped" : "not consuming FARO_INCIDENT yet" }),
    analyzerMetrics: metrics,
  };
}
