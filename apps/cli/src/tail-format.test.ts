// `faro tail`'s one-line summaries of what flows on the bus.
import { describe, expect, it } from "vitest";
import { buildRawSubject, encodeDeadLetter, encodeLogBatch, type Encodable, type LogBatch } from "@faro/contracts";
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
