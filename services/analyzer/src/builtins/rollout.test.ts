import { describe, expect, it } from "vitest";
import { evidenceResolves } from "@faro/contracts";
import { loadFixture } from "../../test/fixtures.js";
import { IncidentView } from "../view.js";
import { rollout } from "./rollout.js";

describe("rollout", () => {
  it("ties a stuck rollout to its template change and what blocks the new pods (recorded)", () => {
    const ic = loadFixture("analysis-stuck-ProgressDeadlineExceeded");
    const f = rollout.analyze(new IncidentView(ic))!;
    expect(f.probableCause).toMatch(/^The rollout of Deployment stuck made no progress for 20s/);
    expect(f.probableCause).toMatch(/change of \/spec\/template\/spec\/containers\/0\/image/);
    expect(f.probableCause).toMatch(/the new pods cannot pull their image\.$/);
    expect(f.evidence.some((e) => e.kind === "change")).toBe(true);
    expect(f.evidence).toContainEqual({ kind: "manifest", index: 0, path: "/spec/progressDeadlineSeconds", quote: "20" });
    expect(f.nextSteps.some((s) => s.includes("rollout undo deployment/stuck"))).toBe(true);
    for (const e of f.evidence) expect(evidenceResolves(ic, e)).toBe(true);
  });

  it("stays silent on other incidents", () => {
    expect(rollout.analyze(new IncidentView(loadFixture("crashloop-crasher-CrashLoopBackOff")))).toBeUndefined();
  });
});
