// Unit tests of label selectors (`kubectl -l` syntax).
import { describe, expect, it } from "vitest";
import { LabelSelectorError, compileLabelSelector, parseLabelSelector } from "./labels.js";

describe("compileLabelSelector", () => {
  const labels = { app: "web", tier: "frontend", "app.kubernetes.io/part-of": "shop", empty: "" };
  it.each([
    ["app=web", true],
    ["app==web", true],
    ["app = web", true],
    ["app=api", false],
    ["app!=api", true],
    ["missing!=x", true],
    ["missing=", false],
    ["empty=", true],
    ["tier in (frontend, backend)", true],
    ["tier in(frontend)", true],
    ["tier notin (frontend)", false],
    ["missing in (a)", false],
    ["missing notin (a)", true],
    ["app", true],
    ["missing", false],
    ["!canary", true],
    ["! canary", true],
    ["!app", false],
    ["app=web,tier in (backend)", false],
    ["app.kubernetes.io/part-of=shop, app=web", true],
    ["", true],
    ["app=web,", true],
  ] as const)("%s → %s", (sel, want) => {
    expect(compileLabelSelector(sel)(labels)).toBe(want);
  });

  it("accepts a map (all equal) and treats missing labels as none", () => {
    expect(compileLabelSelector({ app: "web" })(labels)).toBe(true);
    expect(compileLabelSelector({ app: "web", tier: "x" })(labels)).toBe(false);
    expect(compileLabelSelector({ app: "web" })(undefined)).toBe(false);
    expect(compileLabelSelector("!canary")(undefined)).toBe(true);
  });

  it("does not read inherited properties as labels", () => {
    expect(compileLabelSelector("constructor")({})).toBe(false);
    expect(compileLabelSelector("!toString")({})).toBe(true);
  });

  it("parses into requirements", () => {
    expect(parseLabelSelector("a=1,b!=2,c in (x,y,x),d notin (z),e,!f")).toEqual([
      { key: "a", op: "=", values: ["1"] },
      { key: "b", op: "!=", values: ["2"] },
      { key: "c", op: "in", values: ["x", "y"] },
      { key: "d", op: "notin", values: ["z"] },
      { key: "e", op: "exists", values: [] },
      { key: "f", op: "!exists", values: [] },
    ]);
  });

  it.each(["app in (a", "a=b=c", "a b", "-bad=x", "a=-bad", "!a=b", "a in (x y)", `a=${"v".repeat(64)}`])("rejects %s", (sel) => {
    expect(() => compileLabelSelector(sel)).toThrow(LabelSelectorError);
  });

  it("rejects invalid map keys and values", () => {
    expect(() => compileLabelSelector({ "bad key": "x" })).toThrow(LabelSelectorError);
    expect(() => compileLabelSelector({ a: "not valid" })).toThrow(LabelSelectorError);
    expect(() => compileLabelSelector({ a: 1 } as unknown as Record<string, string>)).toThrow(/value must be a string/);
  });
});
