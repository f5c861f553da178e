// Splits a byte stream into lines at the byte level (so UTF-8 sequences cut across chunks survive),
// handles CRLF, bounds line length, and parses the `RFC3339Nano<space>text` prefix of pod logs.

export interface LogLine {
  /** The RFC3339(Nano) timestamp prefix as sent by the API, or undefined when absent. */
  timestamp: string | undefined;
  /** The line without timestamp and line ending; invalid UTF-8 replaced by U+FFFD. */
  text: string;
  /** Set when the line exceeded maxLineBytes and was cut. */
  truncated?: boolean;
}

const NL = 0x0a;

/**
 * Incremental splitter: push() chunks, get complete lines back as Buffers; end() flushes the rest.
 * Lines longer than maxLineBytes are emitted cut at maxLineBytes (flagged) and the remainder up to
 * the next newline is dropped, so one runaway line cannot exhaust memory.
 */
export class LineSplitter {
  private parts: Buffer[] = [];
  private partLen = 0;
  private skipping = false;

  constructor(private readonly maxLineBytes = 1024 * 1024) {}

  push(chunk: Buffer, out: (line: Buffer, truncated: boolean) => void): void {
    let start = 0;
    while (start < chunk.length) {
      const nl = chunk.indexOf(NL, start);
      const end = nl < 0 ? chunk.length : nl;
      if (this.skipping) {
        if (nl >= 0) this.skipping = false;
      } else {
        const piece = chunk.subarray(start, end);
        const room = this.maxLineBytes - this.partLen;
        if (piece.length > room) {
          this.parts.push(piece.subarray(0, room));
          out(this.take(), true);
          if (nl < 0) this.skipping = true;
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
  end(out: (line: Buffer, truncated: boolean) => void): void {
    this.skipping = false;
    if (this.partLen > 0) out(stripCR(this.take()), false);
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
export function decodeLogLine(buf: Buffer, truncated = false, timestamps = true): LogLine {
  const s = buf.toString("utf8");
  if (!timestamps) return truncated ? { timestamp: undefined, text: s, truncated } : { timestamp: undefined, text: s };
  return parseLogLine(s, truncated);
}
