import { describe, expect, it } from "vitest";
import { evidenceResolves } from "@faro/contracts";
import { loadFixture, withPod } from "../../test/fixtures.js";
import { IncidentView } from "../view.js";
import { oomKilled } from "./oomkilled.js";

describe("oomkilled", () => {
  it("weighs the memory limit against the request, with the log tail (recorded: a limit of 128Mi)", () => {
    const ic = loadFixture("analysis-limited-OOMKilled");
    const f = oomKilled.analyze(new IncidentView(ic))!;
    expect(f.analyzer).toBe("builtin:oomkilled");
    expect(f.probableCause).toMatch(/limit of 128Mi \(request 64Mi\)/);
    expect(f.probableCause).toMatch(/OutOfMemoryError: Java heap space/);
    expect(f.confidence).toBeGreaterThanOrEqual(0.9);
    const paths = f.evidence.map((e) => `${e.kind}:${e.path}`);
    expect(paths).toContain("manifest:/spec/containers/0/resources/limits/memory");
    expect(paths).toContain("manifest:/spec/containers/0/resources/requests/memory");
    expect(paths).toContain("manifest:/status/containerStatuses/0/restartCount");
    expect(f.evidence.some((e) => e.kind === "log_tail" && e.quote.includes("OutOfMemoryError"))).toBe(true);
    for (const e of f.evidence) expect(evidenceResolves(ic, e), JSON.stringify(e)).toBe(true);
  });

  it("says so when there is no memory limit (recorded: the oomkill scenario)", () => {
    const ic = loadFixture("oomkill-hungry-OOMKilled");
    const f = oomKilled.analyze(new IncidentView(ic))!;
    expect(f.probableCause).toMatch(/without a memory limit of its own \(request 64Mi\)/);
    expect(f.nextSteps[0]).toMatch(/Set resources\.limits\.memory/);
    expect(f.evidence.some((e) => e.kind === "log_tail" && e.quote === "cache size 1000MiB")).toBe(true);
  });

  it("counts the restarts the status reports", () => {
    const ic = withPod(loadFixture("analysis-limited-OOMKilled"), (p) => (p.status.containerStatuses[0].restartCount = 7));
    expect(oomKilled.analyze(new IncidentView(ic))!.probableCause).toMatch(/7 times so far/);
  });

  it("stays silent on other incidents", () => {
    expect(oomKilled.analyze(new IncidentView(loadFixture("crashloop-crasher-CrashLoopBackOff")))).toBeUndefined();
    expect(oomKilled.analyze(new IncidentView(loadFixture("demo-inventory-ImagePullBackOff")))).toBeUndefined();
  });
});
