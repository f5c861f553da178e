// A lean HTTP/1.1 GET for long-lived streaming responses (pod logs): one dedicated socket and a small response
// parser per request. A log-streamer replica holds a thousand follow requests open; node:http's ClientRequest,
// IncomingMessage, parser, agent bookkeeping and async iterator cost ~13 KiB of heap each, this ~4 KiB.
import https from "node:https";
import net from "node:net";
import tls from "node:tls";
import type { KubeAccess } from "./config.js";
import { KubeConfigError, KubeConnectionError } from "./errors.js";
import { apiUrl, errorFromResponse, errorFromStatus, openRequest, type KubeRequest } from "./http.js";

/** Where a streamed response body goes. A returned promise pauses the socket until it settles (backpressure). */
export interface BodySink {
  write(chunk: Buffer): void | Promise<void>;
  /** The body is complete; resolves once everything written was handled. */
  end(): void | Promise<void>;
  /** The request was aborted: nothing more should be delivered. */
  abort(): void;
}

export type StreamEnd = "eof" | "aborted";

const MAX_HEAD_BYTES = 64 * 1024;
const MAX_ERROR_BODY_BYTES = 1024 * 1024;
const MAX_CHUNK_LINE = 1024;
const TCP_KEEPALIVE_MS = 30_000;

/**
 * GETs `req` and streams a 200 response's body into `sink`. Resolves "eof" when the body is complete (after the
 * sink handled it) and "aborted" when `req.signal` aborted; rejects with KubeApiError for any other status
 * (message from the Status body), KubeConnectionError when the connection breaks before the body is complete,
 * or a socket error. The sink's rejected promises reject the call.
 */
export function streamGet(kc: KubeAccess, req: KubeRequest, sink: BodySink): Promise<StreamEnd> {
  // Not one async function: a suspended async frame would keep the URL, headers and query of every open stream.
  return prepare(kc, req).then((p) => {
    if (p === "aborted") return p;
    if (!p) return streamThroughAgent(kc, req, sink);
    return new Promise<StreamEnd>((resolve, reject) => {
      new StreamCall(p.connect, p.head, req.path, sink, req.signal, resolve, reject);
    });
  });
}

async function prepare(kc: KubeAccess, req: KubeRequest): Promise<{ connect: Connector; head: string } | "aborted" | undefined> {
  const url = apiUrl(kc, req.path, req.query);
  const opts: https.RequestOptions = {};
  try {
    await kc.applyToHTTPSOptions(opts);
  } catch (err) {
    throw new KubeConfigError(`cannot apply kubeconfig credentials: ${(err as Error).message}`, { cause: err });
  }
  if (req.signal?.aborted) return "aborted";
  const connect = directConnector(url, opts.agent);
  return connect && { connect, head: requestHead(url, req, opts) };
}

/** Opens the socket; `onData` receives what it reads, in a buffer that is only valid during the call. */
type Connector = (onData: (chunk: Buffer) => void) => net.Socket;

// Plain TCP sockets read into this one buffer (net's `onread`) instead of a fresh 64 KiB allocation per read:
// a backlog on a thousand streams at once would otherwise hold many of those until the next GC. Sharing is safe
// because every read is handed over synchronously and nothing downstream keeps a view of it (lines are decoded,
// partial lines and heads copied).
let readBuffer: Buffer | undefined;

/**
 * How to open the socket ourselves: plain TCP for http without an agent, TLS with the settings of the
 * kubeconfig's own https.Agent. Anything else (a proxy or client-node's agent) goes through node:http.
 */
function directConnector(url: URL, agent: unknown): Connector | undefined {
  const host = url.hostname.startsWith("[") ? url.hostname.slice(1, -1) : url.hostname;
  if (url.protocol === "http:" && agent === undefined) {
    const port = Number(url.port || 80);
    return (onData) =>
      net.connect({
        host,
        port,
        onread: { buffer: () => (readBuffer ??= Buffer.allocUnsafe(64 * 1024)), callback: (n: number, buf: Uint8Array) => (onData((buf as Buffer).subarray(0, n)), true) },
      });
  }
  if (url.protocol === "https:" && agent instanceof https.Agent && agent.constructor === https.Agent) {
    const port = Number(url.port || 443);
    const options = (agent as https.Agent & { options: tls.ConnectionOptions }).options;
    const secureContext = sharedContext(agent, options);
    const servername = options.servername ?? (net.isIP(host) ? undefined : host);
    return (onData) => tls.connect({ ...options, secureContext, host, port, ...(servername ? { servername } : {}) }).on("data", onData);
  }
  return undefined;
}

