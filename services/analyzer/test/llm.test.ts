// The LLM analyzers against local servers speaking each API's documented request and response shapes:
// answers become findings with resolving references; errors, timeouts and 429s are retried or counted; the
// cache answers look-alike incidents; concurrency is bounded; and a prompt that would leak is never sent.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { evidenceResolves } from "@faro/contracts";
import { createLogger, createMetrics } from "@faro/observability";
import { createRedactor } from "@faro/redact";
import { anthropicProvider } from "../src/llm/anthropic.js";
import { LlmAnalyzer, type LlmAnalyzerOptions } from "../src/llm/analyzer.js";
import { openAiProvider } from "../src/llm/openai.js";
import { buildPrompt, fingerprint, SYSTEM_PROMPT } from "../src/llm/prompt.js";
import type { LlmProviderClient } from "../src/llm/provider.js";
import { analyzerMetrics } from "../src/metrics.js";
import { RedactionRefusedError } from "../src/errors.js";
import { startFakeApi, type FakeApi } from "./fake-llm.js";
import { loadFixture, variant } from "./fixtures.js";

const ANSWER = JSON.stringify({
  probable_cause: "The payments service cannot reach its database and panics on a nil connection.",
  evidence: [
    { kind: "log_tail", index: 20, path: "" },
    { kind: "field", index: 0, path: "exit_code" },
    { kind: "manifest", index: 0, path: "/spec/containers/0/image" },
    { kind: "log_tail", index: 999, path: "" },
  ],
  next_steps: ["Check the database connection settings."],
  confidence: 0.7,
});

const logger = createLogger({ service: "analyzer", level: "silent", pretty: false });

function analyzer(provider: LlmProviderClient, over: Partial<LlmAnalyzerOptions> = {}) {
  const registry = createMetrics("analyzer").registry;
  const metrics = analyzerMetrics(registry);
  const a = new LlmAnalyzer({
    provider,
    maxTokens: 500,
    maxPromptTokens: 6000,
    concurrency: 2,
    retries: 2,
    retryMaxDelayMs: 2000,
    cacheSize: 100,
    cacheTtlMs: 3_600_000,
    redactor: createRedactor(),
    metrics,
    logger,
    retryBaseMs: 20,
    ...over,
  });
  return { a, metrics };
}

async function value(c: { get(): Promise<{ values: { value: number; labels: Record<string, unknown> }[] }> }, labels: Record<string, string> = {}): Promise<number> {
  return (await c.get()).values.filter((v) => Object.entries(labels).every(([k, x]) => v.labels[k] === x)).reduce((s, v) => s + v.value, 0);
}

const never = new AbortController().signal;

