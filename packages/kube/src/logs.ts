// Pod log access for the log-streamer: follow a container's log line by line (with backpressure) and
// fetch the previous (terminated) instance's log, with errors carrying the API's Status message.
import type { KubeAccess } from "./config.js";
import { streamGet, type BodySink } from "./http1.js";
import { LineSplitter, decodeLogLine, type LogLine } from "./lines.js";

export interface LogOptions {
  namespace: string;
  pod: string;
  container: string;
  follow?: boolean;
  previous?: boolean;
  /** Default true: lines carry the RFC3339Nano prefix, parsed into LogLine.timestamp. */
  timestamps?: boolean;
  sinceTime?: string;
  sinceSeconds?: number;
  tailLines?: number;
  limitBytes?: number;
  /** Longest line kept in memory; longer lines are cut and flagged truncated. Default 1 MiB. */
  maxLineBytes?: number;
}

export interface LogStreamResult {
  lines: number;
  bytes: number;
  /** "eof": the server ended the stream; "aborted": the signal stopped it. */
  end: "eof" | "aborted";
}

function logPath(o: LogOptions): string {
  return `/api/v1/namespaces/${encodeURIComponent(o.namespace)}/pods/${encodeURIComponent(o.pod)}/log`;
}

/**
 * Streams a container log to onLine, awaiting onLine when it returns a promise (so a slow publisher
 * slows the read). Resolves when the stream ends or the signal aborts (no line is delivered after the
 * abort); rejects with KubeApiError (message = the Status message, e.g. `... is waiting to start:
 * ContainerCreating`), KubeConnectionError when the connection breaks mid-stream, or a network error.
 * Lines received before a failure are delivered first.
 */
export function followLogs(
  kc: KubeAccess,
  opts: LogOptions,
  onLine: (line: LogLine) => void | Promise<void>,
  signal?: AbortSignal,
): Promise<LogStreamResult> {
  const timestamps = opts.timestamps ?? true;
  const query = {
    container: opts.container,
    follow: opts.follow ?? true,
    previous: opts.previous ?? false,
    timestamps,
    sinceTime: opts.sinceTime,
    sinceSeconds: opts.sinceTime ? undefined : opts.sinceSeconds,
    tailLines: opts.tailLines,
    limitBytes: opts.limitBytes,
  };
  if (signal?.aborted) return Promise.resolve({ lines: 0, bytes: 0, end: "aborted" });
  const sink = new LineSink(new LineSplitter(opts.maxLineBytes), timestamps, onLine);
  // Promise chaining rather than an async frame, which would hold the request's options while the stream is open.
  return streamGet(kc, { path: logPath(opts), query, signal, accept: "*/*" }, sink).then(
    (end) => sink.result(signal?.aborted ? "aborted" : end),
    (err: unknown) => {
      if (!signal?.aborted) throw err;
      return sink.result("aborted");
    },
  );
}

/**
 * Splits body bytes into lines and hands them to onLine one at a time; while onLine's promise is pending
 * the lines of the current chunk wait here and write() returns that promise, which pauses the socket.
 */
class LineSink implements BodySink {
  lines = 0;
  bytes = 0;
  private pending: Array<LogLine | undefined> = [];
  private next = 0;
  private busy: Promise<void> | undefined;
  private stopped = false;

  constructor(
    private readonly splitter: LineSplitter,
    private readonly timestamps: boolean,
    private readonly onLine: (line: LogLine) => void | Promise<void>,
  ) {}

  write(chunk: Buffer): void | Promise<void> {
    this.bytes += chunk.length;
    this.splitter.push(chunk, this.collect);
    return this.drain();
  }

  end(): void | Promise<void> {
    this.splitter.end(this.collect);
    return this.drain();
  }

  result(end: LogStreamResult["end"]): LogStreamResult {
    return { lines: this.lines, bytes: this.bytes, end };
  }

  abort(): void {
    this.stopped = true;
    this.pending.length = 0;
    this.next = 0;
  }

  private readonly collect = (buf: Buffer, truncated: boolean, lineBytes?: number): void => {
    this.pending.push(decodeLogLine(buf, truncated, this.timestamps, lineBytes));
  };

  private drain(): void | Promise<void> {
    if (this.busy) return this.busy;
    while (this.next < this.pending.length && !this.stopped) {
      const line = this.pending[this.next]!;
      this.pending[this.next++] = undefined;
      const r = this.onLine(line);
      this.lines++;
      if (r && typeof (r as Promise<void>).then === "function") {
        this.busy = (r as Promise<void>).then(() => {
          this.busy = undefined;
          return this.drain();
        });
        return this.busy;
      }
    }
    this.pending.length = 0;
    this.next = 0;
  }
}

/** The log of the last terminated instance of a container (previous=true), as parsed lines. */
export async function getPreviousLogs(
  kc: KubeAccess,
  opts: Omit<LogOptions, "follow" | "previous">,
  signal?: AbortSignal,
): Promise<LogLine[]> {
  const out: LogLine[] = [];
  await followLogs(kc, { ...opts, follow: false, previous: true }, (l) => void out.push(l), signal);
  return out;
}

/** A container's current log without following (e.g. for tests and one-shot reads). */
export async function getLogs(
  kc: KubeAccess,
  opts: Omit<LogOptions, "follow">,
  signal?: AbortSignal,
): Promise<LogLine[]> {
  const out: LogLine[] = [];
  await followLogs(kc, { ...opts, follow: false }, (l) => void out.push(l), signal);
  return out;
}
