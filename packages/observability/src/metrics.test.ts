import { describe, expect, it } from "vitest";
import { MetricConflictError } from "./errors.js";
import { counter, createMetrics, gauge, REQUIRED_METRICS } from "./metrics.js";

describe("createMetrics", () => {
  it("registers every required metric with the service label", async () => {
    const m = createMetrics("watcher", { version: "1.2.3" });
    m.messagesIn.inc(3);
    m.queue("publish", 1000).setDepth(7);
    const text = await m.registry.metrics();
    for (const name of REQUIRED_METRICS) expect(text).toContain(`# TYPE ${name} `);
    expect(text).toContain('faro_service_info{version="1.2.3",service="watcher"} 1');
    expect(text).toContain('faro_messages_in_total{service="watcher"} 3');
    expect(text).toContain('faro_queue_capacity{queue="publish",service="watcher"} 1000');
    expect(text).toContain('faro_queue_depth{queue="publish",service="watcher"} 7');
    expect(text).toMatch(/^process_cpu_user_seconds_total\{service="watcher"\}/m);
  });

  it("get-or-create helpers return the same metric and refuse conflicting definitions", () => {
    const { registry } = createMetrics("filter", { defaultMetrics: false });
    const a = counter(registry, { name: "faro_rules_matched_total", help: "x", labelNames: ["rule"] });
    const b = counter(registry, { name: "faro_rules_matched_total", help: "x", labelNames: ["rule"] });
    expect(a).toBe(b);
    expect(counter(registry, { name: "faro_messages_in_total", help: "again" })).toBeDefined();
    expect(() => gauge(registry, { name: "faro_rules_matched_total", help: "x" })).toThrow(MetricConflictError);
    expect(() => counter(registry, { name: "faro_rules_matched_total", help: "x", labelNames: ["other"] })).toThrow(/labels/);
  });
});
