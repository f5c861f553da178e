// The Slack sink against a local server speaking the Slack Web API shapes (chat.postMessage, chat.update, `ok`/`error`
// bodies, HTTP 429 with Retry-After): the first revision is a Block Kit message, repeats are thread replies plus an
// update of the first message, a restarted forwarder finds the thread again in Redis, a throttled burst loses
// nothing and keeps each thread's order, and invalid_auth is dead-lettered.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { decodeDeadLetter } from "@faro/contracts";
import { startNats, startRedis, until, type ManagedServer } from "@faro/test-harness";
import { incident, publish, startForwarder, startRecorder, type RecordedRequest, type Recorder } from "./helpers.js";

const TOKEN = "xoxb-1234-5678-slacktoken";
let nats: ManagedServer;
let redis: ManagedServer;
let nc: NatsConnection;
let dir: string;

beforeAll(async () => {
  [nats, redis] = await Promise.all([startNats(), startRedis()]);
  nc = await connect({ servers: nats.url });
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "faro-fwd-slack-"));
  fs.writeFileSync(path.join(dir, "token"), TOKEN);
});

afterAll(async () => {
  await nc?.close();
  await Promise.all([nats?.stop(), redis?.stop()]);
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

interface SlackCall {
  method: string;
  body: { channel: string; ts?: string; thread_ts?: string; text: string; blocks: { type: string; text?: { text: string }; fields?: { text: string }[] }[] };
  ts: string;
}

/** Slack's Web API as documented: Bearer token, JSON in, `{ok, channel, ts}` out; `throttle` decides 429s. */
function slack(rec: Recorder, opts: { token?: string; throttleMs?: number } = {}): { calls: SlackCall[]; throttled: number } {
  const state = { calls: [] as SlackCall[], throttled: 0 };
  let n = 0;
  let lastAccepted = 0;
  rec.respond = (r: RecordedRequest) => {
    const method = r.path.replace(/^\/api\//, "");
    if (r.headers["authorization"] !== `Bearer ${opts.token ?? TOKEN}`) return { status: 200, body: JSON.stringify({ ok: false, error: "invalid_auth" }) };
    if (opts.throttleMs && Date.now() - lastAccepted < opts.throttleMs) {
      state.throttled++;
      return { status: 429, headers: { "retry-after": "1" }, body: JSON.stringify({ ok: false, error: "ratelimited" }) };
    }
    lastAccepted = Date.now();
    const body = JSON.parse(r.body) as SlackCall["body"];
    const ts = method === "chat.update" ? body.ts! : `1700000000.${String(++n).padStart(6, "0")}`;
    state.calls.push({ method, body, ts });
    return { status: 200, body: JSON.stringify({ ok: true, channel: body.channel, ts, message: { text: body.text } }) };
  };
  return state;
}

const env = (cluster: string) => ({ FARO_NATS_URL: nats.url, FARO_REDIS_URL: redis.url, FARO_CLUSTER: cluster });
const sink = (rec: Recorder, extra: Record<string, unknown> = {}) => ({
  name: "chat",
  type: "slack",
  retry: { base: "50ms", max: "200ms" },
  slack: { apiUrl: `${rec.url}/api`, channel: "C0FARO", token: { file: path.join(dir, "token") } },
  ...extra,
});

describe("forwarder: Slack sink", () => {
  it("posts Block Kit, threads repeats with a chat.update of the first message, and finds the thread after a restart", { timeout: 30_000 }, async () => {
    const rec = await startRecorder();
    const s = slack(rec);
    let fwd = await startForwarder(env("sl1"), { sinks: [sink(rec)] });
    try {
      await publish(nc, incident("crasher", 1, { cluster: "sl1" }));
      await publish(nc, incident("crasher", 2, { cluster: "sl1" }));
      await until(() => s.calls.length === 3, "post, reply, update");
      const [first, reply, update] = s.calls as [SlackCall, SlackCall, SlackCall];
      expect(first.method).toBe("chat.postMessage");
      expect(first.body.thread_ts).toBeUndefined();
      expect(first.body.channel).toBe("C0FARO");
      expect(first.body.blocks[0]).toMatchObject({ type: "header", text: { text: "CrashLoopBackOff: Deployment/crasher" } });
      const fields = first.body.blocks[1]!.fields!.map((f) => f.text).join("\n");
      for (const want of ["Deployment/crasher", "shop", "sl1", "*Count*\n1"]) expect(fields).toContain(want);
      expect(JSON.stringify(first.body.blocks)).toContain("panic: boom");
      expect(JSON.stringify(first.body.blocks)).toContain("exit code 1");
      expect(JSON.stringify(first.body.blocks)).toContain("s-crasher");
      expect(reply).toMatchObject({ method: "chat.postMessage", body: { thread_ts: first.ts } });
      expect(update).toMatchObject({ method: "chat.update", body: { ts: first.ts } });
      expect(update.body.text).toContain("×2");
      await fwd.running.stop();

      // A new forwarder (same Redis): the third revision still goes to the thread.
      fwd = await startForwarder(env("sl1"), { sinks: [sink(rec)] });
      await publish(nc, incident("crasher", 3, { cluster: "sl1" }));
      await until(() => s.calls.length === 5, "reply and update after the restart");
      expect(s.calls.filter((c) => c.method === "chat.postMessage" && c.body.thread_ts === undefined)).toHaveLength(1);
      expect(s.calls[3]).toMatchObject({ method: "chat.postMessage", body: { thread_ts: first.ts } });
      expect(s.calls[4]).toMatchObject({ method: "chat.update", body: { ts: first.ts } });
      expect(fwd.logs()).not.toContain(TOKEN);
    } finally {
      await fwd.running.stop();
      await rec.close();
    }
  });

  it("a burst against 429 + Retry-After loses nothing and keeps each thread's order", { timeout: 40_000 }, async () => {
    const rec = await startRecorder();
    const s = slack(rec, { throttleMs: 300 });
    const fwd = await startForwarder(env("sl2"), { sinks: [sink(rec, { concurrency: 4, maxDeliveries: 2 })] });
    try {
      for (const [id, n] of [["a", 1], ["b", 1], ["a", 2], ["a", 3], ["b", 2]] as const) await publish(nc, incident(id, n, { cluster: "sl2" }));
      await until(() => s.calls.length === 2 + 3 * 2, "every revision shown", 30_000);
      expect(s.throttled).toBeGreaterThan(0);
      const top = s.calls.filter((c) => c.method === "chat.postMessage" && c.body.thread_ts === undefined);
      expect(top).toHaveLength(2);
      for (const id of ["a", "b"]) {
        const parent = top.find((c) => c.body.text.includes(`/Deployment/${id} `))!;
        const replies = s.calls.filter((c) => c.body.thread_ts === parent.ts).map((c) => Number(/×(\d+)/.exec(c.body.text)![1]));
        expect(replies).toEqual(id === "a" ? [2, 3] : [2]);
      }
      expect(await fwd.metric("faro_forwarder_retried_total", { sink: "chat", kind: "retry_after" })).toBe(s.throttled);
      expect(await fwd.metric("faro_forwarder_dead_lettered_total", { sink: "chat", reason: "max deliveries exceeded" })).toBe(0);
    } finally {
      await fwd.running.stop();
      await rec.close();
    }
  });

  it("dead-letters invalid_auth with the reason", { timeout: 30_000 }, async () => {
    const rec = await startRecorder();
    slack(rec, { token: "xoxb-some-other-token" });
    const letters: string[] = [];
    const sub = nc.subscribe("faro.v1.dlq.forwarder.deliver", { callback: (_e, m) => void letters.push(decodeDeadLetter(m.data).error) });
    const fwd = await startForwarder(env("sl3"), { sinks: [sink(rec)] });
    try {
      await publish(nc, incident("oom", 1, { cluster: "sl3" }));
      await until(() => letters.length === 1, "the dead letter");
      expect(letters[0]).toBe("sink chat: delivery of oom:1 failed: chat.postMessage: invalid_auth");
      expect(rec.requests).toHaveLength(1);
    } finally {
      sub.unsubscribe();
      await fwd.running.stop();
      await rec.close();
    }
  });
});

describe("forwarder: Slack incoming-webhook mode", () => {
  it("posts each revision to the hook URL, repeats as new messages marked as repeats, 429 waited out, 404 dead-lettered", { timeout: 30_000 }, async () => {
    const rec = await startRecorder();
    const HOOK_PATH = "/services/T0FARO/B0FARO/hooksecret123";
    const posts: { text: string; blocks: { type: string; text?: { text: string } }[] }[] = [];
    let throttled = 0;
    // hooks.slack.com's documented shapes: `ok` as plain text; 429 with Retry-After; 404 `no_service` for a removed hook.
    rec.respond = (r: RecordedRequest) => {
      if (r.path !== HOOK_PATH) return { status: 404, body: "no_service" };
      if (throttled === 0 && posts.length === 1) {
        throttled++;
        return { status: 429, headers: { "retry-after": "1" }, body: "rate_limited" };
      }
      posts.push(JSON.parse(r.body) as (typeof posts)[number]);
      return { status: 200, body: "ok" };
    };
    fs.writeFileSync(path.join(dir, "hook"), `${rec.url}${HOOK_PATH}\n`);
    fs.writeFileSync(path.join(dir, "badhook"), `${rec.url}/services/T0FARO/B0FARO/removed\n`);
    const letters: string[] = [];
    const sub = nc.subscribe("faro.v1.dlq.forwarder.deliver", { callback: (_e, m) => void letters.push(decodeDeadLetter(m.data).error) });
    const hookSink = (name: string, file: string) => ({ name, type: "slack", retry: { base: "50ms", max: "200ms" }, slack: { webhookUrl: { file: path.join(dir, file) } } });
    const fwd = await startForwarder(env("sl4"), { sinks: [hookSink("hook", "hook"), hookSink("gone", "badhook")] });
    try {
      await publish(nc, incident("crasher", 1, { cluster: "sl4" }));
      await until(() => posts.length === 1, "the first message");
      await publish(nc, incident("crasher", 2, { cluster: "sl4" }));
      await until(() => posts.length === 2 && letters.length === 2, "the repeat and the dead letters of the removed hook");
      expect(throttled).toBe(1);
      expect(posts[0]!.text).toBe("CrashLoopBackOff in shop/Deployment/crasher (sl4) ×1");
      expect(posts[0]!.blocks[0]!.text!.text).toBe("CrashLoopBackOff: Deployment/crasher");
      expect(posts[1]!.text).toMatch(/^Repeat ×2: CrashLoopBackOff in shop\/Deployment\/crasher/);
      expect(posts[1]!.blocks[0]!.text!.text).toBe("Repeat ×2 — CrashLoopBackOff: Deployment/crasher");
      expect(JSON.stringify(posts[1]!.blocks)).toContain("crasher");
      expect(rec.requests.every((r) => r.headers["authorization"] === undefined)).toBe(true);
      expect(letters.sort()).toEqual(["sink gone: delivery of crasher:1 failed: HTTP 404 no_service", "sink gone: delivery of crasher:2 failed: HTTP 404 no_service"]);
      const logs = fwd.logs();
      expect(logs).not.toContain("hooksecret123");
      expect(logs).not.toContain("/services/T0FARO");
    } finally {
      sub.unsubscribe();
      await fwd.running.stop();
      await rec.close();
    }
  });
});
