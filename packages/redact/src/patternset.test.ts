// Unit tests for batch pattern matching: same answers as line-by-line, RE2 safety, bad patterns named.
import { describe, expect, it } from "vitest";
import { RuleError } from "./errors.js";
import { compilePatternSet } from "./patternset.js";

describe("compilePatternSet", () => {
  const set = compilePatternSet([
    { rule: "healthz", pattern: "GET /healthz" },
    { rule: "debug", pattern: "^debug\\b", ignoreCase: true },
    { rule: "span", pattern: "x[^y]+z" },
    { rule: "named", pattern: "id=(?P<secret>[0-9]+)$" },
  ]);

  it("answers per line the same in a batch as alone", () => {
    const lines = ["GET /healthz 200", "DEBUG cache", "x open", "nothing", "value xaz", "id=42", "id=42 trailing", "", "debugging"];
    const batch = Array.from(set.matchLines(lines));
    expect(batch).toEqual(lines.map((l) => set.matchLine(l)));
    expect(batch).toEqual([0, 1, -1, -1, 2, 3, -1, -1, -1]);
  });

  it("agrees with line-by-line matching across chunks, with and without a literal pre-check", () => {
    const words = ["GET /healthz", "debug x", "xaz", "id=7", "plain", "x\u00e9z", "DEBUG", "yyy", "123x", "9y"];
    const lines = Array.from({ length: 300 }, (_, i) => `${words[i % words.length]} ${words[(i * 5) % words.length]} ${i}`);
    const noLiterals = compilePatternSet([
      { rule: "a", pattern: "[0-9]{3}x" },
      { rule: "b", pattern: "\\d+y" },
      { rule: "c", pattern: "GET /(healthz|readyz)" },
    ]);
    const literalsOnly = compilePatternSet([{ rule: "a", pattern: "GET /(healthz|readyz)" }, { rule: "b", pattern: "(?i)debug x" }]);
    for (const s of [set, literalsOnly, noLiterals]) {
      expect(Array.from(s.matchLines(lines)).map((i) => i >= 0)).toEqual(lines.map((l) => s.matchLine(l) >= 0));
    }
    expect(Array.from(noLiterals.matchLines(["123x", "9y", "plain", "GET /readyz"]))).toEqual([0, 1, -1, 2]);
  });

  it("restricts matching to active entries", () => {
    const s = compilePatternSet([
      { rule: "a", pattern: "[0-9]{3}x" },
      { rule: "b", pattern: "\\d+y" },
      { rule: "c", pattern: "GET /healthz" },
      { rule: "d", pattern: "GET /h[a-z]+" },
    ]);
    const lines = ["123x", "9y", "GET /healthz", "GET /help"];
    expect(Array.from(s.matchLines(lines, [false, true, false, true]))).toEqual([-1, 1, 3, 3]);
    expect(Array.from(s.matchLines(lines, [true, false, false, false]))).toEqual([0, -1, -1, -1]);
    expect(s.matchLine("GET /healthz", [false, false, false, false])).toBe(-1);
  });

  it("handles empty input and single lines", () => {
    expect(Array.from(set.matchLines([]))).toEqual([]);
    expect(Array.from(set.matchLines(["GET /healthz"]))).toEqual([0]);
  });

  it("falls back to per-line matching for whole-text anchors", () => {
    const a = compilePatternSet([{ rule: "a", pattern: "\\Astart" }]);
    expect(Array.from(a.matchLines(["start", "no start", "start again"]))).toEqual([0, -1, 0]);
  });

  it("rejects a pattern RE2 cannot compile, naming its rule", () => {
    expect(() => compilePatternSet([{ rule: "ok", pattern: "a" }, { rule: "tenant x exclude[1].log", pattern: "(?=a)" }])).toThrow(
      /tenant x exclude\[1\]\.log/,
    );
    expect(() => compilePatternSet([{ rule: "r", pattern: "(a)\\1" }])).toThrow(RuleError);
  });

  it("is linear on catastrophic patterns", () => {
    const evil = compilePatternSet([{ rule: "evil", pattern: "(a+)+$" }]);
    expect(Array.from(evil.matchLines(["a".repeat(100_000) + "b", "aaa"]))).toEqual([-1, 0]);
  });
});
