// AutoRemediationPolicy parsing: defaults, every invalid field named, quantities, and which incidents a policy covers.
import { describe, expect, it } from "vitest";
import type { IncidentContext } from "@faro/contracts";
import { InvalidPolicyError } from "../src/errors.js";
import { formatMemory, labelsMatch, memoryBytes, parsePolicy, policyCovers } from "../src/policy.js";

const obj = (spec: unknown) => ({ apiVersion: "faro.dev/v1alpha1", kind: "AutoRemediationPolicy", metadata: { name: "p", namespace: "shop" }, spec });

describe("parsePolicy", () => {
  it("fills the documented defaults", () => {
    const p = parsePolicy(obj({ triggers: { reasons: ["OOMKilled"] }, action: { type: "raiseMemory" } }));
    expect(p).toMatchObject({ key: "shop/p", namespaces: ["shop"], matchLabels: {}, count: 1, windowMs: 600_000, mode: "dryRun", cooldownMs: 600_000, raiseMemory: { percent: 50, maxBytes: 1024 ** 3 }, scale: { step: 1, min: 1, max: 10 }, escalation: { afterAttempts: 3, route: "" } });
  });

  it.each([
    [{ action: { type: "rollback" } }, "spec.triggers", "missing"],
    [{ triggers: { reasons: [] }, action: { type: "rollback" } }, "spec.triggers.reasons", "at least one"],
    [{ triggers: { reasons: ["X"] }, action: { type: "delete-everything" } }, "spec.action.type", "restartPod, rollback, scale, raiseMemory"],
    [{ triggers: { reasons: ["X"] }, action: { type: "rollback" }, mode: "yolo" }, "spec.mode", "dryRun, live, gitops"],
    [{ triggers: { reasons: ["X"] }, action: { type: "rollback" }, mode: "gitops" }, "spec.mode", "not supported"],
    [{ triggers: { reasons: ["X"], window: "soon" }, action: { type: "rollback" } }, "spec.triggers.window", "duration"],
    [{ triggers: { reasons: ["X"], count: 0 }, action: { type: "rollback" } }, "spec.triggers.count", "integer ≥ 1"],
    [{ triggers: { reasons: ["X"] }, action: { type: "scale", scale: { min: 5, max: 2 } } }, "spec.action.scale.min", "greater than"],
    [{ triggers: { reasons: ["X"] }, action: { type: "raiseMemory", raiseMemory: { max: "lots" } } }, "spec.action.raiseMemory.max", "memory quantity"],
  ])("rejects %j naming %s", (spec, field, detail) => {
    let err: unknown;
    try {
      parsePolicy(obj(spec));
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(InvalidPolicyError);
    expect((err as InvalidPolicyError).field).toBe(field);
    expect((err as Error).message).toContain(detail);
    expect((err as Error).message).toContain("shop/p");
  });

  it("covers incidents by reason and namespace, and matches labels", () => {
    const p = parsePolicy(obj({ selector: { namespaces: ["a", "b"], matchLabels: { app: "x" } }, triggers: { reasons: ["OOMKilled"] }, action: { type: "restartPod" } }));
    const ic = (namespace: string, reason: string) => ({ namespace, reason }) as IncidentContext;
    expect(policyCovers(p, ic("a", "OOMKilled"))).toBe(true);
    expect(policyCovers(p, ic("shop", "OOMKilled"))).toBe(false);
    expect(policyCovers(p, ic("b", "CrashLoopBackOff"))).toBe(false);
    expect(labelsMatch(p, { app: "x", tier: "web" })).toBe(true);
    expect(labelsMatch(p, { app: "y" })).toBe(false);
  });
});

describe("memory quantities", () => {
  it("parses and formats", () => {
    expect(memoryBytes("64Mi")).toBe(64 * 1024 ** 2);
    expect(memoryBytes("1G")).toBe(1e9);
    expect(memoryBytes("1500")).toBe(1500);
    expect(memoryBytes("64MiB")).toBeUndefined();
    expect(formatMemory(96 * 1024 ** 2)).toBe("96Mi");
    expect(formatMemory(1500)).toBe("2Ki");
  });
});
