// The OpenAI-compatible chat-completions provider: POST {model, messages: [system, user], max_tokens |
// max_completion_tokens, temperature: 0} → choices[0].message.content, usage.prompt_tokens/completion_tokens.
// Authorization: Bearer <key>. Errors carry {"error": {"message", "type", "code"}}.
import { LlmRequestError } from "../errors.js";
import { postJson, type Completion, type CompletionRequest, type LlmProviderClient } from "./provider.js";

export const OPENAI_ENDPOINT = "https://api.openai.com/v1/chat/completions";

export interface OpenAiOptions {
  endpoint?: string;
  model: string;
  apiKey?: string;
  timeoutMs: number;
  maxTokensField: "max_tokens" | "max_completion_tokens";
}

interface ChatCompletion {
  model?: string;
  choices?: { message?: { role?: string; content?: string | null; refusal?: string | null }; finish_reason?: string }[];
  usage?: { prompt_tokens?: number; completion_tokens?: number };
}

export function openAiProvider(o: OpenAiOptions): LlmProviderClient {
  const headers: Record<string, string> = o.apiKey ? { authorization: `Bearer ${o.apiKey}` } : {};
  const http = { endpoint: o.endpoint ?? OPENAI_ENDPOINT, headers, timeoutMs: o.timeoutMs };
  return {
    name: "openai",
    async complete(req: CompletionRequest): Promise<Completion> {
      const body = {
        model: o.model,
        messages: [
          { role: "system", content: req.system },
          { role: "user", content: req.user },
        ],
        [o.maxTokensField]: req.maxTokens,
        temperature: 0,
      };
      const json = (await postJson("openai", http, body, req.signal, (j) => (j as { error?: { message?: string } }).error?.message)) as ChatCompletion;
      const choice = json.choices?.[0];
      const text = choice?.message?.content;
      if (typeof text !== "string" || text.trim() === "") {
        const refusal = choice?.message?.refusal;
        throw new LlmRequestError("openai", "bad_response", 200, refusal ? `the model refused: ${refusal}` : "no choices[0].message.content in the answer");
      }
      return {
        text,
        model: json.model ?? o.model,
        ...(json.usage?.prompt_tokens !== undefined ? { promptTokens: json.usage.prompt_tokens } : {}),
        ...(json.usage?.completion_tokens !== undefined ? { completionTokens: json.usage.completion_tokens } : {}),
      };
    },
  };
}