// One TLS context (CA store, client certificate) per agent: tls.connect would build and parse one per connection.
const contexts = new WeakMap<https.Agent, tls.SecureContext>();
function sharedContext(agent: https.Agent, options: tls.ConnectionOptions): tls.SecureContext {
  let ctx = contexts.get(agent);
  if (!ctx) {
    ctx = tls.createSecureContext(options);
    contexts.set(agent, ctx);
  }
  return ctx;
}

function requestHead(url: URL, req: KubeRequest, opts: https.RequestOptions): string {
  const headers: Record<string, unknown> = { ...(opts.headers as Record<string, unknown> | undefined) };
  headers.Accept = req.accept ?? "application/json";
  if (opts.auth) headers.Authorization = "Basic " + Buffer.from(opts.auth).toString("base64");
  let head = `${req.method ?? "GET"} ${url.pathname}${url.search} HTTP/1.1\r\nHost: ${url.host}\r\n`;
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined) continue;
    if (/^(host|connection|content-length|transfer-encoding)$/i.test(name)) continue;
    for (const v of Array.isArray(value) ? value : [value]) {
      const s = String(v);
      if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(name) || /[\r\n\0]/.test(s)) throw new KubeConfigError(`invalid HTTP header ${JSON.stringify(name)} from the kubeconfig`);
      head += `${name}: ${s}\r\n`;
    }
  }
  // The socket serves this one request: the server closes it when the response ends.
  return head + "Connection: close\r\n\r\n";
}

/** One request on its own socket: writes the head, parses the response, pumps the body into the sink. */
class StreamCall {
  private readonly parser = new ResponseParser();
  private settled = false;
  /** The sink's pending promise while the socket is paused for it. */
  private waiting: Promise<void> | undefined;
  /** A non-200 response: its body is collected for the error message. */
  private errorBody: Buffer[] | undefined;
  private errorBytes = 0;
  private readonly onAbort = () => this.finish("aborted");
  private readonly socket: net.Socket;

  constructor(
    connect: Connector,
    head: string,
    private readonly path: string,
    private readonly sink: BodySink,
    private readonly signal: AbortSignal | undefined,
    private readonly resolve: (end: StreamEnd) => void,
    private readonly reject: (err: unknown) => void,
  ) {
    const socket = (this.socket = connect((chunk) => this.onData(chunk)));
    socket.setNoDelay(true);
    socket.setKeepAlive(true, TCP_KEEPALIVE_MS);
    socket.on("end", () => this.onEnd());
    socket.on("error", (err) => this.finish(err));
    socket.on("close", () => this.onEnd());
    signal?.addEventListener("abort", this.onAbort, { once: true });
    // Not end(): a server may take the client's half-close for a client gone away (Go's net/http cancels the request).
    socket.write(head);
  }

  private onData(chunk: Buffer): void {
    if (this.settled) return;
    try {
      this.parser.push(chunk, this.onBody);
    } catch (err) {
      this.finish(err);
      return;
    }
    if (this.parser.complete) this.onComplete();
  }

  private readonly onBody = (piece: Buffer): void => {
    if (this.settled) return;
    if (this.parser.status !== 200) {
      if (this.errorBytes < MAX_ERROR_BODY_BYTES) (this.errorBody ??= []).push(Buffer.from(piece));
      this.errorBytes += piece.length;
      return;
    }
    const r = this.sink.write(piece);
    if (r) this.pause(r);
  };

  private pause(p: Promise<void>): void {
    if (this.waiting === p) return;
    this.waiting = p;
    this.socket.pause();
    p.then(
      () => {
        if (this.waiting !== p) return;
        this.waiting = undefined;
        if (!this.settled) this.socket.resume();
      },
      (err: unknown) => this.finish(err),
    );
  }

  private onEnd(): void {
    if (this.settled) return;
    try {
      this.parser.close();
    } catch (err) {
      this.finish(err);
      return;
    }
    if (this.parser.complete) this.onComplete();
    else this.finish(new KubeConnectionError(`connection closed before the response was complete (${this.path})`, { path: this.path }));
  }

