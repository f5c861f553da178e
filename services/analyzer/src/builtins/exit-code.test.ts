import { describe, expect, it } from "vitest";
import { evidenceResolves } from "@faro/contracts";
import { loadFixture, variant } from "../../test/fixtures.js";
import { IncidentView } from "../view.js";
import { exitCode, exitCodeMeaning } from "./exit-code.js";

describe("exit-code", () => {
  it("reads exit 1 with the process's last words (recorded: crashloop)", () => {
    const ic = loadFixture("crashloop-crasher-CrashLoopBackOff");
    const f = exitCode.analyze(new IncidentView(ic))!;
    expect(f.probableCause).toMatch(/exited with code 1: a general application error/);
    expect(f.probableCause).toMatch(/"fatal: cannot connect to database"/);
    expect(f.evidence.map((e) => e.kind)).toEqual(["field", "manifest", "log_tail"]);
    for (const e of f.evidence) expect(evidenceResolves(ic, e)).toBe(true);
  });

  it("finds a panic in the demo's payments log", () => {
    const ic = loadFixture("demo-payments-CrashLoopBackOff");
    const f = exitCode.analyze(new IncidentView(ic))!;
    expect(f.evidence.find((e) => e.kind === "log_tail")!.quote).toBe("panic: runtime error: invalid memory address or nil pointer dereference");
    expect(f.confidence).toBeGreaterThan(exitCodeMeaning(1).confidence);
  });

  it("knows the conventional meanings", () => {
    expect(exitCodeMeaning(127).meaning).toMatch(/command was not found/);
    expect(exitCodeMeaning(126).meaning).toMatch(/could not be executed/);
    expect(exitCodeMeaning(137).meaning).toMatch(/SIGKILL/);
    expect(exitCodeMeaning(139).meaning).toMatch(/SIGSEGV/);
    expect(exitCodeMeaning(143).meaning).toMatch(/SIGTERM/);
    expect(exitCodeMeaning(130).meaning).toMatch(/SIGINT \(128 \+ 2\)/);
    expect(exitCodeMeaning(42).meaning).toMatch(/application-specific/);
  });

  it("applies the meaning to a recorded incident with another code", () => {
    const ic = variant(loadFixture("crashloop-crasher-CrashLoopBackOff"), (c) => (c.exitCode = 127));
    expect(exitCode.analyze(new IncidentView(ic))!.probableCause).toMatch(/code 127: the command was not found/);
  });

  it("stays silent without a non-zero exit code", () => {
    expect(exitCode.analyze(new IncidentView(loadFixture("demo-inventory-ImagePullBackOff")))).toBeUndefined();
    expect(exitCode.analyze(new IncidentView(variant(loadFixture("crashloop-crasher-CrashLoopBackOff"), (c) => { c.exitCode = 0; c.manifests = []; })))).toBeUndefined();
  });
});
