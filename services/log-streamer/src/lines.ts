// Line handling of the log-streamer: size limits with a truncation marker, timestamp order, and the
// checkpoint position (last timestamp + lines at it) that makes an inclusive sinceTime resume exact.
import type { LogLine } from "@faro/contracts";

const FIXED_TS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{9}Z$/;
const RFC3339 = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d{1,9}))?Z$/;

/**
 * RFC 3339 in the kubelet's fixed form (UTC, 9 fractional digits) so timestamps compare as strings.
 * Other offsets go through Date (millisecond precision); unparseable input gives undefined.
 */
export function normalizeTimestamp(ts: string | undefined): string | undefined {
  if (ts === undefined) return undefined;
  if (ts.length === 30 && FIXED_TS.test(ts)) return ts;
  const m = RFC3339.exec(ts);
  if (m) return `${m[1]}.${(m[2] ?? "").padEnd(9, "0")}Z`;
  const ms = Date.parse(ts);
  if (!Number.isFinite(ms)) return undefined;
  return new Date(ms).toISOString().replace(/\.(\d{3})Z$/, ".$1000000Z");
}

/** Milliseconds since the epoch of a normalised timestamp (for lag). */
export function timestampMs(ts: string): number {
  return Date.parse(ts);
}

/** `…[truncated N bytes]`: what a cut line ends with; N is what was cut off. */
export function truncationMarker(cutBytes: number): string {
  return `…[truncated ${cutBytes} bytes]`;
}

/**
 * Cuts `text` to at most `maxBytes` UTF-8 bytes, marker included, at a character boundary.
 * `seenBytes` is the size the line really had when the reader already cut it (reader bound).
 */
export function limitLine(text: string, timestamp: string, maxBytes: number, seenBytes?: number): LogLine {
  // Fast path: a string of n UTF-16 units is at most 3n UTF-8 bytes.
  if (seenBytes === undefined && text.length * 3 <= maxBytes) {
    return { timestamp, line: text, truncated: false, originalBytes: text.length === 0 ? 0 : Buffer.byteLength(text, "utf8") };
  }
  const buf = Buffer.from(text, "utf8");
  const original = Math.max(buf.length, seenBytes ?? 0);
  if (original <= maxBytes && seenBytes === undefined) return { timestamp, line: text, truncated: false, originalBytes: original };
  // The marker's digits depend on the cut; two rounds settle it (the count only shrinks by a few bytes).
  let keep = Math.max(0, maxBytes - Buffer.byteLength(truncationMarker(original), "utf8"));
  keep = Math.min(keep, buf.length);
  // Back off to the start of a UTF-8 character: continuation bytes are 10xxxxxx.
  while (keep > 0 && keep < buf.length && (buf[keep]! & 0xc0) === 0x80) keep--;
  const line = buf.subarray(0, keep).toString("utf8") + truncationMarker(original - keep);
  return { timestamp, line, truncated: true, originalBytes: original };
}

/** Where a stream stands: the timestamp of the last published line and how many published lines carry it. */
export interface Position {
  ts: string;
  atTs: number;
}

export const START: Position = Object.freeze({ ts: "", atTs: 0 });

/** The position after appending a line with timestamp `ts` at `pos`. */
export function advance(pos: Position, ts: string): Position {
  return ts === pos.ts ? { ts, atTs: pos.atTs + 1 } : { ts, atTs: 1 };
}

/** The end of a run of lines, as far as the position is concerned: the last timestamp and how many lines at the end carry it. */
export interface Tail {
  ts: string;
  atTs: number;
  /** Every line of the run carries `ts`. */
  all: boolean;
}

export function tailOf(lines: readonly { timestamp: string }[]): Tail | undefined {
  if (lines.length === 0) return undefined;
  const ts = lines[lines.length - 1]!.timestamp;
  let n = 0;
  while (n < lines.length && lines[lines.length - 1 - n]!.timestamp === ts) n++;
  return { ts, atTs: n, all: n === lines.length };
}

/** The position after appending a run of lines whose tail is `tail`: the same as advance() over each line. */
export function advanceBy(pos: Position, tail: Tail | undefined): Position {
  if (!tail) return pos;
  return tail.all && tail.ts === pos.ts ? { ts: tail.ts, atTs: pos.atTs + tail.atTs } : { ts: tail.ts, atTs: tail.atTs };
}

/**
 * Drops the lines a resumed read repeats. The API's sinceTime is inclusive (and a server may round it
 * down), so a read from `pos.ts` returns lines older than it and the `pos.atTs` lines at it again.
 */
export class ResumeFilter {
  private skippedAtTs = 0;
  private passing: boolean;
  private lastTs = "";

  constructor(private readonly pos: Position) {
    this.passing = pos.ts === "";
  }

  /** The timestamp to use for a line (lines without one inherit the previous line's) and whether it is new. */
  accept(rawTs: string | undefined): { ts: string; fresh: boolean } {
    const ts = normalizeTimestamp(rawTs) ?? this.lastTs;
    this.lastTs = ts;
    if (this.passing) return { ts, fresh: true };
    if (ts < this.pos.ts) return { ts, fresh: false };
    if (ts === this.pos.ts && this.skippedAtTs < this.pos.atTs) {
      this.skippedAtTs++;
      return { ts, fresh: false };
    }
    this.passing = true;
    return { ts, fresh: true };
  }
}

/** UTF-8 bytes a batch line accounts for (line text only, as published). */
export function lineBytes(l: LogLine): number {
  return l.truncated ? Buffer.byteLength(l.line, "utf8") : l.originalBytes;
}
