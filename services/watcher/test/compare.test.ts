// The ground-truth comparison itself must catch what it is there to catch: missing, repeated and invented states.
import { describe, expect, it } from "vitest";
import { compare } from "./helpers.js";

const c = (uid: string, rv: number, type: "ADDED" | "MODIFIED" | "DELETED") => ({ uid, resourceVersion: String(rv), type });

describe("compare (test helper)", () => {
  const truth = [c("a", 1, "ADDED"), c("a", 3, "MODIFIED"), c("b", 4, "ADDED"), c("b", 6, "DELETED")];
  it("accepts an exact stream", () => {
    expect(compare(truth, truth)).toMatchObject({ missing: [], duplicates: [], invented: [], checked: 4 });
  });
  it("finds a missing change, a duplicate (even ADDED vs MODIFIED of one state) and an invented one", () => {
    const r = compare(truth, [c("a", 1, "ADDED"), c("a", 3, "MODIFIED"), c("a", 3, "ADDED"), c("b", 4, "ADDED"), c("b", 5, "MODIFIED")]);
    expect(r.missing).toEqual(["b|6|DELETED"]);
    expect(r.duplicates).toEqual(["a|3|S"]);
    expect(r.invented).toContain("b|5|MODIFIED (no such state)");
    expect(r.invented).toContain("a|3|ADDED (truth says MODIFIED)");
  });
  it("lets a list report ADDED before sinceRv, and a relist report a final state and a DELETED by uid in a gap", () => {
    expect(compare(truth, [c("a", 3, "ADDED"), c("b", 4, "ADDED"), c("b", 6, "DELETED")], { sinceRv: 3 }).invented).toEqual([]);
    const gap = compare(truth, [c("a", 1, "ADDED"), c("a", 3, "MODIFIED"), c("b", 4, "ADDED"), c("b", 4, "DELETED")], { gapUids: new Set(["b"]) });
    expect(gap).toMatchObject({ missing: [], invented: [] });
    expect(compare(truth, [c("a", 1, "ADDED"), c("a", 3, "MODIFIED")], { gapUids: new Set(["b"]) }).missing).toEqual(["final b|6|DELETED"]);
  });
});
