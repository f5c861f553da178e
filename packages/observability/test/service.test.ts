// runService in-process (signals not wired), with its real HTTP server: contract, readiness, stop semantics.
import { Writable } from "node:stream";
import { describe, expect, it } from "vitest";
import { checkServiceContract, ContractError, createLogger, runService, ServiceStartError, startHttpServer, Lifecycle, createMetrics } from "@faro/observability";

function captureLogger(service: string) {
  const lines: Record<string, unknown>[] = [];
  const destination = new Writable({
    write(chunk, _enc, cb) {
      for (const l of String(chunk).split("\n").filter(Boolean)) lines.push(JSON.parse(l));
      cb();
    },
  });
  return { logger: createLogger({ service, level: "debug", pretty: false, destination }), lines };
}

describe("runService", () => {
  it("serves the contract, drains in-flight work on stop, and stop() is idempotent", async () => {
    const { logger, lines } = captureLogger("demo");
    let inFlight = 0;
    let finished = 0;
    let gate!: () => void;
    const handle = await runService({
      name: "demo",
      logger,
      shutdownTimeoutMs: 5000,
      handleSignals: false,
      http: { port: 0, host: "127.0.0.1" },
      start: (ctx) => {
        ctx.addReadinessCheck("upstream", () => ({ ok: true }));
        inFlight++;
        void new Promise<void>((r) => (gate = r)).then(() => {
          inFlight--;
          finished++;
        });
      },
      stop: async () => {
        gate();
        while (inFlight > 0) await new Promise((r) => setImmediate(r));
      },
    });
    expect(handle.lifecycle.state).toBe("ready");
    const report = await checkServiceContract(handle.http!.url, { expectReady: true });
    expect(report.metrics).toContain('faro_service_state{state="ready",service="demo"} 1');
    expect(report.metrics).toContain('faro_service_ready{service="demo"} 1');

    const [a, b] = await Promise.all([handle.stop("test"), handle.stop("again")]);
    expect(a).toEqual({ code: 0, forced: false, reason: "test" });
    expect(b).toBe(a);
    expect(await handle.stopped).toBe(a);
    expect(finished).toBe(1);
    expect(handle.lifecycle.state).toBe("stopped");
    expect(lines.map((l) => l.msg)).toEqual(expect.arrayContaining(["lifecycle: draining", "lifecycle: stopped", "stopped (exit code 0)"]));
    expect(lines[0]).toMatchObject({ service: "demo", pid: process.pid });
    await expect(fetch(`${handle.http!.url}/healthz`)).rejects.toThrow(); // server closed
  });

  it("forces the stop after the timeout when stop() hangs", async () => {
    const { logger, lines } = captureLogger("stuck");
    const handle = await runService({ name: "stuck", logger, shutdownTimeoutMs: 100, handleSignals: false, start: () => {}, stop: () => new Promise(() => {}) });
    const result = await handle.stop();
    expect(result).toMatchObject({ code: 1, forced: true });
    expect(lines.some((l) => l.level === 50 && String(l.msg).includes("forced stop"))).toBe(true);
  });

  it("a failing start stops the service and rejects with ServiceStartError", async () => {
    const { logger } = captureLogger("broken");
    let released = false;
    const run = runService({
      name: "broken",
      logger,
      shutdownTimeoutMs: 1000,
      handleSignals: false,
      start: () => {
        throw new Error("no nats");
      },
      stop: () => {
        released = true;
      },
    });
    await expect(run).rejects.toThrow(ServiceStartError);
    await expect(run).rejects.toMatchObject({ exitCode: 1, message: "broken failed to start: no nats" });
    expect(released).toBe(true);
  });
});

describe("health server", () => {
  it("/readyz says which check fails; /healthz stays 200 until stopped; contract check reports problems", async () => {
    const lifecycle = new Lifecycle("svc");
    const metrics = createMetrics("svc", { defaultMetrics: false });
    const server = await startHttpServer({ port: 0, host: "127.0.0.1", registry: metrics.registry, lifecycle });
    try {
      expect(server.port).toBeGreaterThan(0);
      lifecycle.addReadinessCheck("redis", () => ({ ok: false, detail: "connection refused" }));
      lifecycle.transition("ready");
      const r = await fetch(`${server.url}/readyz`);
      expect(r.status).toBe(503);
      expect(await r.json()).toEqual({ ready: false, state: "ready", failing: [{ name: "redis", detail: "connection refused" }] });
      expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
      lifecycle.transition("draining");
      expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
      // Without default process metrics the contract is broken, and the helper says so.
      const err = await checkServiceContract(server.url).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ContractError);
      expect((err as ContractError).problems).toContain("/metrics lacks the default process metrics (process_cpu_seconds_total)");
      lifecycle.transition("stopped");
      expect((await fetch(`${server.url}/healthz`)).status).toBe(503);
    } finally {
      await server.close();
      await server.close();
    }
  });
});
