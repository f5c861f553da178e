// Unit tests of object diffs (noise left out) and pod lifecycle transitions.
import { describe, expect, it } from "vitest";
import { diffObjects } from "./diff.js";
import { podLifecycle } from "./lifecycle.js";
import { pod } from "./fixtures.test-util.js";
import { entrySeq, incidentIdFor, MAX_SEQ } from "./ids.js";

describe("diffObjects", () => {
  it("reports real changes and leaves out resourceVersion, managedFields, generation", () => {
    const a = { metadata: { resourceVersion: "1", generation: 1, managedFields: [{ a: 1 }], labels: { app: "web" } }, spec: { replicas: 2, template: { image: "web:1" } } };
    const b = { metadata: { resourceVersion: "9", generation: 2, managedFields: [{ a: 2 }], labels: { app: "web", tier: "fe" } }, spec: { replicas: 3, template: { image: "web:1" } } };
    expect(diffObjects(a, b)).toEqual([
      { path: "/metadata/labels/tier", op: "add", to: "fe" },
      { path: "/spec/replicas", op: "replace", from: 2, to: 3 },
    ]);
    expect(diffObjects(a, { ...a, metadata: { ...a.metadata, resourceVersion: "10" } })).toEqual([]);
    const node = (t: string) => ({ status: { conditions: [{ type: "Ready", status: "True", lastHeartbeatTime: t }] } });
    expect(diffObjects(node("2026-01-01T00:00:00Z"), node("2026-01-01T00:00:10Z"))).toEqual([]);
  });
  it("diffs arrays by index and is bounded", () => {
    expect(diffObjects({ c: [1, 2] }, { c: [1] })).toEqual([{ path: "/c/1", op: "remove", from: 2 }]);
    const big = Object.fromEntries(Array.from({ length: 50 }, (_, i) => [`k${i}`, i]));
    expect(diffObjects({}, big, 10)).toHaveLength(10);
  });
});

describe("podLifecycle", () => {
  it("scheduled, started, restarted with exit code, terminating, deleted", () => {
    const fresh = pod({ phase: "Pending", node: "", waiting: { reason: "ContainerCreating" } });
    (fresh.spec as Record<string, unknown>)["nodeName"] = undefined;
    const running = pod({ running: "2026-01-01T00:00:05Z" });
    expect(podLifecycle(fresh, running, false).map((t) => t.what)).toEqual(["scheduled", "phase", "started"]);
    const restarted = pod({ restartCount: 1, waiting: { reason: "CrashLoopBackOff" }, last: { exitCode: 2, reason: "Error", finishedAt: "2026-01-01T00:01:00Z" } });
    const r = podLifecycle(running, restarted, false);
    expect(r.map((t) => t.what)).toEqual(["restarted"]);
    expect(r[0]).toMatchObject({ container: "app", timestamp: "2026-01-01T00:01:00Z", payload: { what: "restarted", container: "app", restartCount: 1, termination: { exitCode: 2, reason: "Error", finishedAt: "2026-01-01T00:01:00Z" }, waiting: "CrashLoopBackOff" } });
    const deleting = pod({ deletionTimestamp: "2026-01-01T00:02:00Z" });
    expect(podLifecycle(running, deleting, false).map((t) => t.what)).toEqual(["terminating"]);
    expect(podLifecycle(deleting, deleting, true).map((t) => t.what)).toEqual(["deleted"]);
  });
});

describe("ids", () => {
  it("incident ids are stable per episode and differ per reason", () => {
    expect(incidentIdFor("s-1", "app", "OOMKilled", 1000)).toBe(incidentIdFor("s-1", "app", "OOMKilled", 1000));
    expect(incidentIdFor("s-1", "app", "OOMKilled", 1000)).not.toBe(incidentIdFor("s-1", "app", "CrashLoopBackOff", 1000));
  });
  it("entry sequence numbers order by resourceVersion then index", () => {
    expect(entrySeq("100", 2)).toBeLessThan(entrySeq("101", 0));
    expect(entrySeq("100", 1)).toBeLessThan(entrySeq("100", 2));
    expect(Number.isSafeInteger(entrySeq("not-a-number", 1))).toBe(true);
    expect(entrySeq(String(Date.now()), 15)).toBeLessThanOrEqual(MAX_SEQ);
  });
});