  private onComplete(): void {
    if (this.settled) return;
    if (this.parser.status !== 200) {
      const text = Buffer.concat(this.errorBody ?? []).toString("utf8");
      this.finish(errorFromStatus(this.parser.status, text, this.path));
      return;
    }
    this.settled = true;
    this.cleanup();
    let r: void | Promise<void>;
    try {
      r = this.sink.end();
    } catch (err) {
      this.reject(err);
      return;
    }
    if (r) r.then(() => this.resolve("eof"), this.reject);
    else this.resolve("eof");
  }

  /** Ends the call with an error or "aborted", once the sink's pending work (a line being handled) has settled. */
  private finish(outcome: unknown): void {
    if (this.settled) return;
    this.settled = true;
    this.cleanup();
    const aborted = outcome === "aborted" || this.signal?.aborted === true;
    if (aborted) this.sink.abort();
    const settle = () => (aborted ? this.resolve("aborted") : this.reject(outcome));
    if (this.waiting) this.waiting.then(settle, aborted ? settle : this.reject);
    else settle();
  }

  private cleanup(): void {
    this.signal?.removeEventListener("abort", this.onAbort);
    this.socket.destroy();
  }
}

type Framing = "chunked" | "length" | "close" | "none";
const enum Chunk {
  Size,
  Data,
  DataEnd,
  Trailer,
}

/**
 * Incremental HTTP/1.1 response parser: the head (status, headers; 1xx responses skipped), then the body by its
 * framing (chunked, Content-Length, or until the connection closes). Body pieces are slices of the input.
 */
export class ResponseParser {
  status = 0;
  complete = false;
  private head: Buffer[] | undefined = [];
  private headLen = 0;
  private framing: Framing = "none";
  private left = 0;
  private chunk = Chunk.Size;
  private line = "";

  push(data: Buffer, body: (piece: Buffer) => void): void {
    let buf = data;
    while (buf.length > 0 && !this.complete) {
      if (this.head) {
        const rest = this.pushHead(buf);
        if (rest === undefined) return;
        buf = rest;
        continue;
      }
      buf = this.pushBody(buf, body);
    }
  }

  /** The connection ended: a body delimited by the close is now complete. */
  close(): void {
    if (!this.complete && !this.head && this.framing === "close") this.complete = true;
  }

  private pushHead(buf: Buffer): Buffer | undefined {
    const earlier = this.head!;
    const all = earlier.length === 0 ? buf : Buffer.concat([...earlier, buf]);
    // The terminator may straddle pieces: search from a little before the new piece.
    const end = all.indexOf("\r\n\r\n", Math.max(0, this.headLen - 3));
    this.headLen += buf.length;
    if (end < 0) {
      if (this.headLen > MAX_HEAD_BYTES) throw new KubeConnectionError(`response head larger than ${MAX_HEAD_BYTES} bytes`);
      // Kept as a copy: the input may be a shared read buffer.
      this.head = [earlier.length === 0 ? Buffer.from(all) : all];
      return undefined;
    }
    this.head = undefined;
    this.headLen = 0;
    this.parseHead(all.subarray(0, end).toString("latin1"));
    if (this.status >= 100 && this.status < 200) {
      // Informational (100 Continue, 103 Early Hints): the real response follows.
      this.head = [];
    } else if (this.framing === "none") {
      this.complete = true;
    }
    return all.subarray(end + 4);
  }

  private parseHead(text: string): void {
    const lines = text.split("\r\n");
    const m = /^HTTP\/1\.[01] (\d{3})(?: |$)/.exec(lines[0]!);
    if (!m) throw new KubeConnectionError(`not an HTTP/1.1 response: ${JSON.stringify(lines[0]!.slice(0, 80))}`);
    this.status = Number(m[1]);
    const headers = new Map<string, string>();
    for (let i = 1; i < lines.length; i++) {
      const l = lines[i]!;
      const colon = l.indexOf(":");
      if (colon <= 0) throw new KubeConnectionError(`malformed response header ${JSON.stringify(l.slice(0, 80))}`);
      const name = l.slice(0, colon).trim().toLowerCase();
      const value = l.slice(colon + 1).trim();
      const prev = headers.get(name);
      headers.set(name, prev === undefined ? value : `${prev}, ${value}`);
    }
    const te = headers.get("transfer-encoding");
    const cl = headers.get("content-length");
    if (this.status < 200 || this.status === 204 || this.status === 304) this.framing = "none";
    else if (te !== undefined) {
      if (!/(?:^|,)\s*chunked\s*$/i.test(te)) throw new KubeConnectionError(`unsupported Transfer-Encoding: ${te}`);
      this.framing = "chunked";
      this.chunk = Chunk.Size;
      this.line = "";
    } else if (cl !== undefined) {
      if (!/^\d+$/.test(cl)) throw new KubeConnectionError(`invalid Content-Length: ${cl}`);
      this.left = Number(cl);
      this.framing = this.left > 0 ? "length" : "none";
    } else this.framing = "close";
  }

