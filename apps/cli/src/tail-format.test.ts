// `faro tail`'s one-line summaries of what flows on the bus.
import { describe, expect, it } from "vitest";
import { buildRawSubject, buildStorySubject, encodeDeadLetter, encodeLogBatch, encodeStoryEntry, type Encodable, type LogBatch, type StoryEntry } from "@faro/contracts";
import { createTailRenderer, decodeRecord, jsonRecord, summarize } from "./tail-format.js";
import { formatTime, nameColour, visibleLength } from "./terminal.js";

const batch: Encodable<LogBatch> = {
  cluster: "sim",
  namespace: "shop",
  pod: "web-1",
  podUid: "u1",
  container: "app",
  containerType: "regular",
  restartCount: 0,
  source: "follow",
  seqStart: 0,
  lines: [{ timestamp: "2026-11-22T01:00:00.000000001Z", line: "hello", truncated: false, originalBytes: 0 }],
  podOwnerRefs: [],
  node: "node-1",
  observedAtMs: 0,
  endOfStream: false,
  podLabels: {},
};
const subject = buildRawSubject("sim", "shop", { category: "log", pod: "web-1", container: "app" });
const line = (b: Encodable<LogBatch>) => summarize(decodeRecord(subject, encodeLogBatch(b), 1), false);

