// Every recorded incident: the built-ins reach the expected conclusion, and every evidence reference of every
// finding resolves into the incident with exactly its quote.
import { describe, expect, it } from "vitest";
import { evidenceResolves } from "@faro/contracts";
import { fixtureNames, loadFixture } from "../../test/fixtures.js";
import { BUILTIN_NAMES } from "../config.js";
import { noFinding, runBuiltins } from "./index.js";

const EXPECTED: Record<string, string> = {
  "analysis-configless-CreateContainerConfigError": "builtin:config-ref",
  "analysis-evictee-Evicted": "builtin:node-pressure",
  "analysis-evictee-NonZeroExit": "builtin:node-pressure",
  "analysis-flaky-CrashLoopBackOff": "builtin:probe",
  "analysis-flaky-LivenessProbeFailed": "builtin:probe",
  "analysis-giant-FailedScheduling": "builtin:scheduling",
  "analysis-limited-OOMKilled": "builtin:oomkilled",
  "analysis-stuck-ImagePullBackOff": "builtin:image-pull",
  "analysis-stuck-ProgressDeadlineExceeded": "builtin:rollout",
  "crashloop-crasher-CrashLoopBackOff": "builtin:exit-code",
  "demo-inventory-ImagePullBackOff": "builtin:image-pull",
  "demo-payments-CrashLoopBackOff": "builtin:exit-code",
  "demo-recommender-OOMKilled": "builtin:oomkilled",
  "imagepull-broken-ImagePullBackOff": "builtin:image-pull",
  "oomkill-hungry-OOMKilled": "builtin:oomkilled",
};

describe("the built-in analyzers on every recorded incident", () => {
  it("has an expectation for every fixture", () => {
    expect(fixtureNames()).toEqual(Object.keys(EXPECTED).sort());
  });

  for (const name of fixtureNames()) {
    it(name, () => {
      const ic = loadFixture(name);
      const findings = runBuiltins(ic, BUILTIN_NAMES);
      expect(findings[0]?.analyzer).toBe(EXPECTED[name]);
      for (const f of findings) {
        expect(f.evidence.length, f.analyzer).toBeGreaterThan(0);
        expect(f.nextSteps.length, f.analyzer).toBeGreaterThan(0);
        expect(f.confidence).toBeGreaterThan(0);
        expect(f.confidence).toBeLessThanOrEqual(1);
        for (const e of f.evidence) expect(evidenceResolves(ic, e), `${f.analyzer} ${JSON.stringify(e)}`).toBe(true);
      }
      // Deterministic: the same incident gives the same findings.
      expect(runBuiltins(ic, BUILTIN_NAMES)).toEqual(findings);
    });
  }

  it("runs only the configured analyzers, and says when none matched", () => {
    const ic = loadFixture("analysis-limited-OOMKilled");
    expect(runBuiltins(ic, ["exit-code"]).map((f) => f.analyzer)).toEqual(["builtin:exit-code"]);
    expect(runBuiltins(ic, ["image-pull"])).toEqual([]);
    const none = noFinding(ic);
    expect(none.analyzer).toBe("builtin:none");
    expect(none.evidence.every((e) => evidenceResolves(ic, e))).toBe(true);
  });
});
