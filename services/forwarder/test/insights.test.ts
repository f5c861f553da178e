// Insights to sinks with `insights: true` (their own durable on FARO_INSIGHT): an `insight.added` webhook event, a
// Slack thread reply, a GitHub comment — each only after the sink showed the incident (an insight that arrives
// first waits), acked without delivery when the incident was not routed to the sink; sinks without the option
// never see an insight.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { jetstream } from "@nats-io/jetstream";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { buildInsightSubject, encodeInsight, type Encodable, type Insight } from "@faro/contracts";
import { startNats, startRedis, until, type ManagedServer } from "@faro/test-harness";
import { incident, publish, startForwarder, startRecorder, TENANT, type RecordedRequest, type Recorder } from "./helpers.js";

const CLUSTER = "ins1";
let nats: ManagedServer;
let redis: ManagedServer;
let nc: NatsConnection;
let dir: string;

beforeAll(async () => {
  [nats, redis] = await Promise.all([startNats(), startRedis()]);
  nc = await connect({ servers: nats.url });
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "faro-fwd-insights-"));
  fs.writeFileSync(path.join(dir, "token"), "tok-123");
});

afterAll(async () => {
  await nc?.close();
  await Promise.all([nats?.stop(), redis?.stop()]);
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

function insight(id: string, repeatCount: number, namespace = "shop"): Encodable<Insight> {
  return {
    schemaVersion: 1,
    incidentId: id,
    repeatCount,
    storyId: `s-${id}`,
    tenant: TENANT,
    cluster: CLUSTER,
    namespace,
    reason: "CrashLoopBackOff",
    analyzer: "builtin:panic",
    probableCause: "the app panics at start-up",
    evidence: [{ kind: "log_tail", index: 0, path: "", quote: "panic: boom" }],
    nextSteps: ["read the panic's stack trace"],
    confidence: 0.8,
    otherFindings: [],
    prompt: "",
    answer: "",
    model: "",
    createdAt: new Date().toISOString(),
    fingerprint: "fp",
  } as Encodable<Insight>;
}

async function publishInsight(i: Encodable<Insight>): Promise<void> {
  await jetstream(nc).publish(buildInsightSubject(i.tenant, i.cluster, i.namespace, i.storyId), encodeInsight(i), { msgID: `is:${i.incidentId}:${i.repeatCount}:builtin` });
}

/** Slack's chat.postMessage as documented (JSON in, `{ok, channel, ts}` out). */
function slack(rec: Recorder): { method: string; body: { text: string; thread_ts?: string } ; ts: string }[] {
  const calls: { method: string; body: { text: string; thread_ts?: string }; ts: string }[] = [];
  rec.respond = (r: RecordedRequest) => {
    const body = JSON.parse(r.body) as { text: string; thread_ts?: string; ts?: string; channel: string };
    const ts = r.path.endsWith("chat.update") ? body.ts! : `1700000000.${String(calls.length + 1).padStart(6, "0")}`;
    calls.push({ method: r.path.replace(/^\/api\//, ""), body, ts });
    return { status: 200, body: JSON.stringify({ ok: true, channel: body.channel, ts }) };
  };
  return calls;
}

/** GitHub's create-issue and comment endpoints as documented. */
function github(rec: Recorder): { number: number; comments: string[] }[] {
  const issues: { number: number; comments: string[] }[] = [];
  rec.respond = (r: RecordedRequest) => {
    if (r.path === "/repos/acme/oncall/issues") {
      issues.push({ number: issues.length + 1, comments: [] });
      return { status: 201, body: JSON.stringify({ number: issues.length }) };
    }
    const m = /^\/repos\/acme\/oncall\/issues\/(\d+)\/comments$/.exec(r.path);
    if (m) {
      issues[Number(m[1]) - 1]!.comments.push((JSON.parse(r.body) as { body: string }).body);
      return { status: 201, body: "{}" };
    }
    if (r.path.startsWith("/search/issues")) return { status: 200, body: JSON.stringify({ total_count: 0, items: [] }) };
    return { status: 404, body: "{}" };
  };
  return issues;
}

describe("forwarder: insights", () => {
  it("reach the sinks that take them after their incident, as an event, a thread reply and a comment", { timeout: 30_000 }, async () => {
    const [hook, chat, gh, plain] = await Promise.all([startRecorder(), startRecorder(), startRecorder(), startRecorder()]);
    const calls = slack(chat);
    const issues = github(gh);
    const retry = { base: "50ms", max: "200ms" };
    const fwd = await startForwarder(
      { FARO_NATS_URL: nats.url, FARO_REDIS_URL: redis.url, FARO_CLUSTER: CLUSTER },
      {
        sinks: [
          { name: "hook", type: "webhook", insights: true, retry, webhook: { url: `${hook.url}/faro` } },
          { name: "chat", type: "slack", insights: true, retry, slack: { apiUrl: `${chat.url}/api`, channel: "C1", token: { file: path.join(dir, "token") } } },
          { name: "gh", type: "github", insights: true, retry, github: { apiUrl: gh.url, repository: "acme/oncall", token: { file: path.join(dir, "token") } } },
          // No `insights`: incidents only.
          { name: "plain", type: "webhook", retry, webhook: { url: `${plain.url}/faro` } },
        ],
        // Namespace `other` goes to no sink but `plain`: its insight must be acked, not shown anywhere.
        routes: [{ sinks: ["hook", "chat", "gh", "plain"], namespaces: ["shop"] }, { sinks: ["plain"], namespaces: ["other"] }],
      },
    );
    try {
      // The insight first: the sinks have not shown the incident yet, so it waits for it.
      await publishInsight(insight("crasher", 1));
      await until(async () => (await fwd.metric("faro_forwarder_retried_total", { sink: "chat", kind: "incident_pending" })) >= 1, "the insight waiting for its incident");
      expect(hook.requests).toHaveLength(0);
      await publish(nc, incident("crasher", 1, { cluster: CLUSTER }));
      await until(() => hook.requests.length === 2 && calls.length === 2 && (issues[0]?.comments.length ?? 0) === 1, "incident then insight at every sink taking insights");

      // Webhook: incident.opened, then insight.added with its own idempotency key.
      expect(hook.requests.map((r) => r.headers["faro-event"])).toEqual(["incident.opened", "insight.added"]);
      const ev = JSON.parse(hook.requests[1]!.body) as { event: string; idempotencyKey: string; insight: Record<string, unknown> };
      expect(ev).toMatchObject({ event: "insight.added", idempotencyKey: "crasher:1:insight:builtin:panic", insight: { incidentId: "crasher", probableCause: "the app panics at start-up" } });
      expect(hook.requests[1]!.headers["idempotency-key"]).toBe("crasher:1:insight:builtin:panic");
      // Slack: a reply in the incident's thread.
      expect(calls[1]).toMatchObject({ method: "chat.postMessage", body: { thread_ts: calls[0]!.ts } });
      expect(calls[1]!.body.text).toContain("the app panics at start-up");
      // GitHub: a comment on the incident's issue, no second issue.
      expect(issues).toHaveLength(1);
      expect(issues[0]!.comments[0]).toContain("Probable cause: the app panics at start-up");
      expect(issues[0]!.comments[0]).toContain("- read the panic's stack trace");

      // An incident routed elsewhere: its insight is acked by the sinks taking insights, counted as unrouted.
      await publish(nc, incident("other", 1, { cluster: CLUSTER, namespace: "other" }));
      await until(() => plain.requests.length === 2, "the other incident at plain");
      await publishInsight(insight("other", 1, "other"));
      await until(async () => (await fwd.metric("faro_forwarder_unrouted_total", { sink: "hook" })) === 2, "incident and insight unrouted at hook");
      await until(async () => (await fwd.metric("faro_forwarder_unrouted_total", { sink: "gh" })) === 2, "incident and insight unrouted at gh");
      expect(hook.requests).toHaveLength(2);
      // plain never sees insights: only its two incidents.
      expect(plain.requests.map((r) => r.headers["faro-event"])).toEqual(["incident.opened", "incident.opened"]);
      expect(await fwd.metric("faro_forwarder_delivered_total", { sink: "hook", event: "insight" })).toBe(1);
      // The insight durables carry the sink durables' names, on FARO_INSIGHT; none for a sink without insights.
      const jsm = await jetstream(nc).jetstreamManager();
      const names: string[] = [];
      for await (const c of jsm.consumers.list("FARO_INSIGHT")) names.push(c.name);
      expect(names.sort()).toEqual([`${CLUSTER}_forwarder-chat`, `${CLUSTER}_forwarder-gh`, `${CLUSTER}_forwarder-hook`]);
    } finally {
      await fwd.running.stop();
      await Promise.all([hook, chat, gh, plain].map((r) => r.close()));
    }
  });
});
