// The analyzer over real NATS JetStream, started through the kernel like `faro run analyzer`: recorded
// incidents in, one Insight per incident revision out (idempotent), poison dead-lettered in the kernel's
// envelope, an LLM insight next to the built-in one when a provider is configured, and the service contract.
import { Writable } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DeliverPolicy, type JsMsg } from "@nats-io/jetstream";
import { connectBus, type Bus } from "@faro/bus";
import { ConfigError } from "@faro/config";
import {
  buildIncidentSubject,
  decodeDeadLetter,
  decodeInsight,
  encodeIncidentContext,
  evidenceResolves,
  FARO_DLQ,
  FARO_INSIGHT,
  incidentMessageId,
  insightFilter,
  type IncidentContext,
  type Insight,
} from "@faro/contracts";
import { loadServiceConfig, startService, type RunningService } from "@faro/kernel";
import { checkServiceContract, createLogger } from "@faro/observability";
import { startNats, until, type ManagedServer } from "@faro/test-harness";
import { analyzerService } from "../src/definition.js";
import type { Analyzer } from "../src/service.js";
import { startFakeApi, type FakeApi } from "./fake-llm.js";
import { loadFixture, variant } from "./fixtures.js";

let nats: ManagedServer;
let bus: Bus;
let api: FakeApi;
const running: RunningService<Analyzer>[] = [];

beforeAll(async () => {
  [nats, api] = await Promise.all([startNats(), startFakeApi("openai", JSON.stringify({ probable_cause: "model says: database down", evidence: [{ kind: "field", index: 0, path: "exit_code" }], next_steps: ["ask the DBA"], confidence: 0.6 }))]);
  bus = await connectBus({ servers: nats.url, name: "analyzer-test" });
});

afterAll(async () => {
  await Promise.all(running.splice(0).map((r) => r.stop()));
  await bus?.close();
  await api?.close();
  await nats?.stop();
});

function config(cluster: string, extra: string[] = []) {
  return loadServiceConfig(analyzerService, { argv: ["--nats.url", nats.url, "--cluster", cluster, "--log.level", "silent", "--http.port", "0", "--http.host", "127.0.0.1", ...extra], env: {} });
}

async function start(cluster: string, extra: string[] = [], http = false): Promise<RunningService<Analyzer>> {
  const r = await startService(analyzerService, config(cluster, extra), { logger: createLogger({ service: "analyzer", level: "silent", pretty: false }), http });
  running.push(r);
  return r;
}

/** A recorded incident moved to its own cluster, so each test reads only its own insights. */
function inCluster(name: string, cluster: string): IncidentContext {
  // Real incident ids differ per cluster (they hash the story id, which hashes the cluster): so do these.
  return variant(loadFixture(name), (c) => {
    c.cluster = cluster;
    c.incidentId = `${c.incidentId}-${cluster}`;
  });
}

/** Publishes an incident; the message id carries the cluster, as tests reuse recorded incidents in several clusters. */
async function publishIncident(ic: IncidentContext, msgId = `${ic.cluster}:${incidentMessageId(ic.incidentId, ic.repeatCount)}`): Promise<number> {
  const ack = await bus.js.publish(buildIncidentSubject(ic.tenant, ic.cluster, ic.namespace, ic.reason), encodeIncidentContext(ic), { msgID: msgId });
  return ack.seq;
}

/** Every insight stored for a cluster, with its message id. */
async function insights(cluster: string): Promise<{ msgId: string; insight: Insight }[]> {
  const c = await bus.js.consumers.get(FARO_INSIGHT.name, { filter_subjects: insightFilter({ cluster }).replace(/(\.\*)+$/, ".>"), deliver_policy: DeliverPolicy.All });
  const out: { msgId: string; insight: Insight }[] = [];
  try {
    const pending = (await c.info()).num_pending;
    for (let i = 0; i < pending; i++) {
      const m = (await c.next({ expires: 5000 })) as JsMsg | null;
      if (!m) break;
      out.push({ msgId: m.headers?.get("Nats-Msg-Id") ?? "", insight: decodeInsight(m.data) });
    }
  } finally {
    await c.delete().catch(() => undefined);
  }
  return out;
}

async function waitInsights(cluster: string, n: number) {
  return await until(async () => {
    const all = await insights(cluster);
    return all.length >= n ? all : undefined;
  }, "insights", 20_000);
}

async function counter(r: RunningService<Analyzer>, name: string, labels: Record<string, string> = {}): Promise<number> {
  const m = r.handle.metrics.registry.getSingleMetric(name);
  if (!m) return 0;
  return (await m.get()).values.filter((v) => Object.entries(labels).every(([k, x]) => v.labels[k] === x)).reduce((s, v) => s + v.value, 0);
}

