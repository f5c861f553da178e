// Deterministic message ids and stream definitions.
import { describe, expect, it } from "vitest";
import { ContractError } from "./errors.js";
import { deadLetterId, eventId, incidentId, incidentMessageId, logBatchId, resourceChangeId, storyEntryId, storyIdFor } from "./msgid.js";
import { STREAMS } from "./streams.js";
import { buildDlqSubject, buildIncidentSubject, buildInsightSubject, buildRawSubject, buildStorySubject, buildCleanSubject } from "./subjects.js";

describe("message ids", () => {
  it("are stable and distinguish what must be distinct", () => {
    expect(resourceChangeId("u1", "42", "MODIFIED")).toBe("rc:u1:42:M");
    expect(resourceChangeId("u1", "42", "DELETED")).not.toBe(resourceChangeId("u1", "42", "MODIFIED"));
    expect(eventId("u1", "42", "ADDED")).toBe("ev:u1:42:A");
    expect(eventId("u1", "42", "ADDED")).not.toBe(resourceChangeId("u1", "42", "ADDED"));
    expect(logBatchId("p", "app", 2, 100)).toBe("lg:p:app:2:100");
    expect(logBatchId("p", "app", 2, 100, "previous")).toBe("lg:p:app:2:100:p");
    expect(storyEntryId("s-1", 0, 7)).toBe("se:s-1:0:7");
    expect(incidentMessageId("i-1", 3)).toBe("in:i-1:3");
    expect(deadLetterId("filter", "redact", 9)).toBe("dl:filter:redact:9");
    expect(() => resourceChangeId("u", "1", "BOOKMARK")).toThrow(ContractError);
  });

  it("derive story and incident ids from their identity", () => {
    const s = storyIdFor("team-a", "prod", "shop", "Deployment", "web");
    expect(s).toMatch(/^s-[0-9a-f]{16}$/);
    expect(s).toBe(storyIdFor("team-a", "prod", "shop", "Deployment", "web"));
    expect(s).not.toBe(storyIdFor("team-a", "stage", "shop", "Deployment", "web"));
    expect(s).not.toBe(storyIdFor("team-a", "prod", "shop", "StatefulSet", "web"));
    const i = incidentId("s-1", "pod", "app", "OOMKilled", "2026-11-22T02:00:00Z");
    expect(i).toMatch(/^i-[0-9a-f]{16}$/);
    expect(i).toBe(incidentId("s-1", "pod", "app", "OOMKilled", "2026-11-22T02:00:00Z"));
    expect(i).not.toBe(incidentId("s-1", "pod", "app", "CrashLoopBackOff", "2026-11-22T02:00:00Z"));
    // Joined parts must not collide when a boundary moves.
    expect(incidentId("s-1", "ab", "c", "r", "t")).not.toBe(incidentId("s-1", "a", "bc", "r", "t"));
  });
});

describe("streams", () => {
  it("covers every stage subject exactly once, with file storage and a dedupe window", () => {
    const subjects = [
      buildRawSubject("c", "ns", { category: "log", pod: "p", container: "c" }),
      buildCleanSubject("t", "c", "ns", { category: "event", kind: "Pod", name: "p" }),
      buildStorySubject("t", "c", "ns", "s-1"),
      buildIncidentSubject("t", "c", "ns", "OOMKilled"),
      buildInsightSubject("t", "c", "ns", "s-1"),
      buildDlqSubject("filter", "redact"),
    ];
    for (const subject of subjects) {
      const owners = STREAMS.filter((s) => s.subjects.some((p) => subject.startsWith(p.slice(0, -1))));
      expect(owners).toHaveLength(1);
    }
    expect(STREAMS.map((s) => s.name)).toEqual(["FARO_RAW", "FARO_CLEAN", "FARO_STORY", "FARO_INCIDENT", "FARO_INSIGHT", "FARO_DLQ"]);
    for (const s of STREAMS) {
      expect(s.storage).toBe("file");
      expect(s.duplicateWindowMs).toBeGreaterThan(0);
      expect(s.maxAgeMs).toBeGreaterThan(s.duplicateWindowMs);
    }
  });
});
