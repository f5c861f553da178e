// Unit tests of line limits, timestamp normalisation and the resume filter.
import { describe, expect, it } from "vitest";
import { decodeLogBatch, encodeLogBatch } from "@faro/contracts";
import { LineSplitter, decodeLogLine } from "@faro/kube";
import { ResumeFilter, START, advance, advanceBy, limitLine, normalizeTimestamp, tailOf, truncationMarker } from "./lines.js";

const T = (ns: number) => `2026-01-01T00:00:00.${String(ns).padStart(9, "0")}Z`;

describe("limitLine", () => {
  it("keeps short lines and counts their bytes", () => {
    expect(limitLine("héllo", T(1), 100)).toEqual({ timestamp: T(1), line: "héllo", truncated: false, originalBytes: 6 });
  });

  it("cuts long lines to maxBytes including the marker, at a character boundary", () => {
    const text = "é".repeat(20_000); // 40,000 bytes
    const l = limitLine(text, T(1), 16 * 1024);
    expect(l.truncated).toBe(true);
    expect(l.originalBytes).toBe(40_000);
    expect(Buffer.byteLength(l.line)).toBeLessThanOrEqual(16 * 1024);
    expect(l.line).not.toContain("\uFFFD");
    const kept = Buffer.byteLength(l.line) - Buffer.byteLength(l.line.slice(l.line.indexOf("…")));
    expect(l.line.endsWith(truncationMarker(40_000 - kept))).toBe(true);
  });

  it("flags lines the reader already cut and reports the bytes it saw", () => {
    const l = limitLine("x".repeat(100), T(1), 16 * 1024, 1024 * 1024);
    expect(l.truncated).toBe(true);
    expect(l.originalBytes).toBe(1024 * 1024);
  });

  it("states the true size of a 5 MB line in the marker and originalBytes", () => {
    const text = "é".repeat(1_000_000) + "x".repeat(3_000_000); // 5,000,000 bytes
    const l = limitLine(text, T(1), 16 * 1024);
    expect(l.originalBytes).toBe(5_000_000);
    const kept = Buffer.byteLength(l.line.slice(0, l.line.lastIndexOf("…[truncated")));
    expect(kept).toBeGreaterThan(16 * 1024 - 40);
    expect(l.line).toBe(`${"é".repeat(kept / 2)}${truncationMarker(5_000_000 - kept)}`);
  });

  it("a line of exactly maxBytes stays whole", () => {
    const l = limitLine("a".repeat(64), T(1), 64);
    expect(l.truncated).toBe(false);
    expect(l.line.length).toBe(64);
  });
});

describe("normalizeTimestamp", () => {
  it("pads to 9 digits and converts offsets to UTC", () => {
    expect(normalizeTimestamp("2026-01-01T00:00:00Z")).toBe("2026-01-01T00:00:00.000000000Z");
    expect(normalizeTimestamp("2026-01-01T00:00:00.5Z")).toBe("2026-01-01T00:00:00.500000000Z");
    expect(normalizeTimestamp("2026-01-01T01:00:00.250+01:00")).toBe("2026-01-01T00:00:00.250000000Z");
    expect(normalizeTimestamp("nonsense")).toBeUndefined();
  });
});

describe("ResumeFilter", () => {
  it("passes everything from the start", () => {
    const f = new ResumeFilter(START);
    expect(f.accept(T(1)).fresh).toBe(true);
  });

  it("skips older lines and the lines already published at the checkpoint timestamp", () => {
    // published: T1, T2, T2 → position (T2, 2); a resumed read returns T1, T2, T2, T2, T3
    let pos = START;
    for (const t of [T(1), T(2), T(2)]) pos = advance(pos, t);
    expect(pos).toEqual({ ts: T(2), atTs: 2 });
    const f = new ResumeFilter(pos);
    expect([T(1), T(2), T(2), T(2), T(3)].map((t) => f.accept(t).fresh)).toEqual([false, false, false, true, true]);
  });

  it("lines without a timestamp inherit the previous one", () => {
    const f = new ResumeFilter({ ts: T(5), atTs: 1 });
    expect(f.accept(T(5)).fresh).toBe(false);
    expect(f.accept(undefined)).toEqual({ ts: T(5), fresh: true });
  });
});

describe("advanceBy", () => {
  it("gives the position advance() gives line by line, from any position", () => {
    const runs = [[], [1], [2, 2], [1, 2, 2], [2, 2, 2], [2, 3], [3, 3, 2, 2], [1, 1, 1]].map((r) => r.map((i) => ({ timestamp: T(i) })));
    for (const from of [START, { ts: T(1), atTs: 3 }, { ts: T(2), atTs: 1 }]) {
      for (const run of runs) {
        let pos = from;
        for (const l of run) pos = advance(pos, l.timestamp);
        expect(advanceBy(from, tailOf(run))).toEqual(pos);
      }
    }
  });
});

describe("invalid UTF-8", () => {
  it("is replaced, cut safely and survives encoding", () => {
    // Invalid bytes: a lone continuation byte, a truncated 3-byte sequence, an overlong NUL, 0xFF.
    const bad = Buffer.concat([Buffer.from(`${T(1)} ok `), Buffer.from([0x80, 0xe2, 0x82, 0xc0, 0x80, 0xff]), Buffer.from(` end ${"x".repeat(40)}\n`)]);
    const lines: Buffer[] = [];
    new LineSplitter().push(bad, (l) => lines.push(l));
    const parsed = decodeLogLine(lines[0]!);
    expect(parsed.timestamp).toBe(T(1));
    const line = limitLine(parsed.text, T(1), 30);
    expect(line.truncated).toBe(true);
    expect(Buffer.byteLength(line.line)).toBeLessThanOrEqual(30);
    const whole = limitLine(parsed.text, T(1), 16 * 1024);
    expect(whole.line).toContain("\uFFFD");
    const batch = decodeLogBatch(
      encodeLogBatch({
        cluster: "c",
        namespace: "n",
        pod: "p",
        podUid: "u",
        container: "app",
        containerType: "regular",
        restartCount: 0,
        source: "follow",
        seqStart: 0,
        lines: [whole, line],
        podOwnerRefs: [],
        node: "",
        observedAtMs: 1,
        endOfStream: false,
        podLabels: {},
      }),
    );
    expect(batch.lines.map((l) => l.line)).toEqual([whole.line, line.line]);
  });
});
