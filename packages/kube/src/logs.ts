// Pod log access for the log-streamer: follow a container's log line by line (with backpressure) and
// fetch the previous (terminated) instance's log, with errors carrying the API's Status message.
import type { KubeAccess } from "./config.js";
import { errorFromResponse, openRequest } from "./http.js";
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
 * slows the read). Resolves when the stream ends or the signal aborts; rejects with KubeApiError
 * (message = the Status message, e.g. `... is waiting to start: ContainerCreating`) or a network error.
 */
export async function followLogs(
  kc: KubeAccess,
  opts: LogOptions,
  onLine: (line: LogLine) => void | Promise<void>,
  signal?: AbortSignal,
): Promise<LogStreamResult> {
  const timestamps = opts.timestamps ?? true;
  const path = logPath(opts);
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
  if (signal?.aborted) return { lines: 0, bytes: 0, end: "aborted" };
  let res;
  try {
    res = await openRequest(kc, { path, query, signal, accept: "*/*" });
  } catch (err) {
    if (signal?.aborted) return { lines: 0, bytes: 0, end: "aborted" };
    throw err;
  }
  if ((res.statusCode ?? 0) !== 200) throw await errorFromResponse(res, path);

  const splitter = new LineSplitter(opts.maxLineBytes);
  let lines = 0;
  let bytes = 0;
  const pending: LogLine[] = [];
  const collect = (buf: Buffer, truncated: boolean) => {
    pending.push(decodeLogLine(buf, truncated, timestamps));
  };
  const drain = async () => {
    for (let i = 0; i < pending.length; i++) {
      const r = onLine(pending[i]!);
      lines++;
      if (r && typeof (r as Promise<void>).then === "function") await r;
    }
    pending.length = 0;
  };
  try {
    for await (const chunk of res) {
      bytes += (chunk as Buffer).length;
      splitter.push(chunk as Buffer, collect);
      await drain();
    }
    splitter.end(collect);
    await drain();
  } catch (err) {
    if (signal?.aborted) {
      await drain();
      return { lines, bytes, end: "aborted" };
    }
    throw err;
  }
  return { lines, bytes, end: signal?.aborted ? "aborted" : "eof" };
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
