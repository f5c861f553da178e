import { describe, expect, it } from "vitest";
import { InvalidMessageError } from "./errors.js";
import { evidenceResolves, jsonPointerToken, readJsonPointer, resolveEvidence } from "./evidence.js";
import { decodeInsight, encodeInsight, toCanonicalJson, type Encodable, type IncidentContext, type Insight } from "./messages.js";

const ic = {
  schemaVersion: 1,
  incidentId: "i-1",
  reason: "OOMKilled",
  message: "OOMKilled: container app exited with code 137",
  exitCode: 137,
  restartCount: 2,
  logTail: [{ timestamp: "t", line: "alloc", truncated: false, originalBytes: 5 }],
  previousLog: [{ timestamp: "t", line: "prev", truncated: false, originalBytes: 4 }],
  events: [{ reason: "BackOff", type: "Warning", message: "Back-off restarting", count: 3, first: "", last: "", source: "kubelet" }],
  manifests: [{ kind: "Pod", name: "p", json: JSON.stringify({ spec: { containers: [{ name: "app", resources: { limits: { memory: "128Mi" } } }] }, metadata: { annotations: { "a/b~c": "x" } } }) }],
  recentChanges: [{ timestamp: "t", kind: "Deployment", name: "d", diffJson: '[{"op":"replace","path":"/spec/replicas","from":1,"to":2}]' }],
  evidence: [{ source: "condition", object: "Node/n", field: "status.conditions[MemoryPressure]", reason: "KubeletHasInsufficientMemory", message: "low memory", time: "", value: "True" }],
} as unknown as IncidentContext;

describe("evidence references", () => {
  it("resolve into every part of an incident", () => {
    expect(resolveEvidence(ic, { kind: "log_tail", index: 0, path: "" })).toBe("alloc");
    expect(resolveEvidence(ic, { kind: "previous_log", index: 0, path: "" })).toBe("prev");
    expect(resolveEvidence(ic, { kind: "event", index: 0, path: "" })).toBe("Back-off restarting");
    expect(resolveEvidence(ic, { kind: "event", index: 0, path: "reason" })).toBe("BackOff");
    expect(resolveEvidence(ic, { kind: "manifest", index: 0, path: "/spec/containers/0/resources/limits/memory" })).toBe("128Mi");
    expect(resolveEvidence(ic, { kind: "manifest", index: 0, path: `/metadata/annotations/${jsonPointerToken("a/b~c")}` })).toBe("x");
    expect(resolveEvidence(ic, { kind: "change", index: 0, path: "/0/to" })).toBe("2");
    expect(resolveEvidence(ic, { kind: "evidence", index: 0, path: "value" })).toBe("True");
    expect(resolveEvidence(ic, { kind: "field", index: 0, path: "exit_code" })).toBe("137");
    expect(resolveEvidence(ic, { kind: "field", index: 0, path: "restartCount" })).toBe("2");
  });

  it("resolve to nothing when they point past the incident", () => {
    expect(resolveEvidence(ic, { kind: "log_tail", index: 1, path: "" })).toBeUndefined();
    expect(resolveEvidence(ic, { kind: "manifest", index: 0, path: "/spec/containers/1" })).toBeUndefined();
    expect(resolveEvidence(ic, { kind: "manifest", index: 0, path: "spec" })).toBeUndefined();
    expect(resolveEvidence(ic, { kind: "field", index: 0, path: "logTail" })).toBeUndefined();
    expect(resolveEvidence(ic, { kind: "field", index: 0, path: "nope" })).toBeUndefined();
    expect(readJsonPointer([1, 2], "/01")).toBeUndefined();
  });

  it("hold only when the quote is what is there", () => {
    expect(evidenceResolves(ic, { kind: "log_tail", index: 0, path: "", quote: "alloc" })).toBe(true);
    expect(evidenceResolves(ic, { kind: "log_tail", index: 0, path: "", quote: "other" })).toBe(false);
  });
});

describe("Insight", () => {
  const insight: Encodable<Insight> = {
    incidentId: "i-1",
    repeatCount: 2,
    storyId: "s-1",
    tenant: "t",
    cluster: "c",
    namespace: "ns",
    reason: "OOMKilled",
    analyzer: "builtin:oomkilled",
    probableCause: "over the limit",
    evidence: [{ kind: "log_tail", index: 0, path: "", quote: "alloc" }],
    nextSteps: ["raise the limit"],
    confidence: 0.9,
    otherFindings: [{ analyzer: "builtin:exit-code", probableCause: "SIGKILL", evidence: [{ kind: "field", index: 0, path: "exit_code", quote: "137" }], nextSteps: [], confidence: 0.6 }],
    prompt: "",
    answer: "",
    model: "",
    createdAt: "2026-12-08T00:00:00.000Z",
    fingerprint: "fp-1",
  };

  it("round-trips, and renders as canonical JSON", () => {
    const back = decodeInsight(encodeInsight(insight));
    expect(back).toEqual({ ...insight, schemaVersion: 1 });
    expect(toCanonicalJson("Insight", back)).toMatchObject({ incidentId: "i-1", repeatCount: 2, evidence: [{ kind: "log_tail", quote: "alloc" }] });
  });

  it("refuses an evidence kind outside the closed set", () => {
    expect(() => encodeInsight({ ...insight, evidence: [{ kind: "vibes" as never, index: 0, path: "", quote: "" }] })).toThrow(InvalidMessageError);
    expect(() => encodeInsight({ ...insight, otherFindings: [{ ...insight.otherFindings[0]!, evidence: [{ kind: "x" as never, index: 0, path: "", quote: "" }] }] })).toThrow(/evidence\.kind/);
  });
});