describe.each(["openai", "anthropic"] as const)("%s provider", (kind) => {
  let api: FakeApi;
  const make = (timeoutMs = 5000): LlmProviderClient =>
    kind === "openai"
      ? openAiProvider({ endpoint: api.url, model: "gpt-test", apiKey: "sk-test-key", timeoutMs, maxTokensField: "max_completion_tokens" })
      : anthropicProvider({ endpoint: api.url, model: "claude-test", apiKey: "sk-ant-test", timeoutMs });

  beforeAll(async () => {
    api = await startFakeApi(kind, ANSWER);
  });
  afterAll(async () => {
    await api.close();
  });

  it("sends the documented request and turns the answer into a finding whose references resolve", async () => {
    const ic = loadFixture("demo-payments-CrashLoopBackOff");
    const { a, metrics } = analyzer(make());
    const before = api.requests.length;
    const r = (await a.analyze(ic, never))!;
    expect(api.requests.length).toBe(before + 1);
    const req = api.requests.at(-1)!;
    if (kind === "openai") {
      expect(req.headers.authorization).toBe("Bearer sk-test-key");
      expect(req.body).toMatchObject({ model: "gpt-test", max_completion_tokens: 500, temperature: 0 });
      expect(req.body.messages.map((m: { role: string }) => m.role)).toEqual(["system", "user"]);
      expect(req.body.messages[0].content).toBe(SYSTEM_PROMPT);
    } else {
      expect(req.headers["x-api-key"]).toBe("sk-ant-test");
      expect(req.headers["anthropic-version"]).toBe("2023-06-01");
      expect(req.body).toMatchObject({ model: "claude-test", max_tokens: 500, system: SYSTEM_PROMPT });
      expect(req.body.messages).toHaveLength(1);
    }
    const user = kind === "openai" ? req.body.messages[1].content : req.body.messages[0].content;
    expect(user).toContain("log_tail[20]: panic: runtime error: invalid memory address or nil pointer dereference");
    expect(r.prompt).toBe(`${SYSTEM_PROMPT}\n\n${user}`);
    expect(r.answer).toBe(ANSWER);
    expect(r.model).toBe(kind === "openai" ? "gpt-test" : "claude-test");
    expect(r.finding).toMatchObject({ analyzer: `llm:${kind}`, probableCause: expect.stringMatching(/cannot reach its database/), confidence: 0.7, nextSteps: ["Check the database connection settings."] });
    // The reference past the log tail is dropped and counted; the others resolve.
    expect(r.finding.evidence.map((e) => `${e.kind}:${e.index}:${e.path}`)).toEqual(["log_tail:20:", "field:0:exit_code", "manifest:0:/spec/containers/0/image"]);
    for (const e of r.finding.evidence) expect(evidenceResolves(ic, e)).toBe(true);
    expect(await value(metrics.unresolvedEvidence, { source: "llm" })).toBe(1);
    expect(await value(metrics.llmTokens, { provider: kind, direction: "prompt" })).toBe(321);
    expect(await value(metrics.llmTokens, { provider: kind, direction: "completion" })).toBe(45);
  });

  it("answers a repeat of the same incident from the cache by fingerprint", async () => {
    const ic = loadFixture("crashloop-crasher-CrashLoopBackOff");
    const { a, metrics } = analyzer(make());
    const before = api.requests.length;
    const first = (await a.analyze(ic, never))!;
    const repeat = variant(ic, (c) => {
      c.repeatCount += 1;
      c.isUpdate = true;
    });
    expect(fingerprint(repeat)).toBe(fingerprint(ic));
    const second = (await a.analyze(repeat, never))!;
    expect(api.requests.length).toBe(before + 1);
    expect(second.cached).toBe(true);
    expect(second.answer).toBe(first.answer);
    expect(await value(metrics.llmCache, { result: "hit" })).toBe(1);
    // Another reason is another question.
    await a.analyze(variant(ic, (c) => (c.reason = "NonZeroExit")), never);
    expect(api.requests.length).toBe(before + 2);
  });

  it("waits out a 429 for its Retry-After, then succeeds", async () => {
    const { a, metrics } = analyzer(make());
    api.script({ status: 429, retryAfter: "1", message: "rate limited" });
    const before = api.requests.length;
    const t0 = Date.now();
    const r = await a.analyze(loadFixture("oomkill-hungry-OOMKilled"), never);
    expect(r?.finding.analyzer).toBe(`llm:${kind}`);
    expect(api.requests.length).toBe(before + 2);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(950);
    expect(await value(metrics.llmRetries, { provider: kind })).toBe(1);
    expect(await value(metrics.llmRequests, { provider: kind, outcome: "error" })).toBe(1);
  });

  it("gives up after its retries on server errors and counts the failure", async () => {
    const { a, metrics } = analyzer(make(), { retries: 1 });
    api.script({ status: kind === "anthropic" ? 529 : 503, message: "overloaded" }, { status: 500, message: "still down" });
    const before = api.requests.length;
    expect(await a.analyze(loadFixture("demo-recommender-OOMKilled"), never)).toBeUndefined();
    expect(api.requests.length).toBe(before + 2);
    expect(await value(metrics.llmFailures, { provider: kind, kind: "server" })).toBe(1);
  });

  it("does not retry a request the API refuses (400) and counts it as a client error", async () => {
    const { a, metrics } = analyzer(make());
    api.script({ status: 400, message: "bad request" });
    const before = api.requests.length;
    expect(await a.analyze(loadFixture("analysis-giant-FailedScheduling"), never)).toBeUndefined();
    expect(api.requests.length).toBe(before + 1);
    expect(await value(metrics.llmFailures, { provider: kind, kind: "client" })).toBe(1);
  });

  it("abandons a request that takes longer than the timeout", async () => {
    const { a, metrics } = analyzer(make(300), { retries: 0 });
    api.script({ hang: true });
    const t0 = Date.now();
    expect(await a.analyze(loadFixture("analysis-limited-OOMKilled"), never)).toBeUndefined();
    expect(Date.now() - t0).toBeLessThan(3000);
    expect(await value(metrics.llmFailures, { provider: kind, kind: "timeout" })).toBe(1);
  });

  it("keeps at most `concurrency` requests in flight", async () => {
    const names = ["crashloop-crasher-CrashLoopBackOff", "demo-payments-CrashLoopBackOff", "demo-recommender-OOMKilled", "oomkill-hungry-OOMKilled", "analysis-limited-OOMKilled"];
    const fresh = await startFakeApi(kind, ANSWER);
    try {
      const p = kind === "openai" ? openAiProvider({ endpoint: fresh.url, model: "m", timeoutMs: 5000, maxTokensField: "max_tokens" }) : anthropicProvider({ endpoint: fresh.url, model: "m", timeoutMs: 5000 });
      const { a: bounded } = analyzer(p, { concurrency: 2, cacheSize: 0 });
      const rs = await Promise.all(names.map((n) => bounded.analyze(loadFixture(n), never)));
      expect(rs.every((r) => r !== undefined)).toBe(true);
      expect(fresh.requests).toHaveLength(5);
      expect(fresh.maxConcurrent).toBe(2);
      expect(bounded.inflight).toBe(0);
    } finally {
      await fresh.close();
    }
  });

  it("refuses, counts and never sends a prompt in which the redactor still finds a secret", async () => {
    const { a, metrics } = analyzer(make());
    const leaky = variant(loadFixture("crashloop-crasher-CrashLoopBackOff"), (c) => {
      c.logTail.push({ timestamp: "2026-12-08T00:59:35Z", line: "connecting with password=hunter2-very-secret", truncated: false, originalBytes: 40 });
    });
    const before = api.requests.length;
    await expect(a.analyze(leaky, never)).rejects.toBeInstanceOf(RedactionRefusedError);
    await expect(a.analyze(leaky, never)).rejects.toThrow(/secret-field/);
    expect(api.requests.length).toBe(before);
    expect(await value(metrics.llmRefusals, { provider: kind })).toBe(2);
  });
});

describe("prompt", () => {
  it("fits the token budget by dropping the oldest log lines first", () => {
    const ic = loadFixture("demo-recommender-OOMKilled");
    const full = buildPrompt(ic, 100_000);
    expect(full.trimmed).toBe(false);
    const small = buildPrompt(ic, 1500);
    expect(small.trimmed).toBe(true);
    expect(small.user.length + SYSTEM_PROMPT.length).toBeLessThanOrEqual(1500 * 4);
    expect(small.user).toContain(`log_tail[${ic.logTail.length - 1}]: allocating 2GiB for embeddings`);
    expect(small.user).not.toContain("log_tail[0]:");
  });
});
