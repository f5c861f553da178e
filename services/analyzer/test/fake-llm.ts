// Local HTTP servers that speak the documented shapes of the OpenAI chat-completions API and the Anthropic
// Messages API (request validation included), with scripted failures: error bodies, 429 with Retry-After,
// 5xx, and answers that never come. Never a hosted service.
import http from "node:http";
import type { AddressInfo } from "node:net";

export interface Recorded {
  path: string;
  headers: http.IncomingHttpHeaders;
  body: Record<string, any>;
}

/** What the server does with one request: answer with text, fail with a status, or hang. */
export type Step = { answer: string } | { status: number; retryAfter?: string; message?: string } | { hang: true };

export interface FakeApi {
  url: string;
  requests: Recorded[];
  /** Most requests in progress at once. */
  maxConcurrent: number;
  /** Steps for the next requests, in order; when none are left the default answer is given. */
  script(...steps: Step[]): void;
  setDefault(answer: string): void;
  close(): Promise<void>;
}

/** The error body each API documents. */
function errorBody(kind: "openai" | "anthropic", status: number, message: string): unknown {
  if (kind === "openai") return { error: { message, type: status === 429 ? "rate_limit_exceeded" : status >= 500 ? "server_error" : "invalid_request_error", param: null, code: status === 429 ? "rate_limit_exceeded" : null } };
  const type = status === 429 ? "rate_limit_error" : status === 529 ? "overloaded_error" : status >= 500 ? "api_error" : status === 401 ? "authentication_error" : "invalid_request_error";
  return { type: "error", error: { type, message } };
}

/** The request shape each API requires; a violation is answered 400 like the real API would. */
function invalid(kind: "openai" | "anthropic", r: Recorded): string | undefined {
  const b = r.body;
  if (kind === "openai") {
    if (r.path !== "/v1/chat/completions") return `unknown path ${r.path}`;
    if (typeof b.model !== "string") return "model is required";
    if (!Array.isArray(b.messages) || b.messages.some((m: any) => !["system", "user", "assistant", "developer"].includes(m.role) || typeof m.content !== "string")) return "messages must be role/content pairs";
    if (b.max_tokens === undefined && b.max_completion_tokens === undefined) return "max_tokens missing";
    return undefined;
  }
  if (r.path !== "/v1/messages") return `unknown path ${r.path}`;
  if (!r.headers["anthropic-version"]) return "anthropic-version header required";
  if (typeof b.model !== "string" || typeof b.max_tokens !== "number") return "model and max_tokens are required";
  if (!Array.isArray(b.messages) || b.messages[0]?.role !== "user") return "messages must start with a user turn";
  if (b.messages.some((m: any) => m.role === "system")) return "system goes in the top-level system field";
  return undefined;
}

function success(kind: "openai" | "anthropic", model: string, text: string): unknown {
  if (kind === "openai") {
    return {
      id: "chatcmpl-test",
      object: "chat.completion",
      created: 1_700_000_000,
      model,
      choices: [{ index: 0, message: { role: "assistant", content: text, refusal: null }, logprobs: null, finish_reason: "stop" }],
      usage: { prompt_tokens: 321, completion_tokens: 45, total_tokens: 366 },
    };
  }
  return { id: "msg_test", type: "message", role: "assistant", model, content: [{ type: "text", text }], stop_reason: "end_turn", stop_sequence: null, usage: { input_tokens: 321, output_tokens: 45 } };
}

export async function startFakeApi(kind: "openai" | "anthropic", defaultAnswer: string): Promise<FakeApi> {
  const requests: Recorded[] = [];
  const steps: Step[] = [];
  let fallback = defaultAnswer;
  let inProgress = 0;
  let maxConcurrent = 0;
  const hanging = new Set<http.ServerResponse>();
  const server = http.createServer((req, res) => {
    let data = "";
    req.on("data", (c: Buffer) => (data += c.toString()));
    req.on("end", () => {
      const r: Recorded = { path: req.url ?? "", headers: req.headers, body: JSON.parse(data || "{}") };
      requests.push(r);
      inProgress++;
      maxConcurrent = Math.max(maxConcurrent, inProgress);
      const done = () => inProgress--;
      res.on("close", done);
      const bad = invalid(kind, r);
      const send = (status: number, body: unknown, headers: Record<string, string> = {}) => {
        const later = () => {
          res.writeHead(status, { "content-type": "application/json", ...headers });
          res.end(JSON.stringify(body));
        };
        // Answers take a moment, so concurrent requests overlap measurably.
        setTimeout(later, 30);
      };
      if (bad) return send(400, errorBody(kind, 400, bad));
      const step = steps.shift() ?? { answer: fallback };
      if ("hang" in step) {
        hanging.add(res);
        return;
      }
      if ("status" in step) return send(step.status, errorBody(kind, step.status, step.message ?? "scripted failure"), step.retryAfter ? { "retry-after": step.retryAfter } : {});
      send(200, success(kind, r.body.model, step.answer));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}${kind === "openai" ? "/v1/chat/completions" : "/v1/messages"}`,
    requests,
    get maxConcurrent() {
      return maxConcurrent;
    },
    script: (...s) => steps.push(...s),
    setDefault: (a) => (fallback = a),
    async close() {
      for (const r of hanging) r.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
