// Unit tests for RE2 compilation and name selectors named by their rule (globs: @faro/primitives).
import { describe, expect, it } from "vitest";
import { RuleError } from "./errors.js";
import { compileNameMatcher, compileNameMatchers, compileUserRegex } from "./matchers.js";

describe("compileNameMatcher", () => {
  it("supports exact, glob and /regex/", () => {
    expect(compileNameMatcher("r", "kube-system")("kube-system")).toBe(true);
    expect(compileNameMatcher("r", "kube-system")("kube-system2")).toBe(false);
    expect(compileNameMatcher("r", "team-*")("team-a")).toBe(true);
    expect(compileNameMatcher("r", "/^team-(a|b)$/")("team-b")).toBe(true);
    expect(compileNameMatcher("r", "/^TEAM/i")("team-b")).toBe(true);
    expect(compileNameMatchers("r", ["a", "b*"])("bx")).toBe(true);
  });

  it("rejects patterns RE2 cannot compile, naming the rule", () => {
    expect(() => compileNameMatcher("tenant a namespaces", "/(a)\\1/")).toThrow(RuleError);
    try {
      compileUserRegex("my-rule", "(?<=x)y");
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(RuleError);
      expect((e as RuleError).rule).toBe("my-rule");
      expect((e as RuleError).message).toContain("my-rule");
    }
  });

  it("runs catastrophic-backtracking patterns in linear time (RE2)", () => {
    const re = compileUserRegex("evil", "(a+)+$");
    expect(re.test("a".repeat(100_000) + "b")).toBe(false);
    expect(re.test("aaa")).toBe(true);
  });
});
