// The correlator as a process: bad config exits 2 naming the field; a good one serves the service contract and SIGTERM exits 0.
import { spawn } from "node:child_process";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { checkServiceContract } from "@faro/observability";
import { startNats, startRedis, type ManagedServer } from "@faro/test-harness";
import { until } from "./helpers.js";

const ROOT = path.resolve(import.meta.dirname, "../../..");
const MAIN = path.join(ROOT, "services/correlator/src/main.ts");
const TSX = path.join(ROOT, "node_modules/.bin/tsx");

function run(env: Record<string, string>) {
  const child = spawn(TSX, [MAIN], { cwd: ROOT, env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "", ...env }, stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (b: Buffer) => (stdout += b.toString()));
  child.stderr.on("data", (b: Buffer) => (stderr += b.toString()));
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  return { child, exited, out: () => stdout, err: () => stderr };
}

describe("correlator main", () => {
  let nats: ManagedServer;
  let redis: ManagedServer;
  beforeAll(async () => {
    [nats, redis] = await Promise.all([startNats(), startRedis()]);
  });
  afterAll(async () => {
    await Promise.all([nats?.stop(), redis?.stop()]);
  });

  it("exits 2 naming the field of an invalid setting", async () => {
    const p = run({ FARO_DEBOUNCE_WINDOW: "five minutes" });
    expect(await p.exited).toBe(2);
    expect(p.err()).toMatch(/debounce\.window/);
  });

  it("starts, follows the service contract, and exits 0 on SIGTERM", async () => {
    const p = run({ FARO_NATS_URL: nats.url, FARO_REDIS_URL: redis.url, FARO_API_ENABLED: "false", FARO_HTTP_PORT: "0", FARO_HTTP_HOST: "127.0.0.1", FARO_LOG_LEVEL: "info", FARO_LOG_PRETTY: "false" });
    try {
      let url = "";
      await until(() => Boolean((url = /"url":"(http:\/\/127\.0\.0\.1:\d+)"/.exec(p.out())?.[1] ?? "")), 30_000, "the health endpoint URL");
      await until(async () => (await fetch(`${url}/readyz`)).status === 200, 30_000, "ready");
      const report = await checkServiceContract(url, { expectReady: true });
      expect(report.metrics).toMatch(/faro_correlator_harvest_seconds/);
      p.child.kill("SIGTERM");
      expect(await p.exited).toBe(0);
    } finally {
      if (p.child.exitCode === null) p.child.kill("SIGKILL");
    }
  });
});
