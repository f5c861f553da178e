// The bounds every MCP call goes through, on their own: calls beyond limits.maxConcurrent are refused (busy),
// not queued, and the in-flight depth is a metric; a caller's rate budget refills over time.
import { Writable } from "node:stream";
import { describe, expect, it } from "vitest";
import { loadConfig } from "@faro/config";
import { createLogger } from "@faro/observability";
import { mcpConfigSchema, principalOf, RefusedError } from "../../src/mcp/index.js";
import { createMcpMetrics, Limits } from "../../src/mcp/limits.js";

const silent = createLogger({ service: "mcp", level: "silent", pretty: false, destination: new Writable({ write: (_c, _e, cb) => cb() }) });

describe("mcp limits", () => {
  it("refuses a call beyond limits.maxConcurrent while others run, and reports the depth", async () => {
    const config = loadConfig(mcpConfigSchema, { argv: ["--limits.maxConcurrent", "1"] });
    const metrics = createMcpMetrics();
    const limits = new Limits(config.limits, metrics, silent);
    const who = principalOf("a", ["*"]);
    let release!: () => void;
    const first = limits.run("slow", who, {}, () => new Promise<{ ok: true }>((r) => (release = () => r({ ok: true }))));
    expect(await metrics.registry.getSingleMetricAsString("faro_queue_depth")).toMatch(/queue="mcp_calls_in_flight"[^}]*\} 1/);
    const second = limits.run("fast", principalOf("b", ["*"]), {}, async () => ({ ok: true }));
    await expect(second).rejects.toThrow(RefusedError);
    await expect(second).rejects.toThrow(/busy: 1 calls are being served \(limits.maxConcurrent\)/);
    release();
    await expect(first).resolves.toEqual({ ok: true });
    await expect(limits.run("fast", principalOf("b", ["*"]), {}, async () => ({ ok: true }))).resolves.toEqual({ ok: true });
    expect(await metrics.registry.getSingleMetricAsString("faro_mcp_refused_total")).toMatch(/reason="busy"[^}]*\} 1/);
    expect(await metrics.registry.getSingleMetricAsString("faro_mcp_calls_total")).toMatch(/tool="slow",outcome="ok"[^}]*\} 1|outcome="ok",tool="slow"[^}]*\} 1/);
  });

  it("refuses arguments over limits.maxRequestBytes on every transport, logging only what it was told to log", async () => {
    const config = loadConfig(mcpConfigSchema, { argv: ["--limits.maxRequestBytes", "512"] });
    const metrics = createMcpMetrics();
    let logged = "";
    const logger = createLogger({ service: "mcp", level: "info", pretty: false, destination: new Writable({ write: (c, _e, cb) => ((logged += String(c)), cb()) }) });
    const limits = new Limits(config.limits, metrics, logger);
    let ran = false;
    const big = { objects: ["x".repeat(600)] };
    await expect(limits.run("diagnose", principalOf("a", ["*"]), big, async () => (ran = true), { objects: 1 })).rejects.toThrow(/request too large: the arguments are \d+ bytes, over limits.maxRequestBytes \(512\)/);
    expect(ran).toBe(false);
    expect(logged).toMatch(/"call":"diagnose".*"args":\{"objects":1\}.*"reason":"request_too_large"/);
    expect(logged).not.toContain("xxxx");
  });

  it("counts errors of a call and keeps serving", async () => {
    const config = loadConfig(mcpConfigSchema, {});
    const metrics = createMcpMetrics();
    const limits = new Limits(config.limits, metrics, silent);
    await expect(limits.run("boom", principalOf("a", ["*"]), {}, async () => Promise.reject(new Error("nope")))).rejects.toThrow("nope");
    expect(await metrics.registry.getSingleMetricAsString("faro_mcp_calls_total")).toMatch(/outcome="error"/);
    expect(await metrics.registry.getSingleMetricAsString("faro_queue_depth")).toMatch(/queue="mcp_calls_in_flight"[^}]*\} 0/);
  });
});
