// Splits a byte stream into lines at the byte level (so UTF-8 sequences cut across chunks survive),
// handles CRLF, bounds line length, and parses the `RFC3339Nano<space>text` prefix of pod logs.

export interface LogLine {
  /** The RFC3339(Nano) timestamp prefix as sent by the API, or undefined when absent. */
  timestamp: string | undefined;
  /** The line without timestamp and line ending; invalid UTF-8 replaced by U+FFFD. */
  text: string;
  /** Set when the line exceeded maxLineBytes and was cut. */
  truncated?: boolean;
  /** With truncated: the size of the whole line as it was read (timestamp prefix included), in bytes. */
  lineBytes?: number;
}

const NL = 0x0a;

/** Receives a line; for a cut line, `lineBytes` is the size of the whole line as read (line ending excluded). */
export type LineOut = (line: Buffer, truncated: boolean, lineBytes?: number) => void;

/**
 * Incremental splitter: push() chunks, get complete lines back as Buffers; end() flushes the rest.
 * Lines longer than maxLineBytes are emitted cut at maxLineBytes (flagged) once their end is read, with
 * the size of the whole line; the remainder is counted and dropped, so one runaway line cannot exhaust memory.
 */
export class LineSplitter {
  private parts: Buffer[] = [];
  private partLen = 0;
  /** The kept head of a line being cut, until its newline arrives. */
  private held: Buffer | undefined;
  private heldBytes = 0;
  private heldLast = 0;

  constructor(private readonly maxLineBytes = 1024 * 1024) {}

  push(chunk: Buffer, out: LineOut): void {
    let start = 0;
    while (start < chunk.length) {
      const nl = chunk.indexOf(NL, start);
      const end = nl < 0 ? chunk.length : nl;
      if (this.held) {
        this.heldBytes += end - start;
        if (end > start) this.heldLast = chunk[end - 1]!;
        if (nl >= 0) this.releaseHeld(out);
      } else {
        const piece = chunk.subarray(start, end);
        const room = this.maxLineBytes - this.partLen;
        if (piece.length > room) {
          const total = this.partLen + piece.length;
          this.parts.push(Buffer.from(piece.subarray(0, room)));
          this.held = this.take();
          this.heldBytes = total;
          this.heldLast = piece[piece.length - 1]!;
          if (nl >= 0) this.releaseHeld(out);
        } else if (nl >= 0) {
          if (this.partLen === 0) out(stripCR(piece), false);
          else {
            this.parts.push(piece);
            this.partLen += piece.length;
            out(stripCR(this.take()), false);
          }
        } else {
          // keep a copy: the caller may reuse the chunk's memory
          this.parts.push(Buffer.from(piece));
          this.partLen += piece.length;
        }
      }
      if (nl < 0) break;
      start = nl + 1;
    }
  }

  /** Emits a final line without trailing newline, if any. */
  end(out: LineOut): void {
    if (this.held) this.releaseHeld(out);
    else if (this.partLen > 0) out(stripCR(this.take()), false);
  }

  private releaseHeld(out: LineOut): void {
    const held = this.held!;
    const bytes = this.heldBytes - (this.heldLast === 0x0d ? 1 : 0);
    this.held = undefined;
    this.heldBytes = 0;
    out(held, true, bytes);
  }

  private take(): Buffer {
    const b = this.parts.length === 1 ? this.parts[0]! : Buffer.concat(this.parts);
    this.parts = [];
    this.partLen = 0;
    return b;
  }
}

function stripCR(b: Buffer): Buffer {
  return b.length > 0 && b[b.length - 1] === 0x0d ? b.subarray(0, b.length - 1) : b;
}

const TS_RE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:\d{2})$/;

/** Parses `2024-01-02T03:04:05.123456789Z text`; lines without a valid prefix keep all text. */
export function parseLogLine(line: string, truncated = false): LogLine {
  const sp = line.indexOf(" ");
  const head = sp < 0 ? line : line.slice(0, sp);
  const result: LogLine =
    head.length >= 20 && TS_RE.test(head)
      ? { timestamp: head, text: sp < 0 ? "" : line.slice(sp + 1) }
      : { timestamp: undefined, text: line };
  if (truncated) result.truncated = true;
  return result;
}

/** Decodes a line (Node replaces invalid UTF-8 with U+FFFD) and parses its timestamp prefix. */
export function decodeLogLine(buf: Buffer, truncated = false, timestamps = true, lineBytes?: number): LogLine {
  const s = buf.toString("utf8");
  const line: LogLine = timestamps ? parseLogLine(s, truncated) : truncated ? { timestamp: undefined, text: s, truncated } : { timestamp: undefined, text: s };
  if (truncated && lineBytes !== undefined) line.lineBytes = lineBytes;
  return line;
}

/** The size in bytes of a read line's text alone: its whole size less the timestamp prefix and its space. */
export function textBytes(line: LogLine): number | undefined {
  if (line.lineBytes === undefined) return undefined;
  return line.timestamp === undefined ? line.lineBytes : line.lineBytes - Buffer.byteLength(line.timestamp) - 1;
}
