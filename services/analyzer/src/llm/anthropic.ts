// The Anthropic Messages provider: POST {model, max_tokens, system, messages: [{role: "user", content}]} with
// x-api-key and anthropic-version → content[] text blocks, usage.input_tokens/output_tokens. Errors carry
// {"type": "error", "error": {"type", "message"}}; 429 rate_limit_error, 529 overloaded_error.
import { LlmRequestError } from "../errors.js";
import { postJson, type Completion, type CompletionRequest, type LlmProviderClient } from "./provider.js";

export const ANTHROPIC_ENDPOINT = "https://api.anthropic.com/v1/messages";
export const ANTHROPIC_VERSION = "2023-06-01";

export interface AnthropicOptions {
  endpoint?: string;
  model: string;
  apiKey?: string;
  timeoutMs: number;
}

interface Message {
  type?: string;
  model?: string;
  content?: { type: string; text?: string }[];
  stop_reason?: string;
  usage?: { input_tokens?: number; output_tokens?: number };
}

export function anthropicProvider(o: AnthropicOptions): LlmProviderClient {
  const http = {
    endpoint: o.endpoint ?? ANTHROPIC_ENDPOINT,
    headers: { "anthropic-version": ANTHROPIC_VERSION, ...(o.apiKey ? { "x-api-key": o.apiKey } : {}) },
    timeoutMs: o.timeoutMs,
  };
  return {
    name: "anthropic",
    async complete(req: CompletionRequest): Promise<Completion> {
      const body = { model: o.model, max_tokens: req.maxTokens, system: req.system, messages: [{ role: "user", content: req.user }], temperature: 0 };
      const json = (await postJson("anthropic", http, body, req.signal, (j) => (j as { error?: { message?: string } }).error?.message)) as Message;
      const text = (json.content ?? [])
        .filter((b) => b.type === "text" && typeof b.text === "string")
        .map((b) => b.text)
        .join("");
      if (json.type !== "message" || text.trim() === "") throw new LlmRequestError("anthropic", "bad_response", 200, "no text content block in the answer");
      return {
        text,
        model: json.model ?? o.model,
        ...(json.usage?.input_tokens !== undefined ? { promptTokens: json.usage.input_tokens } : {}),
        ...(json.usage?.output_tokens !== undefined ? { completionTokens: json.usage.output_tokens } : {}),
      };
    },
  };
}