describe("the analyzer service", () => {
  it("publishes one insight per incident revision, with evidence that resolves, and dedupes redeliveries", async () => {
    const cluster = "svc-one";
    const r = await start(cluster);
    const ic = inCluster("demo-recommender-OOMKilled", cluster);
    await publishIncident(ic);
    // The same revision again (another producer's message id): the insight's id dedupes it.
    await publishIncident(ic, "again-1");
    const [first] = await waitInsights(cluster, 1);
    expect(first!.msgId).toBe(`is:${ic.incidentId}:${ic.repeatCount}:builtin`);
    const insight = first!.insight;
    expect(insight).toMatchObject({ incidentId: ic.incidentId, repeatCount: ic.repeatCount, storyId: ic.storyId, tenant: ic.tenant, cluster, namespace: "shop", reason: "OOMKilled", analyzer: "builtin:oomkilled", prompt: "", answer: "" });
    expect(insight.otherFindings.map((f) => f.analyzer)).toEqual(["builtin:exit-code"]);
    for (const e of [...insight.evidence, ...insight.otherFindings.flatMap((f) => f.evidence)]) expect(evidenceResolves(ic, e)).toBe(true);
    await until(async () => (await counter(r, "faro_messages_in_total")) >= 2, "both deliveries handled", 10_000);
    // The next revision is a new insight.
    await publishIncident(variant(ic, (c) => ((c.repeatCount += 1), (c.isUpdate = true))));
    const both = await waitInsights(cluster, 2);
    expect(both.map((x) => x.insight.repeatCount)).toEqual([ic.repeatCount, ic.repeatCount + 1]);
    expect(await counter(r, "faro_analyzer_insights_total", { source: "builtin", analyzer: "builtin:oomkilled" })).toBe(2);
    expect(await counter(r, "faro_messages_dropped_total", { reason: "duplicate_insight" })).toBe(1);
    expect((await insights(cluster)).length).toBe(2);
  });

  it("dead-letters an undecodable incident in the kernel's envelope", async () => {
    const cluster = "svc-poison";
    const r = await start(cluster);
    const subject = buildIncidentSubject("default", cluster, "shop", "OOMKilled");
    const seq = (await bus.js.publish(subject, new Uint8Array([0x0a, 0xff, 0xff, 0x01]), { msgID: "poison-svc" })).seq;
    const c = await bus.js.consumers.get(FARO_DLQ.name, { filter_subjects: "faro.v1.dlq.analyzer.>" });
    try {
      const dl = await until(async () => {
        const m = await c.next({ expires: 2000 });
        const d = m ? decodeDeadLetter(m.data) : undefined;
        return d?.streamSeq === seq ? { d, subject: m!.subject, id: m!.headers?.get("Nats-Msg-Id") } : undefined;
      }, "the dead letter", 20_000);
      expect(dl.subject).toBe("faro.v1.dlq.analyzer.decode");
      expect(dl.id).toBe(`dl:analyzer:decode:${seq}`);
      expect(dl.d).toMatchObject({ service: "analyzer", stage: "decode", originalSubject: subject, payloadWithheld: true });
    } finally {
      await c.delete().catch(() => undefined);
    }
    expect(await counter(r, "faro_dead_letters_total", { reason: "decode" })).toBe(1);
    expect(await insights(cluster)).toEqual([]);
  });

  it("adds the LLM's insight, with prompt and answer, next to the built-in one; a leaking prompt is refused", async () => {
    const cluster = "svc-llm";
    const r = await start(cluster, ["--llm.provider", "openai", "--llm.endpoint", api.url, "--llm.model", "gpt-test", "--llm.apiKey", "sk-svc"]);
    const ic = inCluster("crashloop-crasher-CrashLoopBackOff", cluster);
    await publishIncident(ic);
    const got = await waitInsights(cluster, 2);
    const llm = got.find((x) => x.insight.analyzer === "llm:openai")!;
    expect(llm.msgId).toBe(`is:${ic.incidentId}:${ic.repeatCount}:llm`);
    expect(llm.insight).toMatchObject({ probableCause: "model says: database down", model: "gpt-test", nextSteps: ["ask the DBA"], confidence: 0.6 });
    expect(llm.insight.prompt).toContain("log_tail[10]: fatal: cannot connect to database");
    expect(JSON.parse(llm.insight.answer)).toMatchObject({ probable_cause: "model says: database down" });
    expect(llm.insight.evidence).toEqual([{ kind: "field", index: 0, path: "exit_code", quote: "1" }]);
    expect(got.find((x) => x.insight.analyzer === "builtin:exit-code")).toBeDefined();

    const sent = api.requests.length;
    const leaky = variant(ic, (c) => {
      c.incidentId = "i-leaky";
      c.logTail.push({ timestamp: "2026-12-08T00:59:35Z", line: "AWS key AKIAIOSFODNN7EXAMPLE in use", truncated: false, originalBytes: 33 });
    });
    await publishIncident(leaky);
    const after = await waitInsights(cluster, 3);
    expect(after.filter((x) => x.insight.incidentId === "i-leaky").map((x) => x.insight.analyzer)).toEqual(["builtin:exit-code"]);
    await until(async () => (await counter(r, "faro_analyzer_llm_refusals_total", { provider: "openai" })) === 1, "the refusal counted", 10_000);
    expect(api.requests.length).toBe(sent);
  });

  it("drains without waiting for the LLM, and the abandoned revision gets its LLM insight after redelivery", async () => {
    const cluster = "svc-drain";
    const llmArgs = ["--llm.provider", "openai", "--llm.endpoint", api.url, "--llm.model", "gpt-test", "--llm.timeout", "20s"];
    const first = await start(cluster, llmArgs);
    api.script({ hang: true });
    const before = api.requests.length;
    const ic = inCluster("demo-recommender-OOMKilled", cluster);
    await publishIncident(ic);
    await until(() => api.requests.length > before, "the LLM request sent", 10_000);
    const t0 = Date.now();
    await first.stop();
    expect(Date.now() - t0).toBeLessThan(5000);
    expect((await insights(cluster)).map((x) => x.insight.analyzer)).toEqual(["builtin:oomkilled"]);
    // The next replica gets the incident again: the built-in insight is a duplicate, the LLM's is new.
    const second = await start(cluster, llmArgs);
    const got = await waitInsights(cluster, 2);
    expect(got.map((x) => x.insight.analyzer)).toEqual(["builtin:oomkilled", "llm:openai"]);
    expect(await counter(second, "faro_messages_dropped_total", { reason: "duplicate_insight" })).toBe(1);
  });

  it("never prints the API key, at debug level, on success and on a refused key", async () => {
    const key = "sk-Analyzer-SECRET-5d2e";
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        lines.push(chunk.toString());
        done();
      },
    });
    const cluster = "svc-secret";
    const r = await startService(analyzerService, config(cluster, ["--llm.provider", "openai", "--llm.endpoint", api.url, "--llm.model", "gpt-test", "--llm.apiKey", key, "--llm.retries", "0"]), {
      logger: createLogger({ service: "analyzer", level: "debug", pretty: false, destination: sink }),
      http: false,
    });
    running.push(r);
    api.script({ answer: JSON.stringify({ probable_cause: "ok", evidence: [], next_steps: [], confidence: 0.5 }) }, { status: 401, message: "invalid x-api-key" });
    await publishIncident(inCluster("demo-payments-CrashLoopBackOff", cluster));
    await publishIncident(inCluster("demo-recommender-OOMKilled", cluster));
    await waitInsights(cluster, 3);
    await until(async () => (await counter(r, "faro_analyzer_llm_failures_total", { kind: "client" })) === 1, "the refused key counted", 10_000);
    await r.stop();
    expect(api.requests.some((q) => q.headers.authorization === `Bearer ${key}`)).toBe(true);
    const out = lines.join("");
    expect(out).toMatch(/analyzer consuming/);
    expect(out).toMatch(/LLM analysis failed/);
    expect(out).not.toContain(key);
  });

  it("serves the service contract, stops idempotently, and refuses bad configuration naming the field", async () => {
    const r = await start("svc-contract", [], true);
    const report = await checkServiceContract(r.handle.http!.url, { expectReady: true });
    expect(report.metrics).toMatch(/faro_queue_capacity\{[^}]*queue="llm_in_flight"[^}]*\} 2/);
    expect(report.metrics).toMatch(/faro_queue_capacity\{[^}]*queue="handlers_in_flight"[^}]*\} 8/);
    const [a, b] = await Promise.all([r.stop(), r.stop()]);
    expect(a).toEqual(b);
    expect(r.instance.readiness()).toEqual({ ok: false, detail: "stopped" });

    expect(() => config("x", ["--llm.provider", "anthropic"])).toThrow(ConfigError);
    expect(() => config("x", ["--llm.provider", "anthropic"])).toThrow(/llm\.model: required when llm\.provider is anthropic/);
    expect(() => config("x", ["--builtins", "oomkilled,psychic"])).toThrow(/unknown built-in analyzer "psychic"/);
  });
});