describe("tail summaries of log batches", () => {
  it("shows the lines, the end of a stream, and why an instance's log could not be read", () => {
    expect(line(batch)).toMatch(/LOG +shop\/web-1\/app#0 1 line: hello$/);
    expect(line({ ...batch, lines: [], endOfStream: true })).toMatch(/web-1\/app#0 0 lines \(end\)/);
    expect(line({ ...batch, lines: [], endOfStream: true, unreadReason: "gone_before_read" })).toMatch(/\(end, unread: gone_before_read\)/);
  });
});

describe("faro tail --json records", () => {
  it("carry the message as proto3 canonical JSON: int64 as strings, bytes as base64, defaults left out", () => {
    const bytes = encodeDeadLetter({
      service: "filter",
      stage: "decode",
      originalSubject: "faro.v1.raw.c1.shop.log.p.app",
      reason: "poison message",
      error: "cannot decode LogBatch",
      deliveries: 1,
      streamSeq: 42,
      payload: new Uint8Array([1, 2, 3]),
      payloadWithheld: false,
      atMs: 1_700_000_000_000,
    });
    const rec = jsonRecord(decodeRecord("faro.v1.dlq.filter.decode", bytes, 7)) as { type: string; seq: number; message: Record<string, unknown> };
    expect(rec.type).toBe("faro.v1.DeadLetter");
    expect(rec.seq).toBe(7);
    expect(rec.message).toMatchObject({ schemaVersion: 1, service: "filter", streamSeq: "42", atMs: "1700000000000", payload: "AQID" });
    expect("payloadWithheld" in rec.message).toBe(false);
  });
});

describe("story entries", () => {
  const entry: Encodable<StoryEntry> = {
    storyId: "s-0123456789abcdef",
    window: 0,
    seq: 3,
    orderingKey: "2026-11-22T01:00:00.000000000Z/000000000003",
    tenant: "acme",
    cluster: "sim",
    namespace: "shop",
    workload: { apiVersion: "apps/v1", kind: "Deployment", name: "web", uid: "dep-uid" },
    entryKind: "log",
    timestamp: "2026-11-22T01:00:00Z",
    pod: { name: "web-1", uid: "u1", node: "node-1", replacesPodUid: "" },
    summary: "log of web-1/app (restart 0) not read: the pod was deleted before its log was read",
    log: { container: "app", containerType: "regular", restartCount: 0, source: "follow", seqStart: 0, lines: [], unreadReason: "gone_before_read" },
  };
  const storySubject = buildStorySubject("acme", "sim", "shop", "s-0123456789abcdef");

  it("summarise kind, workload, pod and the correlator's summary", () => {
    expect(summarize(decodeRecord(storySubject, encodeStoryEntry(entry), 9), false)).toMatch(/^story +log +shop\/Deployment\/web web-1: log of web-1\/app \(restart 0\) not read/);
  });

  it("print the typed payload in the canonical message, and as story-file data in `payload`", () => {
    const rec = jsonRecord(decodeRecord(storySubject, encodeStoryEntry(entry), 9)) as { type: string; message: Record<string, unknown>; payload: unknown };
    expect(rec.type).toBe("faro.v1.StoryEntry");
    expect(rec.message).toMatchObject({ schemaVersion: 2, entryKind: "log", log: { container: "app", containerType: "regular", source: "follow", unreadReason: "gone_before_read" } });
    expect(rec.payload).toEqual({ container: "app", containerType: "regular", restartCount: 0, source: "follow", seqStart: 0, lines: [], unread: { reason: "gone_before_read" } });
  });
});

describe("faro tail lines, read like stern", () => {
  const rec = (b: Encodable<LogBatch>, cluster = "sim") =>
    decodeRecord(buildRawSubject(cluster, b.namespace, { category: "log", pod: b.pod, container: b.container }), encodeLogBatch({ ...b, cluster }), 1);
  const two: Encodable<LogBatch> = {
    ...batch,
    lines: [
      { timestamp: "2026-11-22T01:00:00.123456789Z", line: "first", truncated: false, originalBytes: 0 },
      { timestamp: "2026-11-22T01:00:01Z", line: "second\twith a tab", truncated: false, originalBytes: 0 },
    ],
  };

  it("print one line per log line: time with milliseconds always, pod, container, the text itself", () => {
    const render = createTailRenderer({ output: "default", colour: false, cluster: "auto" });
    expect(render(rec(two))).toEqual(["01:00:00.123 web-1 app first", "01:00:01.000 web-1 app second  with a tab"]);
  });

  it("give each pod the same colour every time, and none without colour", () => {
    const render = createTailRenderer({ output: "default", colour: true, cluster: "auto" });
    const a = render(rec(batch))[0]!;
    const b = render(rec({ ...batch, pod: "web-2" }))[0]!;
    expect(a).toContain(`${nameColour("web-1")}web-1\x1b[0m`);
    expect(render(rec(batch))[0]).toBe(a);
    expect(nameColour("web-1")).toBe(nameColour("web-1"));
    expect(b).toContain(`${nameColour("web-2")}web-2`);
    expect(createTailRenderer({ output: "default", colour: false, cluster: "auto" })(rec(batch))[0]).not.toContain("\x1b");
  });

  it("cut lines to the terminal width, counting visible characters only", () => {
    const long = { ...batch, lines: [{ ...batch.lines[0]!, line: "x".repeat(200) }] };
    for (const colour of [false, true]) {
      const [line] = createTailRenderer({ output: "default", colour, width: 40, cluster: "auto" })(rec(long));
      expect(visibleLength(line!)).toBe(40);
      expect(line!.replace(/\x1b\[[0-9;]*m/g, "")).toMatch(/x…$/);
    }
    expect(createTailRenderer({ output: "default", colour: false, cluster: "auto" })(rec(long))[0]!.length).toBeGreaterThan(200);
  });

  it("add a cluster column from the second cluster on, never with one --cluster", () => {
    const render = createTailRenderer({ output: "default", colour: false, cluster: "auto" });
    expect(render(rec(batch, "eu-1"))[0]).toBe("01:00:00.000 web-1 app hello");
    expect(render(rec(batch, "us-2"))[0]).toBe("01:00:00.000 us-2 web-1 app hello");
    expect(render(rec(batch, "eu-1"))[0]).toBe("01:00:00.000 eu-1 web-1 app hello");
    const pinned = createTailRenderer({ output: "default", colour: false, cluster: "never" });
    pinned(rec(batch, "eu-1"));
    expect(pinned(rec(batch, "us-2"))[0]).toBe("01:00:00.000 web-1 app hello");
  });

  it("-o raw prints the text only; -o wide every column with the full date", () => {
    expect(createTailRenderer({ output: "raw", colour: false, cluster: "auto" })(rec(two))).toEqual(["first", "second  with a tab"]);
    expect(createTailRenderer({ output: "wide", colour: false, cluster: "auto" })(rec(two))[0]).toBe("2026-11-22T01:00:00.123Z sim shop web-1 app raw first");
  });

  it("tell story entries that are not log lines as one sentence, without repeating the pod", () => {
    const lifecycle: Encodable<StoryEntry> = {
      storyId: "s-0123456789abcdef",
      window: 0,
      seq: 4,
      orderingKey: "k",
      tenant: "acme",
      cluster: "sim",
      namespace: "shop",
      workload: { apiVersion: "apps/v1", kind: "Deployment", name: "web", uid: "dep-uid" },
      entryKind: "lifecycle",
      timestamp: "2026-11-22T01:00:20Z",
      pod: { name: "web-1", uid: "u1", node: "node-1", replacesPodUid: "" },
      summary: "container app restarted (restart 1, exit code 1, Error)",
      lifecycle: {
        what: "restarted",
        container: "app",
        containerType: "regular",
        restartCount: 1,
        termination: { exitCode: 1, reason: "Error", startedAt: "2026-11-22T01:00:00Z", finishedAt: "2026-11-22T01:00:12Z" },
        waiting: "CrashLoopBackOff",
      },
    } as unknown as Encodable<StoryEntry>;
    const subject = buildStorySubject("acme", "sim", "shop", "s-0123456789abcdef");
    const lines = createTailRenderer({ output: "default", colour: false, cluster: "auto" })(decodeRecord(subject, encodeStoryEntry(lifecycle), 1));
    // The sentence is @faro/story-view's narrative; the pod is the row's, not repeated in the text.
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^01:00:20\.000 web-1 app \[lifecycle\] container `app` exited 1\b.* after 12 s; restarted.*CrashLoopBackOff/);
    expect(lines[0]!.split("web-1")).toHaveLength(2);
    const incident = { ...lifecycle, entryKind: "incident", lifecycle: undefined, incident: { incidentId: "i-1", reason: "CrashLoopBackOff", severity: "high", container: "app", repeatCount: 1, isUpdate: false, exitCode: 1, firstSeen: "", lastSeen: "" } } as unknown as Encodable<StoryEntry>;
    const rec2 = decodeRecord(subject, encodeStoryEntry(incident), 2);
    expect(createTailRenderer({ output: "default", colour: false, cluster: "auto", skipStoryIncidents: true })(rec2)).toEqual([]);
    expect(createTailRenderer({ output: "default", colour: false, cluster: "auto" })(rec2)[0]).toMatch(/\[incident\] .*CrashLoopBackOff.*exit.* 1\b/);
  });
});

describe("the one timestamp format", () => {
  it("is UTC with milliseconds whatever the source precision", () => {
    expect(formatTime("2026-11-22T01:00:00Z")).toBe("2026-11-22T01:00:00.000Z");
    expect(formatTime("2026-11-22T01:00:00.987654321Z")).toBe("2026-11-22T01:00:00.987Z");
    expect(formatTime("2026-11-22T02:00:00.5+01:00", false)).toBe("01:00:00.500");
    expect(formatTime(undefined)).toHaveLength(24);
  });
});
