// The label memory: bounded, forgets on delete, stores identical label sets once.
import { describe, expect, it } from "vitest";
import { LabelMemory, labelsJson } from "./labels.js";

const rs = labelsJson({ app: "web", "pod-template-hash": "5d8f7c9b6d" });

describe("labelsJson", () => {
  it("is empty for no labels and a JSON object otherwise", () => {
    expect(labelsJson(undefined)).toBe("");
    expect(labelsJson({})).toBe("");
    expect(JSON.parse(labelsJson({ "app.kubernetes.io/name": "web" }))).toEqual({ "app.kubernetes.io/name": "web" });
    expect(JSON.parse(labelsJson({ n: 1, z: null }))).toEqual({ n: "1", z: "" });
  });
});

describe("LabelMemory", () => {
  it("answers with the labels of a remembered object and nothing for an unknown one", () => {
    const m = new LabelMemory(10);
    m.remember("p1", rs);
    expect(m.labelsOf("p1")).toEqual({ app: "web", "pod-template-hash": "5d8f7c9b6d" });
    expect(m.labelsOf("p2")).toBeUndefined();
    expect(m.labelsOf("")).toBeUndefined();
    // Each answer is a fresh object: a caller changing it cannot change what others get.
    m.labelsOf("p1")!["app"] = "changed";
    expect(m.labelsOf("p1")!["app"]).toBe("web");
  });

  it("stores identical label sets once and lets go of a set nobody has any more", () => {
    const m = new LabelMemory(100);
    const stored = new Set<string>();
    for (let i = 0; i < 50; i++) stored.add(m.remember(`p${i}`, labelsJson({ app: "web", "pod-template-hash": "5d8f7c9b6d" })));
    m.remember("other", labelsJson({ app: "db" }));
    expect(m.size).toBe(51);
    expect(m.distinct).toBe(2);
    // Every pod holds the one shared string.
    expect(stored.size).toBe(1);
    // A relabelled pod moves to its own set; the old set stays for the others.
    m.remember("p0", labelsJson({ app: "web", canary: "true" }));
    expect(m.distinct).toBe(3);
    expect(m.labelsOf("p0")).toEqual({ app: "web", canary: "true" });
    for (let i = 1; i < 50; i++) m.forget(`p${i}`);
    expect(m.distinct).toBe(2);
    m.forget("other");
    m.forget("p0");
    expect(m.size).toBe(0);
    expect(m.distinct).toBe(0);
  });

  it("forgets an object whose labels are removed", () => {
    const m = new LabelMemory(10);
    m.remember("p1", rs);
    m.remember("p1", "");
    expect(m.labelsOf("p1")).toBeUndefined();
    expect(m.size).toBe(0);
    expect(m.distinct).toBe(0);
  });

  it("keeps at most `capacity` objects, evicting the one remembered longest ago, and counts evictions", () => {
    let evictions = 0;
    const m = new LabelMemory(3, () => evictions++);
    for (const uid of ["a", "b", "c"]) m.remember(uid, labelsJson({ uid }));
    // Updating a known object neither evicts nor makes it younger.
    m.remember("a", labelsJson({ uid: "a", v: "2" }));
    expect(evictions).toBe(0);
    m.remember("d", labelsJson({ uid: "d" }));
    expect(evictions).toBe(1);
    expect(m.size).toBe(3);
    expect(m.labelsOf("a")).toBeUndefined();
    expect(m.labelsOf("b")).toEqual({ uid: "b" });
    expect(m.labelsOf("d")).toEqual({ uid: "d" });
    expect(m.distinct).toBe(3);
  });

  it("remembers nothing with capacity 0", () => {
    const m = new LabelMemory(0);
    m.remember("p1", rs);
    expect(m.size).toBe(0);
    expect(m.labelsOf("p1")).toBeUndefined();
  });

  it("seeds only objects it does not know yet (what it learnt live is newer than Redis)", () => {
    const m = new LabelMemory(10);
    m.remember("p1", labelsJson({ v: "live" }));
    m.seed("p1", labelsJson({ v: "redis" }));
    m.seed("p2", labelsJson({ v: "redis" }));
    expect(m.labelsOf("p1")).toEqual({ v: "live" });
    expect(m.labelsOf("p2")).toEqual({ v: "redis" });
  });
});
