// @faro/analyzer: probable causes of incidents — built-in analyzers (offline, deterministic) and optional LLM
// providers — published as one Insight per incident revision (docs/analysis.md).
export { configSchema, BUILTIN_NAMES, LLM_PROVIDERS } from "./config.js";
export type { AnalyzerConfig, BuiltinName, LlmProvider } from "./config.js";
export { analyzerService } from "./definition.js";
export { createAnalyzer, insightFor, CONSUMER_NAME, DEAD_LETTER_STAGE } from "./service.js";
export type { Analyzer, AnalyzerOptions } from "./service.js";
export { BUILTINS, NO_FINDING_ANALYZER, runBuiltins, noFinding } from "./builtins/index.js";
export type { BuiltinAnalyzer } from "./builtins/types.js";
export { parseImageRef, classifyPullError } from "./builtins/image-pull.js";
export type { ImageRef, PullFailure } from "./builtins/image-pull.js";
export { exitCodeMeaning } from "./builtins/exit-code.js";
export { parseMissingRef } from "./builtins/config-ref.js";
export type { MissingRef } from "./builtins/config-ref.js";
export { parseFailedScheduling } from "./builtins/scheduling.js";
export { parseEviction } from "./builtins/node-pressure.js";
export { probeFailure } from "./builtins/probe.js";
export { IncidentView, parseQuantity } from "./view.js";
export { LlmAnalyzer, promptText } from "./llm/analyzer.js";
export type { LlmAnalyzerOptions, LlmResult } from "./llm/analyzer.js";
export { openAiProvider, OPENAI_ENDPOINT } from "./llm/openai.js";
export { anthropicProvider, ANTHROPIC_ENDPOINT, ANTHROPIC_VERSION } from "./llm/anthropic.js";
export { buildPrompt, fingerprint, parseAnswer, SYSTEM_PROMPT, CHARS_PER_TOKEN } from "./llm/prompt.js";
export { retryAfterMs } from "./llm/provider.js";
export type { LlmProviderClient, Completion, CompletionRequest } from "./llm/provider.js";
export { analyzerMetrics } from "./metrics.js";
export type { AnalyzerMetrics } from "./metrics.js";
export { AnalyzerError, MalformedIncidentError, ApiKeyFileError, LlmRequestError, RedactionRefusedError } from "./errors.js";
export type { LlmFailureKind } from "./errors.js";
