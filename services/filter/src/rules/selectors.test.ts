// Unit tests for label selectors.
import { RuleError } from "@faro/redact";
import { describe, expect, it } from "vitest";
import { compileLabelSelector } from "./selectors.js";

describe("compileLabelSelector", () => {
  const labels = { app: "web", tier: "frontend", "app.kubernetes.io/part-of": "shop" };
  it.each([
    ["app=web", true],
    ["app==web", true],
    ["app=api", false],
    ["app!=api", true],
    ["missing!=x", true],
    ["tier in (frontend, backend)", true],
    ["tier notin (frontend)", false],
    ["missing notin (a)", true],
    ["app", true],
    ["!canary", true],
    ["!app", false],
    ["app=web,tier in (backend)", false],
    ["app.kubernetes.io/part-of=shop, app=web", true],
  ] as const)("%s → %s", (sel, want) => {
    expect(compileLabelSelector("r", sel)(labels)).toBe(want);
  });

  it("accepts a map and treats missing labels as empty", () => {
    expect(compileLabelSelector("r", { app: "web" })(labels)).toBe(true);
    expect(compileLabelSelector("r", { app: "web" })(undefined)).toBe(false);
    expect(compileLabelSelector("r", "!canary")(undefined)).toBe(true);
  });

  it("rejects malformed selectors naming the rule", () => {
    expect(() => compileLabelSelector("tenant a include[0].labels", "app in (a")).toThrow(RuleError);
    expect(() => compileLabelSelector("tenant a include[0].labels", "a=b=c")).toThrow(/tenant a include\[0\]\.labels/);
  });
});
