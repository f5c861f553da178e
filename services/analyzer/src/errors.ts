// Named errors of the analyzer, each carrying the context a reader needs to act on it.

function causeText(cause: unknown): string {
  return cause instanceof Error ? `: ${cause.message}` : "";
}

export class AnalyzerError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "AnalyzerError";
  }
}

/** An incident message that can never be analysed (undecodable, unsupported schema): dead-lettered at stage `decode`. */
export class MalformedIncidentError extends AnalyzerError {
  constructor(
    readonly subject: string,
    detail: string,
    options?: { cause?: unknown },
  ) {
    super(`malformed incident on ${subject}: ${detail}`, options);
    this.name = "MalformedIncidentError";
  }
}

/** The API key file named in `llm.apiKeyFile` cannot be read. */
export class ApiKeyFileError extends AnalyzerError {
  constructor(
    readonly file: string,
    options?: { cause?: unknown },
  ) {
    super(`cannot read the LLM API key file ${file}${causeText(options?.cause)}`, options);
    this.name = "ApiKeyFileError";
  }
}

/** Why a provider call failed: the kind drives retries and the metric label. */
export type LlmFailureKind = "timeout" | "rate_limited" | "server" | "client" | "network" | "bad_response";

/** A request to an LLM provider failed; `retryable` failures (429, 5xx, timeouts, network) may pass on retry. */
export class LlmRequestError extends AnalyzerError {
  constructor(
    readonly provider: string,
    readonly kind: LlmFailureKind,
    readonly status: number | undefined,
    detail: string,
    readonly retryAfterMs?: number,
    options?: { cause?: unknown },
  ) {
    super(`${provider} request failed (${kind}${status ? ` ${status}` : ""}): ${detail}`, options);
    this.name = "LlmRequestError";
  }

  get retryable(): boolean {
    return this.kind === "timeout" || this.kind === "rate_limited" || this.kind === "server" || this.kind === "network";
  }
}

/** The prompt would carry something the redactor still masks: it is never sent. */
export class RedactionRefusedError extends AnalyzerError {
  constructor(
    readonly incidentId: string,
    readonly rules: readonly string[],
  ) {
    super(`prompt for incident ${incidentId} refused: the redactor still finds ${rules.join(", ")} in it`);
    this.name = "RedactionRefusedError";
  }
}
