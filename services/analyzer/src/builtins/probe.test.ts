import { describe, expect, it } from "vitest";
import { evidenceResolves } from "@faro/contracts";
import { loadFixture, withPod } from "../../test/fixtures.js";
import { IncidentView } from "../view.js";
import { probe, probeFailure } from "./probe.js";

describe("probe", () => {
  it("compares the liveness probe's allowance with the time to the first failure (recorded)", () => {
    const ic = loadFixture("analysis-flaky-LivenessProbeFailed");
    const f = probe.analyze(new IncidentView(ic))!;
    expect(f.probableCause).toMatch(/^The liveness probe of app fails: the endpoint answered HTTP 500 \(initialDelaySeconds 0, periodSeconds 5, failureThreshold 3, timeoutSeconds 1\)/);
    expect(f.probableCause).toMatch(/within the probe's 15s allowance/);
    expect(f.nextSteps[0]).toMatch(/startupProbe/);
    expect(f.evidence.filter((e) => e.kind === "manifest" && e.path.startsWith("/spec/containers/0/livenessProbe/")).map((e) => e.path.split("/").at(-1))).toEqual([
      "initialDelaySeconds",
      "periodSeconds",
      "failureThreshold",
      "timeoutSeconds",
    ]);
    for (const e of f.evidence) expect(evidenceResolves(ic, e)).toBe(true);
  });

  it("explains a crash loop caused by the liveness probe (recorded: exit 137 after Unhealthy)", () => {
    const f = probe.analyze(new IncidentView(loadFixture("analysis-flaky-CrashLoopBackOff")))!;
    expect(f.confidence).toBeGreaterThan(0.8);
  });

  it("does not blame start-up with a startupProbe in place", () => {
    const ic = withPod(loadFixture("analysis-flaky-LivenessProbeFailed"), (p) => (p.spec.containers[0].startupProbe = { httpGet: { path: "/", port: 8080 } }));
    expect(probe.analyze(new IncidentView(ic))!.probableCause).not.toMatch(/start-up time/);
  });

  it("reads how a probe failed", () => {
    expect(probeFailure("Readiness probe failed: Get \"http://10.0.0.1:8080/\": dial tcp 10.0.0.1:8080: connect: connection refused")).toEqual({ probe: "readiness", how: "nothing was listening on the probed port (connection refused)" });
    expect(probeFailure("Liveness probe failed: Get \"http://x/\": context deadline exceeded").how).toMatch(/timeoutSeconds/);
  });

  it("stays silent on other incidents", () => {
    expect(probe.analyze(new IncidentView(loadFixture("crashloop-crasher-CrashLoopBackOff")))).toBeUndefined();
  });
});
