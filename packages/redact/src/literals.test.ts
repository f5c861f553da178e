// Unit tests for required-literal extraction: it may only ever under-claim.
import { describe, expect, it } from "vitest";
import { exactLiterals, exactMatch, exactPattern, literalPrecheck, requiredLiterals } from "./literals.js";
import { compileUserRegex } from "./matchers.js";

describe("requiredLiterals", () => {
  it.each([
    ["GET /healthz", ["GET /healthz"]],
    ["GET /(healthz|readyz|livez)", ["healthz", "readyz", "livez"]],
    ["kube-probe/[0-9.]+", ["kube-probe/"]],
    ["\\b(ERROR|FATAL|panic|Exception)\\b", ["ERROR", "FATAL", "panic", "Exception"]],
    ["^\\S+ DEBUG ", [" DEBUG "]],
    ["heartbeat (ok|sent)", ["heartbeat "]],
    ["colou?r", ["colo"]],
    ["ab+c", ["ab"]],
    ["x{0,3}yz", ["yz"]],
    ["(?:foo|bar)baz", ["baz"]],
    ["a|bcd", ["a", "bcd"]],
    ["(?P<secret>tok_[a-z]+)", ["tok_"]],
    ["card=[0-9]{12,19}", ["card="]],
    ["\\.well-known/", [".well-known/"]],
  ])("%s → %j", (src, want) => {
    expect(requiredLiterals(src)?.literals.sort()).toEqual([...want].sort());
  });

  it.each(["[a-z]+", ".*", "(a|.*)x?", "\\d+", "(?:x)*", "\\Qabc\\E"])("%s → nothing known", (src) => {
    expect(requiredLiterals(src)).toBeUndefined();
  });

  it("notes case-insensitive patterns", () => {
    expect(requiredLiterals("(?i)debug")?.ignoreCase).toBe(true);
    expect(requiredLiterals("debug", true)?.ignoreCase).toBe(true);
  });

  it("builds a precheck only when every pattern has a useful literal", () => {
    const re = literalPrecheck([requiredLiterals("GET /healthz"), requiredLiterals("(?i)trace")]);
    expect(re?.test("x GET /healthz")).toBe(true);
    expect(re?.test("TRACE x")).toBe(true);
    expect(re?.test("nothing")).toBe(false);
    expect(literalPrecheck([requiredLiterals("GET /healthz"), requiredLiterals("\\d+")])).toBeUndefined();
    expect(literalPrecheck([requiredLiterals("a|bcd")])).toBeUndefined();
  });
});

describe("exactLiterals", () => {
  it.each([
    ["connection reset by peer", ["connection reset by peer"]],
    ["GET /(healthz|readyz)", ["GET /healthz", "GET /readyz"]],
    ["a(?:b|c)(d|e)", ["abd", "abe", "acd", "ace"]],
    ["x\\.y|z", ["x.y", "z"]],
  ])("%s → %j", (src, want) => expect(exactLiterals(src)?.sort()).toEqual([...want].sort()));

  it.each(["a+", "\\bERROR\\b", "^x", "a.b", "[ab]", "(?i)x", "a|", "(a|b){2}", "x?"])("%s is not pure literal", (src) => {
    expect(exactLiterals(src)).toBeUndefined();
  });

  it("gives up on huge expansions", () => {
    expect(exactLiterals("(a|b)(a|b)(a|b)(a|b)(a|b)(a|b)(a|b)")).toBeUndefined();
  });
});

describe("exactPattern", () => {
  it("decides word-boundary literal patterns exactly as RE2 does", () => {
    const lines = ["ERROR x", "xERROR", "an ERROR_1", "FATAL", "panic: y", "Exception.", "ERRORS", "(ERROR)", "", "é ERROR é"];
    for (const src of ["\\b(ERROR|FATAL|panic|Exception)\\b", "\\bERROR", "ERROR\\b", "GET /(healthz|readyz)"]) {
      const p = exactPattern(src);
      expect(p, src).toBeDefined();
      const re = compileUserRegex("t", src);
      for (const l of lines) expect(exactMatch(p!, l), `${src} on ${l}`).toBe(re.test(l));
    }
  });

  it("refuses boundaries around a top-level alternation", () => {
    expect(exactPattern("\\ba|b\\b")).toBeUndefined();
  });
});
