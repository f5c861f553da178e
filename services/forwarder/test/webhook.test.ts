// The forwarder's core through the webhook sink, against real NATS, Redis and a real HTTP receiver: signed
// canonical JSON with the idempotency key, ack only after the receiver accepted, retries with backoff and
// Retry-After, dead letters with the reason (401, max deliveries), routes, silences, independent sinks, and
// secrets that never reach the logs.
import { createHmac } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { jetstreamManager } from "@nats-io/jetstream";
import { decodeDeadLetter, type DeadLetter } from "@faro/contracts";
import { startNats, startRedis, until, type ManagedServer } from "@faro/test-harness";
import { incident, publish, startForwarder, startRecorder, type Recorder, type StartedForwarder } from "./helpers.js";

let nats: ManagedServer;
let redis: ManagedServer;
let nc: NatsConnection;
let dir: string;
const SECRET = "whsec-9f8e7d6c5b4a";
const TOKEN = "tok-3c2b1a-never-logged";

beforeAll(async () => {
  [nats, redis] = await Promise.all([startNats(), startRedis()]);
  nc = await connect({ servers: nats.url });
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "faro-fwd-"));
  fs.writeFileSync(path.join(dir, "signing-secret"), `${SECRET}\n`);
});

afterAll(async () => {
  await nc?.close();
  await Promise.all([nats?.stop(), redis?.stop()]);
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

const env = (cluster: string) => ({ FARO_NATS_URL: nats.url, FARO_REDIS_URL: redis.url, FARO_CLUSTER: cluster, HOOK_TOKEN: TOKEN });

function webhook(name: string, rec: Recorder, extra: Record<string, unknown> = {}) {
  return {
    name,
    type: "webhook",
    retry: { base: "50ms", max: "200ms" },
    webhook: { url: `${rec.url}/hook/${name}`, signingSecret: { file: path.join(dir, "signing-secret") }, token: { env: "HOOK_TOKEN" }, headers: { "X-Team": "sre" } },
    ...extra,
  };
}

/** Dead letters of the forwarder from now on. */
function deadLetters() {
  const got: { subject: string; msgId: string | undefined; sink: string | undefined; letter: DeadLetter }[] = [];
  const sub = nc.subscribe("faro.v1.dlq.forwarder.>", {
    callback: (_e, m) => void got.push({ subject: m.subject, msgId: m.headers?.get("Nats-Msg-Id"), sink: m.headers?.get("Faro-Dlq-Sink"), letter: decodeDeadLetter(m.data) }),
  });
  return { got, stop: () => sub.unsubscribe() };
}

async function ackPending(cluster: string, sink: string): Promise<{ pending: number; ackPending: number }> {
  const info = await (await jetstreamManager(nc)).consumers.info("FARO_INCIDENT", `${cluster}_forwarder-${sink}`);
  return { pending: info.num_pending, ackPending: info.num_ack_pending };
}

describe("forwarder: webhook sink and the delivery core", () => {
  it("delivers signed canonical JSON once per revision, acks only after a 2xx, repeats as updates", { timeout: 30_000 }, async () => {
    const rec = await startRecorder();
    // The first attempt of every revision gets a 503: the incident must be retried, not acked.
    const attempts = new Map<string, number>();
    rec.respond = (r) => {
      const key = String(r.headers["idempotency-key"]);
      const n = (attempts.get(key) ?? 0) + 1;
      attempts.set(key, n);
      return n === 1 ? { status: 503, body: "busy" } : { status: 200 };
    };
    const fwd = await startForwarder(env("wh1"), { sinks: [webhook("hooks", rec)] });
    try {
      await publish(nc, incident("crasher", 1, { cluster: "wh1" }));
      await publish(nc, incident("crasher", 2, { cluster: "wh1" }));
      await until(() => rec.requests.filter((r) => r.body && attempts.get(String(r.headers["idempotency-key"]))! >= 2).length >= 2 && rec.requests.length >= 4, "two revisions accepted");
      await until(async () => (await ackPending("wh1", "hooks")).ackPending === 0, "both acked");
      const accepted = rec.requests.filter((_, i) => i > 0).filter((r) => r.headers["idempotency-key"]);
      const ok = new Map<string, (typeof accepted)[number]>();
      for (const r of accepted) ok.set(String(r.headers["idempotency-key"]), r);
      expect([...ok.keys()].sort()).toEqual(["crasher:1", "crasher:2"]);
      for (const [key, r] of ok) {
        const body = JSON.parse(r.body) as { event: string; idempotencyKey: string; sink: string; incident: { incidentId: string; repeatCount: number } };
        expect(body.idempotencyKey).toBe(key);
        expect(body.sink).toBe("hooks");
        expect(body.incident.incidentId).toBe("crasher");
        expect(body.event).toBe(body.incident.repeatCount === 1 ? "incident.opened" : "incident.updated");
        expect(r.headers["faro-event"]).toBe(body.event);
        expect(r.headers["x-team"]).toBe("sre");
        expect(r.headers["authorization"]).toBe(`Bearer ${TOKEN}`);
        // The documented verification: HMAC-SHA256 over "<t>.<body>" with the shared secret.
        const m = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(String(r.headers["faro-signature"]))!;
        expect(m).not.toBeNull();
        expect(m[2]).toBe(createHmac("sha256", SECRET).update(`${m[1]}.${r.body}`).digest("hex"));
        expect(Math.abs(Number(m[1]) - Date.now() / 1000)).toBeLessThan(60);
      }
      // The receiver recorded the last delivery before the forwarder read its answer: wait for the counts.
      await until(async () => (await fwd.metric("faro_forwarder_delivered_total", { sink: "hooks", event: "updated" })) === 1, "delivered{updated} = 1", 5_000);
      expect(await fwd.metric("faro_forwarder_delivered_total", { sink: "hooks", event: "opened" })).toBe(1);
      expect(await fwd.metric("faro_forwarder_retried_total", { sink: "hooks", kind: "http_503" })).toBe(2);
      expect(await fwd.metric("faro_forwarder_failed_total", { sink: "hooks", kind: "http_503" })).toBe(2);
      // Tokens and signing keys never reach the logs.
      expect(fwd.logs()).not.toContain(TOKEN);
      expect(fwd.logs()).not.toContain(SECRET);
      expect(fwd.logs()).toContain("delivery failed; retrying");
    } finally {
      await fwd.running.stop();
      await rec.close();
    }
  });

  it("dead-letters a 401 at once with the reason, and nothing else is retried", { timeout: 30_000 }, async () => {
    const rec = await startRecorder();
    rec.respond = () => ({ status: 401, body: '{"error":"bad token"}' });
    const dl = deadLetters();
    const fwd = await startForwarder(env("wh2"), { sinks: [webhook("locked", rec)] });
    try {
      const seq = await publish(nc, incident("oom", 1, { cluster: "wh2", reason: "OOMKilled" }));
      const got = await until(() => dl.got.find((d) => d.letter.streamSeq === seq), "the dead letter");
      expect(got.subject).toBe("faro.v1.dlq.forwarder.deliver");
      expect(got.msgId).toBe(`dl:forwarder:deliver:locked:${seq}`);
      expect(got.sink).toBe("locked");
      expect(got.letter).toMatchObject({ service: "forwarder", stage: "deliver", reason: "permanent error", deliveries: 1, originalSubject: "faro.v1.incident.acme.wh2.shop.OOMKilled" });
      expect(got.letter.error).toMatch(/sink locked: delivery of oom:1 failed: HTTP 401/);
      await until(async () => (await ackPending("wh2", "locked")).ackPending === 0, "the incident acked after dead-lettering");
      expect(rec.requests).toHaveLength(1);
      expect(await fwd.metric("faro_forwarder_dead_lettered_total", { sink: "locked", reason: "permanent error" })).toBe(1);
      expect(await fwd.metric("faro_dead_letters_total", { reason: "deliver" })).toBe(1);
      expect(got.letter.error).not.toContain(TOKEN);
    } finally {
      dl.stop();
      await fwd.running.stop();
      await rec.close();
    }
  });

  it("retries 5xx with backoff up to maxDeliveries, then dead-letters 'max deliveries exceeded'", { timeout: 30_000 }, async () => {
    const rec = await startRecorder();
    rec.respond = () => ({ status: 500, body: "down" });
    const dl = deadLetters();
    const fwd = await startForwarder(env("wh3"), { sinks: [webhook("flaky", rec, { maxDeliveries: 3 })] });
    try {
      const seq = await publish(nc, incident("broken", 1, { cluster: "wh3", reason: "ImagePullBackOff" }));
      const got = await until(() => dl.got.find((d) => d.letter.streamSeq === seq), "the dead letter", 20_000);
      expect(got.letter).toMatchObject({ reason: "max deliveries exceeded", deliveries: 3 });
      expect(got.letter.error).toMatch(/HTTP 500 down/);
      expect(rec.requests).toHaveLength(3);
      // Exponential: the second gap is longer than the first (base 50ms, ×2, ±20% jitter).
      const [a, b, c] = rec.requests.map((r) => r.atMs) as [number, number, number];
      expect(b - a).toBeGreaterThanOrEqual(35);
      expect(c - b).toBeGreaterThan((b - a) * 1.1);
      expect(await fwd.metric("faro_forwarder_retried_total", { sink: "flaky", kind: "http_500" })).toBe(2);
    } finally {
      dl.stop();
      await fwd.running.stop();
      await rec.close();
    }
  });

  it("honours Retry-After of a 429 without counting it as a delivery", { timeout: 30_000 }, async () => {
    const rec = await startRecorder();
    rec.respond = (_r, n) => (n === 1 ? { status: 429, headers: { "retry-after": "1" }, body: "slow down" } : { status: 200 });
    const fwd = await startForwarder(env("wh4"), { sinks: [webhook("throttled", rec, { maxDeliveries: 1 })] });
    try {
      await publish(nc, incident("crasher", 1, { cluster: "wh4" }));
      await until(() => rec.requests.length >= 2, "the second attempt", 5000).catch((e: Error) => { throw new Error(`${e.message}\n${fwd.logs()}`); });
      expect(rec.requests[1]!.atMs - rec.requests[0]!.atMs).toBeGreaterThanOrEqual(950);
      await until(async () => (await fwd.metric("faro_forwarder_delivered_total", { sink: "throttled", event: "opened" })) === 1, "delivered");
      expect(await fwd.metric("faro_forwarder_retried_total", { sink: "throttled", kind: "retry_after" })).toBe(1);
      expect(await fwd.metric("faro_forwarder_dead_lettered_total", { sink: "throttled", reason: "max deliveries exceeded" })).toBe(0);
    } finally {
      await fwd.running.stop();
      await rec.close();
    }
  });

  it("routes by severity, namespace pattern and labels; silences are counted; a broken sink never holds back another", { timeout: 30_000 }, async () => {
    const good = await startRecorder();
    const broken = await startRecorder();
    broken.respond = () => ({ status: 503 });
    const fwd = await startForwarder(env("wh5"), {
      sinks: [webhook("pager", good), webhook("all", good), webhook("stuck", broken, { retry: { base: "5s", max: "5s" } })],
      routes: [
        { sinks: ["pager"], severities: ["critical"], namespaces: ["pay*"], labels: "team=payments" },
        { sinks: ["all", "stuck"] },
      ],
      silences: [{ name: "maintenance", sinks: ["all"], namespaces: ["quiet"], ends: "2999-01-01T00:00:00Z" }],
    });
    try {
      await publish(nc, incident("a", 1, { cluster: "wh5", severity: "critical", namespace: "payments" }));
      await publish(nc, incident("b", 1, { cluster: "wh5", severity: "high", namespace: "payments" }));
      await publish(nc, incident("c", 1, { cluster: "wh5", severity: "critical", namespace: "quiet" }));
      const by = (sink: string) => good.requests.filter((r) => r.path === `/hook/${sink}`).map((r) => String(r.headers["idempotency-key"])).sort();
      await until(() => by("all").length === 2 && by("pager").length === 1, "pager and all delivered");
      expect(by("pager")).toEqual(["a:1"]);
      expect(by("all")).toEqual(["a:1", "b:1"]);
      await until(async () => (await fwd.metric("faro_forwarder_silenced_total", { sink: "all", silence: "maintenance" })) === 1, "the silence counted");
      expect(await fwd.metric("faro_forwarder_unrouted_total", { sink: "pager" })).toBe(2);
      // The stuck sink has all three in flight or pending, the others are done.
      expect(broken.requests.length).toBeGreaterThanOrEqual(1);
      expect(await fwd.metric("faro_forwarder_delivered_total", { sink: "stuck", event: "opened" })).toBe(0);
      expect((await ackPending("wh5", "all")).ackPending).toBe(0);
    } finally {
      await fwd.running.stop();
      await good.close();
      await broken.close();
    }
  });
});
