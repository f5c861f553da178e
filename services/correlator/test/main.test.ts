// The correlator as a process (`faro run correlator`, the container entrypoint): bad config exits 2 naming the
// field; a good one serves the service contract and SIGTERM exits 0.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { checkServiceContract } from "@faro/observability";
import { startNats, startRedis, type ManagedServer } from "@faro/test-harness";
import { killCorrelators, spawnCorrelator, until } from "./helpers.js";

describe("faro run correlator", () => {
  let nats: ManagedServer;
  let redis: ManagedServer;
  beforeAll(async () => {
    [nats, redis] = await Promise.all([startNats(), startRedis()]);
  });
  afterAll(async () => {
    await killCorrelators();
    await Promise.all([nats?.stop(), redis?.stop()]);
  });

  it("exits 2 naming the field of an invalid setting", async () => {
    const p = spawnCorrelator({ FARO_DEBOUNCE_WINDOW: "five minutes" });
    expect(await p.exited).toBe(2);
    expect(p.err()).toMatch(/debounce\.window/);
  });

  it("starts, follows the service contract, and exits 0 on SIGTERM", async () => {
    const p = spawnCorrelator({ FARO_NATS_URL: nats.url, FARO_REDIS_URL: redis.url, FARO_API_ENABLED: "false", FARO_HTTP_PORT: "0", FARO_HTTP_HOST: "127.0.0.1", FARO_LOG_LEVEL: "info", FARO_LOG_PRETTY: "false" });
    const url = (await p.waitFor(/"url":"(http:\/\/127\.0\.0\.1:\d+)"/))[1]!;
    await until(async () => (await fetch(`${url}/readyz`)).status === 200, 30_000, "ready");
    const report = await checkServiceContract(url, { expectReady: true });
    expect(report.metrics).toMatch(/faro_correlator_harvest_seconds/);
    // the publisher's window is the common publish.window (default 1024)
    expect(report.metrics).toMatch(/faro_bus_publish_window\{[^}]*publisher="correlator"[^}]*\} 1024/);
    p.terminate();
    expect(await p.exited).toBe(0);
  });
});