  private pushBody(buf: Buffer, body: (piece: Buffer) => void): Buffer {
    if (this.framing === "close") {
      body(buf);
      return EMPTY;
    }
    if (this.framing === "length") {
      const n = Math.min(this.left, buf.length);
      body(buf.subarray(0, n));
      this.left -= n;
      if (this.left === 0) this.complete = true;
      return EMPTY;
    }
    let i = 0;
    while (i < buf.length && !this.complete) {
      if (this.chunk === Chunk.Data) {
        const n = Math.min(this.left, buf.length - i);
        body(buf.subarray(i, i + n));
        i += n;
        this.left -= n;
        if (this.left === 0) this.chunk = Chunk.DataEnd;
        continue;
      }
      // Size, DataEnd and Trailer are lines: collect up to LF.
      const nl = buf.indexOf(0x0a, i);
      const end = nl < 0 ? buf.length : nl;
      this.line += buf.toString("latin1", i, end);
      if (this.line.length > MAX_CHUNK_LINE) throw new KubeConnectionError("malformed chunked encoding: line too long");
      if (nl < 0) return EMPTY;
      i = nl + 1;
      const line = this.line.endsWith("\r") ? this.line.slice(0, -1) : this.line;
      this.line = "";
      if (this.chunk === Chunk.Size) {
        const m = /^([0-9a-fA-F]+)\s*(?:;.*)?$/.exec(line);
        if (!m) throw new KubeConnectionError(`malformed chunk size ${JSON.stringify(line.slice(0, 40))}`);
        this.left = parseInt(m[1]!, 16);
        this.chunk = this.left === 0 ? Chunk.Trailer : Chunk.Data;
      } else if (this.chunk === Chunk.DataEnd) {
        if (line !== "") throw new KubeConnectionError("malformed chunked encoding: data longer than its size");
        this.chunk = Chunk.Size;
      } else if (line === "") {
        this.complete = true;
      }
    }
    return EMPTY;
  }
}

const EMPTY = Buffer.alloc(0);

/** Through node:http (proxies, client-node's agents): the same contract, with the response's own stream. */
async function streamThroughAgent(kc: KubeAccess, req: KubeRequest, sink: BodySink): Promise<StreamEnd> {
  let res;
  try {
    res = await openRequest(kc, req);
  } catch (err) {
    if (req.signal?.aborted) return "aborted";
    throw err;
  }
  if (res.statusCode !== 200) throw await errorFromResponse(res, req.path);
  return await new Promise<StreamEnd>((resolve, reject) => {
    let settled = false;
    let waiting: Promise<void> | undefined;
    const finish = (outcome: unknown) => {
      if (settled) return;
      settled = true;
      res.destroy();
      const aborted = req.signal?.aborted === true;
      if (aborted) sink.abort();
      const settle = () => (aborted ? resolve("aborted") : reject(outcome));
      if (waiting) waiting.then(settle, aborted ? settle : reject);
      else settle();
    };
    res.on("data", (chunk: Buffer) => {
      if (settled) return;
      const r = sink.write(chunk);
      if (!r || waiting === r) return;
      const p = (waiting = r);
      res.pause();
      p.then(
        () => {
          if (waiting !== p) return;
          waiting = undefined;
          if (!settled) res.resume();
        },
        finish,
      );
    });
    res.on("end", () => {
      if (settled) return;
      settled = true;
      Promise.resolve()
        .then(() => sink.end())
        .then(() => resolve("eof"), reject);
    });
    res.on("error", finish);
    res.on("close", () => finish(new KubeConnectionError(`connection closed before the response was complete (${req.path})`, { path: req.path })));
  });
}
