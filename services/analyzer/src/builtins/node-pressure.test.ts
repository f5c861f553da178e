import { describe, expect, it } from "vitest";
import { evidenceResolves } from "@faro/contracts";
import { loadFixture, variant } from "../../test/fixtures.js";
import { IncidentView } from "../view.js";
import { nodePressure, parseEviction } from "./node-pressure.js";

describe("node-pressure", () => {
  it("reads the eviction: resource, threshold, QoS class (recorded)", () => {
    const ic = loadFixture("analysis-evictee-Evicted");
    const f = nodePressure.analyze(new IncidentView(ic))!;
    expect(f.probableCause).toMatch(/ran low on memory \(eviction threshold 100Mi, available 51200Ki\), and the kubelet evicted the pod/);
    expect(f.probableCause).toMatch(/QoS class Burstable/);
    expect(f.evidence).toContainEqual({ kind: "manifest", index: 0, path: "/status/reason", quote: "Evicted" });
    for (const e of f.evidence) expect(evidenceResolves(ic, e)).toBe(true);
  });

  it("uses the node's pressure conditions among the incident's evidence", () => {
    const ic = variant(loadFixture("analysis-evictee-Evicted"), (c) => {
      c.reason = "NodeDiskPressure";
      c.message = "NodeDiskPressure: node sim-node-2 reports DiskPressure";
      c.events = [];
      c.evidence = [{ source: "condition", object: "Node/sim-node-2", field: "status.conditions[DiskPressure]", reason: "KubeletHasDiskPressure", message: "kubelet has disk pressure", time: "", value: "True" }];
    });
    const f = nodePressure.analyze(new IncidentView(ic))!;
    expect(f.probableCause).toMatch(/ran low on ephemeral-storage/);
    expect(f.evidence).toContainEqual({ kind: "evidence", index: 0, path: "message", quote: "kubelet has disk pressure" });
  });

  it("parses the kubelet's message", () => {
    expect(parseEviction("The node was low on resource: ephemeral-storage. Threshold quantity: 1Gi, available: 512Mi.")).toEqual({ resource: "ephemeral-storage", threshold: "1Gi", available: "512Mi" });
  });

  it("stays silent on other incidents", () => {
    expect(nodePressure.analyze(new IncidentView(loadFixture("crashloop-crasher-CrashLoopBackOff")))).toBeUndefined();
  });
});
