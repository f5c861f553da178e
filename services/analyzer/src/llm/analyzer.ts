// The LLM analyzer: one provider behind the interface, a bounded number of requests in flight, retries of
// 429/5xx/timeouts after Retry-After, a cache of answers by incident fingerprint, and the redaction gate —
// the prompt is checked again with the redactor before it leaves and refused when anything would leak.
import type { Finding, IncidentContext } from "@faro/contracts";
import type { Logger } from "@faro/observability";
import { backoffDelay, Semaphore, sleep } from "@faro/primitives";
import type { Redactor } from "@faro/redact";
import { LlmRequestError, RedactionRefusedError } from "../errors.js";
import type { AnalyzerMetrics } from "../metrics.js";
import { buildPrompt, fingerprint, parseAnswer, SYSTEM_PROMPT } from "./prompt.js";
import type { LlmProviderClient } from "./provider.js";

export interface LlmAnalyzerOptions {
  provider: LlmProviderClient;
  maxTokens: number;
  maxPromptTokens: number;
  concurrency: number;
  retries: number;
  retryMaxDelayMs: number;
  cacheSize: number;
  cacheTtlMs: number;
  redactor: Redactor;
  metrics: AnalyzerMetrics;
  logger: Logger;
  /** Depth of the requests in flight (faro_queue_depth{queue="llm_in_flight"}). */
  onInflight?: (n: number) => void;
  /** Entries in the answer cache (faro_queue_depth{queue="llm_cache"}). */
  onCacheSize?: (n: number) => void;
  now?: () => number;
  retryBaseMs?: number;
}

export interface LlmResult {
  finding: Finding;
  prompt: string;
  answer: string;
  model: string;
  fingerprint: string;
  cached: boolean;
}

interface CacheEntry {
  prompt: string;
  answer: string;
  model: string;
  at: number;
}

/** The full prompt as it is sent and kept in the insight. */
export function promptText(system: string, user: string): string {
  return `${system}\n\n${user}`;
}

export class LlmAnalyzer {
  readonly name: string;
  private readonly slots: Semaphore;
  private readonly cache = new Map<string, CacheEntry>();
  private readonly now: () => number;

  constructor(private readonly o: LlmAnalyzerOptions) {
    this.name = `llm:${o.provider.name}`;
    this.slots = new Semaphore(o.concurrency, o.onInflight);
    this.now = o.now ?? Date.now;
  }

  get inflight(): number {
    return this.slots.inUse;
  }

  /**
   * Analyses one incident revision. Resolves undefined when the provider failed after its retries (counted in
   * faro_analyzer_llm_failures_total, logged) or the analyzer is stopping; throws RedactionRefusedError when
   * the prompt would carry something the redactor still masks (counted, logged, never sent).
   */
  async analyze(ic: IncidentContext, signal: AbortSignal, working?: () => void): Promise<LlmResult | undefined> {
    const m = this.o.metrics;
    const provider = this.o.provider.name;
    const fp = fingerprint(ic);
    const hit = this.lookup(fp);
    if (hit) {
      m.llmCache.inc({ result: "hit" });
      return this.result(ic, hit, fp, true);
    }
    if (this.o.cacheSize > 0) m.llmCache.inc({ result: "miss" });
    const built = buildPrompt(ic, this.o.maxPromptTokens);
    if (built.trimmed) m.promptTrimmed.inc();
    const prompt = promptText(SYSTEM_PROMPT, built.user);
    // The gate: incident content was redacted by the filter; anything the redactor still finds must not leave.
    const check = this.o.redactor.redactText(prompt);
    if (check.hits.length > 0) {
      const rules = [...new Set(check.hits.map((h) => h.rule))].sort();
      m.llmRefusals.inc({ provider });
      const err = new RedactionRefusedError(ic.incidentId, rules);
      // Rule names only: the content itself is exactly what must not be logged.
      this.o.logger.warn({ incidentId: ic.incidentId, repeatCount: ic.repeatCount, rules }, "prompt refused: the redactor still finds secrets in it; not sent");
      throw err;
    }
    if (!(await this.slots.acquire(signal))) return undefined;
    try {
      for (let attempt = 1; ; attempt++) {
        const started = performance.now();
        try {
          const c = await this.o.provider.complete({ system: SYSTEM_PROMPT, user: built.user, maxTokens: this.o.maxTokens, signal });
          m.llmSeconds.observe({ provider }, (performance.now() - started) / 1000);
          m.llmRequests.inc({ provider, outcome: "ok" });
          if (c.promptTokens !== undefined) m.llmTokens.inc({ provider, direction: "prompt" }, c.promptTokens);
          if (c.completionTokens !== undefined) m.llmTokens.inc({ provider, direction: "completion" }, c.completionTokens);
          const entry = { prompt, answer: c.text, model: c.model, at: this.now() };
          this.store(fp, entry);
          return this.result(ic, entry, fp, false);
        } catch (err) {
          m.llmSeconds.observe({ provider }, (performance.now() - started) / 1000);
          m.llmRequests.inc({ provider, outcome: "error" });
          const e = err instanceof LlmRequestError ? err : new LlmRequestError(provider, "network", undefined, String(err), undefined, { cause: err });
          if (signal.aborted) return undefined;
          if (e.retryable && attempt <= this.o.retries) {
            const wait = Math.min(this.o.retryMaxDelayMs, e.retryAfterMs ?? backoffDelay(attempt, { baseMs: this.o.retryBaseMs ?? 500, maxMs: this.o.retryMaxDelayMs, jitter: 0.2 }));
            m.llmRetries.inc({ provider });
            this.o.logger.info({ incidentId: ic.incidentId, kind: e.kind, status: e.status, waitMs: wait, attempt }, "LLM request failed; retrying");
            working?.();
            if (!(await sleep(wait, signal))) return undefined;
            continue;
          }
          m.llmFailures.inc({ provider, kind: e.kind });
          this.o.logger.warn({ incidentId: ic.incidentId, kind: e.kind, status: e.status, err: e.message }, "LLM analysis failed; the incident keeps its built-in insight only");
          return undefined;
        }
      }
    } finally {
      this.slots.release();
    }
  }

  private result(ic: IncidentContext, e: CacheEntry, fp: string, cached: boolean): LlmResult {
    const { finding, unresolved } = parseAnswer(ic, this.name, e.answer);
    if (unresolved) this.o.metrics.unresolvedEvidence.inc({ source: "llm" }, unresolved);
    return { finding, prompt: e.prompt, answer: e.answer, model: e.model, fingerprint: fp, cached };
  }

  private lookup(fp: string): CacheEntry | undefined {
    const e = this.cache.get(fp);
    if (!e) return undefined;
    if (this.now() - e.at > this.o.cacheTtlMs) {
      this.cache.delete(fp);
      this.o.onCacheSize?.(this.cache.size);
      return undefined;
    }
    return e;
  }

  private store(fp: string, e: CacheEntry): void {
    if (this.o.cacheSize <= 0) return;
    this.cache.delete(fp);
    this.cache.set(fp, e);
    while (this.cache.size > this.o.cacheSize) this.cache.delete(this.cache.keys().next().value!);
    this.o.onCacheSize?.(this.cache.size);
  }
}
