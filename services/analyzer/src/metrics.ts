// The analyzer's own metrics (faro_analyzer_*), next to the standard service metrics on the same registry.
import { counter, histogram, type Counter, type Histogram, type Registry } from "@faro/observability";

export interface AnalyzerMetrics {
  insights: Counter<"source" | "analyzer">;
  findings: Counter<"analyzer">;
  unresolvedEvidence: Counter<"source">;
  llmRequests: Counter<"provider" | "outcome">;
  llmFailures: Counter<"provider" | "kind">;
  llmRefusals: Counter<"provider">;
  llmRetries: Counter<"provider">;
  llmTokens: Counter<"provider" | "direction">;
  llmCache: Counter<"result">;
  llmSeconds: Histogram<"provider">;
  promptTrimmed: Counter;
}

export function analyzerMetrics(registry: Registry): AnalyzerMetrics {
  return {
    insights: counter(registry, { name: "faro_analyzer_insights_total", help: "Insights published, by source (builtin, llm) and the analyzer that concluded.", labelNames: ["source", "analyzer"] }),
    findings: counter(registry, { name: "faro_analyzer_findings_total", help: "Findings of the built-in analyzers, by analyzer (several may match one incident).", labelNames: ["analyzer"] }),
    unresolvedEvidence: counter(registry, { name: "faro_analyzer_unresolved_evidence_total", help: "Evidence references left out of an insight because they did not resolve into the incident, by source.", labelNames: ["source"] }),
    llmRequests: counter(registry, { name: "faro_analyzer_llm_requests_total", help: "Requests to the LLM provider, by outcome (ok, error).", labelNames: ["provider", "outcome"] }),
    llmFailures: counter(registry, { name: "faro_analyzer_llm_failures_total", help: "Incident revisions that got no LLM insight because the provider failed, by kind (timeout, rate_limited, server, client, network, bad_response).", labelNames: ["provider", "kind"] }),
    llmRefusals: counter(registry, { name: "faro_analyzer_llm_refusals_total", help: "Prompts not sent because the redactor still found something to mask in them.", labelNames: ["provider"] }),
    llmRetries: counter(registry, { name: "faro_analyzer_llm_retries_total", help: "Requests retried after a 429, a 5xx, a timeout or a network error.", labelNames: ["provider"] }),
    llmTokens: counter(registry, { name: "faro_analyzer_llm_tokens_total", help: "Tokens the provider reported, by direction (prompt, completion).", labelNames: ["provider", "direction"] }),
    llmCache: counter(registry, { name: "faro_analyzer_llm_cache_total", help: "LLM answers looked up by incident fingerprint, by result (hit, miss).", labelNames: ["result"] }),
    llmSeconds: histogram(registry, {
      name: "faro_analyzer_llm_request_seconds",
      help: "Time of one request to the LLM provider (retries are separate requests).",
      labelNames: ["provider"],
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
    }),
    promptTrimmed: counter(registry, { name: "faro_analyzer_prompt_trimmed_total", help: "Prompts trimmed to fit llm.maxPromptTokens." }),
  };
}
