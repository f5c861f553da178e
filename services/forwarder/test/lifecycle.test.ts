// `faro run forwarder` as the container runs it: the service contract (metrics, health, readiness), and SIGTERM
// while a delivery is in flight drains it — the receiver's answer arrives, the incident is acked, exit 0.
import { spawn } from "node:child_process";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { jetstreamManager } from "@nats-io/jetstream";
import { checkServiceContract } from "@faro/observability";
import { registerProcess, startNats, startRedis, until, type ManagedServer } from "@faro/test-harness";
import { incident, publish, startRecorder } from "./helpers.js";

const root = path.resolve(import.meta.dirname, "../../..");
let nats: ManagedServer;
let redis: ManagedServer;
let nc: NatsConnection;

beforeAll(async () => {
  [nats, redis] = await Promise.all([startNats(), startRedis()]);
  nc = await connect({ servers: nats.url });
});

afterAll(async () => {
  await nc?.close();
  await Promise.all([nats?.stop(), redis?.stop()]);
});

describe("forwarder lifecycle", () => {
  it("follows the service contract and drains an in-flight delivery on SIGTERM (exit 0)", { timeout: 60_000 }, async () => {
    const rec = await startRecorder();
    let answeredAt = 0;
    // A slow receiver: each answer comes 1.5 s after the request.
    rec.respond = () => {
      setTimeout(() => (answeredAt = Date.now()), 1500);
      return { status: 200, delayMs: 1500 };
    };
    const sinks = JSON.stringify([{ name: "hooks", type: "webhook", timeout: "30s", webhook: { url: `${rec.url}/slow` } }]);
    const child = spawn(process.execPath, ["--import", "tsx", path.join(root, "apps/cli/src/main.ts"), "run", "forwarder"], {
      cwd: root,
      env: { ...process.env, FARO_NATS_URL: nats.url, FARO_REDIS_URL: redis.url, FARO_CLUSTER: "life", FARO_HTTP_PORT: "0", FARO_HTTP_HOST: "127.0.0.1", FARO_LOG_PRETTY: "false", FARO_SINKS: sinks },
      stdio: ["ignore", "pipe", "pipe"],
    });
    registerProcess(child);
    let out = "";
    child.stdout!.on("data", (d: Buffer) => (out += d.toString()));
    child.stderr!.on("data", (d: Buffer) => (out += d.toString()));
    const exited = new Promise<number | null>((r) => child.on("exit", (code) => r(code)));
    try {
      const url = await until(() => /"url":"(http:\/\/[^"]+)"/.exec(out)?.[1], "metrics url", 30_000);
      await until(() => out.includes("forwarder consuming"), "consuming");
      expect(await checkServiceContract(url, { expectReady: true })).toBeDefined();
      const seq = await publish(nc, incident("crasher", 1, { cluster: "life" }));
      await until(() => rec.requests.length === 1, "the delivery in flight");
      child.kill("SIGTERM");
      expect(await exited).toBe(0);
      const exitedAt = Date.now();
      expect(answeredAt).toBeGreaterThan(0);
      expect(answeredAt).toBeLessThanOrEqual(exitedAt);
      const info = await (await jetstreamManager(nc)).consumers.info("FARO_INCIDENT", "life_forwarder-hooks");
      expect(info.num_ack_pending).toBe(0);
      expect(info.ack_floor.stream_seq).toBe(seq);
      expect(out).toContain("lifecycle: draining");
      expect(rec.requests).toHaveLength(1);
    } finally {
      if (child.exitCode === null) child.kill("SIGKILL");
      await rec.close();
    }
  });
});
