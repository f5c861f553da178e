// Unit tests of name/namespace patterns: exact, glob, /RE2/, all/*, case folding, errors.
import { describe, expect, it } from "vitest";
import { PatternError, compileNamePattern, compileNamePatterns, compileRe2, globMatch } from "./patterns.js";

describe("globMatch", () => {
  it.each([
    ["prod-*", "prod-eu", true],
    ["prod-*", "staging", false],
    ["*-web-?", "shop-web-1", true],
    ["*-web-?", "shop-web-12", false],
    ["a*b*c", "axxbyyc", true],
    ["a*b*c", "axxbyy", false],
    ["*", "", true],
    ["a.b-?", "a.b-1", true],
    ["a.b-?", "axb-1", false],
    ["[x]*", "[x]y", true],
  ] as const)("%s ~ %s = %s", (p, v, want) => expect(globMatch(p, v)).toBe(want));

  it("stays fast on adversarial globs", () => {
    expect(globMatch("*a*a*a*a*a*a*a*b", "a".repeat(5000))).toBe(false);
  });
});

describe("compileNamePattern", () => {
  it.each([
    ["default", "default", true],
    ["default", "defaults", false],
    ["prod-*", "prod-eu", true],
    ["prod-*", "prod", false],
    ["team-?", "team-a", true],
    ["/^team-\\d+$/", "team-12", true],
    ["/^team-\\d+$/", "team-x", false],
    ["/prod/", "eu-prod-1", true], // searched: anchor it to match whole names
    ["/^PROD/i", "prod-eu", true],
    ["/^PROD/", "prod-eu", false],
    ["all", "anything", true],
    ["all", "", true],
    ["*", "", true],
    ["  kube-system ", "kube-system", true],
  ] as const)("%s ~ %s = %s", (p, v, want) => expect(compileNamePattern(p)(v)).toBe(want));

  it("marks all and * as matching everything, nothing else", () => {
    expect(compileNamePattern("all").matchesAll).toBe(true);
    expect(compileNamePattern("*").matchesAll).toBe(true);
    expect(compileNamePattern("*-*").matchesAll).toBe(false);
    expect(compileNamePattern("/.*/").matchesAll).toBe(false);
  });

  it("folds case for names, globs and regexes when asked", () => {
    const o = { ignoreCase: true };
    expect(compileNamePattern("API_KEY", o)("api_key")).toBe(true);
    expect(compileNamePattern("*token", o)("GITHUB_TOKEN")).toBe(true);
    expect(compileNamePattern("/^x-/", o)("X-Api")).toBe(true);
    expect(compileNamePattern("API_KEY")("api_key")).toBe(false);
  });

  it("rejects empty patterns and regexes RE2 cannot run, naming the pattern", () => {
    for (const bad of ["", "   ", "//", "/([/", "/(a)\\1/", "/(?=a)b/"]) {
      expect(() => compileNamePattern(bad)).toThrow(PatternError);
    }
    try {
      compileNamePattern("/(?<=x)y/");
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(PatternError);
      expect((e as PatternError).pattern).toBe("/(?<=x)y/");
      expect((e as PatternError).message).toContain("/(?<=x)y/");
      expect((e as PatternError).reason).toMatch(/^not valid RE2/);
    }
  });
});

describe("compileNamePatterns", () => {
  it("matches when any pattern does; an empty list matches nothing", () => {
    const p = compileNamePatterns(["a", "b*"]);
    expect(p("bx")).toBe(true);
    expect(p("c")).toBe(false);
    expect(compileNamePatterns([])("a")).toBe(false);
    expect(compileNamePatterns([]).matchesAll).toBe(false);
    expect(compileNamePatterns(["x", "all"]).matchesAll).toBe(true);
  });
});

describe("compileRe2", () => {
  it("runs catastrophic-backtracking patterns in linear time", () => {
    const re = compileRe2("(a+)+$");
    expect(re.test("a".repeat(100_000) + "b")).toBe(false);
    expect(re.test("aaa")).toBe(true);
  });
});
