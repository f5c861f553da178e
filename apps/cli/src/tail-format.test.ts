// `faro tail`'s one-line summaries of what flows on the bus.
import { describe, expect, it } from "vitest";
import { buildRawSubject, buildStorySubject, encodeDeadLetter, encodeLogBatch, encodeStoryEntry, type Encodable, type LogBatch, type StoryEntry } from "@faro/contracts";
import { decodeRecord, jsonRecord, summarize } from "./tail-format.js";

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
