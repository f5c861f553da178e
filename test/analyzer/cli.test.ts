// The analyzer as a process (`faro run analyzer`, the container entrypoint): invalid configuration exits 2
// naming the field and the reason; a valid one serves the service contract, and SIGTERM drains and exits 0.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { checkServiceContract } from "@faro/observability";
import { startNats, until, type ManagedServer } from "@faro/test-harness";
import { faro } from "../e2e/helpers.js";

let nats: ManagedServer;

beforeAll(async () => {
  nats = await startNats();
});

afterAll(async () => {
  await nats?.stop();
});

describe("faro run analyzer", () => {
  it("exits 2 naming the invalid field and why, for the schema and for the analyzer's own checks", { timeout: 60_000 }, async () => {
    const bad = faro(["run", "analyzer"], { FARO_NATS_URL: nats.url, FARO_LLM_TIMEOUT: "soon" });
    expect(await bad.exited).toBe(2);
    expect(bad.output()).toMatch(/llm\.timeout: expected a duration; got "soon"/);
    const incomplete = faro(["run", "analyzer"], { FARO_NATS_URL: nats.url, FARO_LLM_PROVIDER: "openai", FARO_BUILTINS: "oomkilled,crystal-ball" });
    expect(await incomplete.exited).toBe(2);
    expect(incomplete.output()).toMatch(/llm\.model: required when llm\.provider is openai/);
    expect(incomplete.output()).toMatch(/builtins: unknown built-in analyzer "crystal-ball"/);
  });

  it("serves the contract and drains on SIGTERM with exit 0", { timeout: 60_000 }, async () => {
    const p = faro(["run", "analyzer"], { FARO_NATS_URL: nats.url, FARO_CLUSTER: "cli-test", FARO_HTTP_PORT: "0", FARO_HTTP_HOST: "127.0.0.1", FARO_LOG_LEVEL: "info", FARO_LOG_PRETTY: "false" });
    try {
      const url = await until(() => /"url":"(http:\/\/127\.0\.0\.1:\d+)"/.exec(p.output())?.[1], "the health endpoint's url", 30_000);
      await until(async () => (await fetch(`${url}/readyz`)).status === 200, "ready", 30_000);
      const report = await checkServiceContract(url, { expectReady: true });
      expect(report.metrics).toMatch(/faro_service_info\{[^}]*service="analyzer"/);
      p.proc.kill("SIGTERM");
      expect(await p.exited).toBe(0);
      expect(p.output()).toMatch(/lifecycle: draining/);
    } finally {
      if (p.proc.exitCode === null) p.proc.kill("SIGKILL");
    }
  });
});
