// One interface for every LLM provider: a system text and a user text in, the answer text and token counts
// out. Providers speak their API's documented JSON over fetch; failures are LlmRequestErrors with a kind.
import { LlmRequestError } from "../errors.js";

export interface Completion {
  text: string;
  model: string;
  promptTokens?: number;
  completionTokens?: number;
}

export interface CompletionRequest {
  system: string;
  user: string;
  maxTokens: number;
  signal: AbortSignal;
}

export interface LlmProviderClient {
  /** `openai` or `anthropic`: the metric label and the insight's `llm:<name>`. */
  readonly name: string;
  complete(req: CompletionRequest): Promise<Completion>;
}

export interface HttpOptions {
  endpoint: string;
  headers: Record<string, string>;
  timeoutMs: number;
}

/** Retry-After as milliseconds: delta-seconds or an HTTP date; undefined when absent or unreadable. */
export function retryAfterMs(value: string | null, now = Date.now()): number | undefined {
  if (!value) return undefined;
  const s = Number(value);
  if (Number.isFinite(s) && s >= 0) return s * 1000;
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/**
 * POSTs JSON and returns the parsed JSON answer. Maps every failure to LlmRequestError: timeout (our deadline),
 * rate_limited (429), server (5xx, 529), client (other 4xx), network (no answer), bad_response (not JSON).
 * `errorText` pulls the provider's error message out of an error body.
 */
export async function postJson(provider: string, http: HttpOptions, body: unknown, signal: AbortSignal, errorText: (json: unknown) => string | undefined): Promise<unknown> {
  const timeout = AbortSignal.timeout(http.timeoutMs);
  const both = AbortSignal.any([timeout, signal]);
  let res: Response;
  let text: string;
  try {
    res = await fetch(http.endpoint, { method: "POST", headers: { "content-type": "application/json", ...http.headers }, body: JSON.stringify(body), signal: both });
    text = await res.text();
  } catch (err) {
    if (timeout.aborted) throw new LlmRequestError(provider, "timeout", undefined, `no answer within ${http.timeoutMs}ms`, undefined, { cause: err });
    if (signal.aborted) throw new LlmRequestError(provider, "network", undefined, "aborted: the analyzer is stopping", undefined, { cause: err });
    throw new LlmRequestError(provider, "network", undefined, (err as Error).message, undefined, { cause: err });
  }
  let json: unknown;
  try {
    json = text === "" ? undefined : JSON.parse(text);
  } catch {
    json = undefined;
  }
  if (!res.ok) {
    const detail = (json !== undefined ? errorText(json) : undefined) ?? text.slice(0, 200) ?? res.statusText;
    const kind = res.status === 429 ? "rate_limited" : res.status >= 500 ? "server" : "client";
    throw new LlmRequestError(provider, kind, res.status, detail, retryAfterMs(res.headers.get("retry-after")));
  }
  if (json === undefined) throw new LlmRequestError(provider, "bad_response", res.status, "the answer is not JSON");
  return json;
}
