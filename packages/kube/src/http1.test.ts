// Unit tests of the lean HTTP/1.1 streaming client: the response parser over every split of its input, and
// streamGet against real local HTTP and HTTPS servers (framing, errors, backpressure, abort, TLS, fallback).
import fs from "node:fs";
import http from "node:http";
import https from "node:https";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { loadKubeConfig, type KubeAccess } from "./config.js";
import { KubeApiError, KubeConnectionError } from "./errors.js";
import { ResponseParser, streamGet, type BodySink } from "./http1.js";

// A self-signed certificate for localhost / 127.0.0.1, valid until 2126: test material only.
const CERT = `-----BEGIN CERTIFICATE-----
MIIBmzCCAUGgAwIBAgIUJfS07PrCsWMl6wewgdJGVBNAk08wCgYIKoZIzj0EAwIw
FDESMBAGA1UEAwwJbG9jYWxob3N0MCAXDTI2MTEyMjA0NTYwMVoYDzIxMjYxMDI5
MDQ1NjAxWjAUMRIwEAYDVQQDDAlsb2NhbGhvc3QwWTATBgcqhkjOPQIBBggqhkjO
PQMBBwNCAATDhe0QHokIj0kPwfB4uSluHRPsJNj5Ts8F4hINrh7MhDTZu0/HC78h
VUdt8LDnVC/B541fERolS96GNaJ83fB4o28wbTAdBgNVHQ4EFgQUhCaDXbQAVmJ9
LvPnkarGCSwq/K4wHwYDVR0jBBgwFoAUhCaDXbQAVmJ9LvPnkarGCSwq/K4wDwYD
VR0TAQH/BAUwAwEB/zAaBgNVHREEEzARgglsb2NhbGhvc3SHBH8AAAEwCgYIKoZI
zj0EAwIDSAAwRQIhAKfEOENwSh972aDQR7cvIdFUN2Q+dYzj7PnmKbMILlHlAiBt
KooOGmlz2dL6g02QDRoQ7VL6FpY2mjyK2/d8b5n9TA==
-----END CERTIFICATE-----
`;
const KEY = `-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgvBFtMsT0uT4Tlgbx
xJEpsQMVJaq1KxebEG/gu9k0awWhRANCAATDhe0QHokIj0kPwfB4uSluHRPsJNj5
Ts8F4hINrh7MhDTZu0/HC78hVUdt8LDnVC/B541fERolS96GNaJ83fB4
-----END PRIVATE KEY-----
`;

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "faro-kube-http1-"));
const servers: http.Server[] = [];
afterAll(async () => {
  await Promise.all(
    servers.map((s) => {
      const closed = new Promise((r) => s.close(r));
      s.closeAllConnections();
      return closed;
    }),
  );
  fs.rmSync(dir, { recursive: true, force: true });
});

type Handler = (req: http.IncomingMessage, res: http.ServerResponse) => void;

async function serve(handler: Handler, tls = false): Promise<string> {
  const server = tls ? https.createServer({ cert: CERT, key: KEY }, handler) : http.createServer(handler);
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return `${tls ? "https" : "http"}://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

function kubeconfig(server: string, opts: { ca?: boolean } = {}): KubeAccess {
  const file = path.join(dir, `kc-${Math.random().toString(36).slice(2)}`);
  const ca = opts.ca ? `, certificate-authority-data: ${Buffer.from(CERT).toString("base64")}` : "";
  fs.writeFileSync(
    file,
    `apiVersion: v1
kind: Config
clusters: [{name: c, cluster: {server: "${server}"${ca}}}]
users: [{name: u, user: {token: secret-token}}]
contexts: [{name: c, context: {cluster: c, user: u}}]
current-context: c
`,
  );
  return loadKubeConfig({ kubeconfig: file });
}

/** Collects the body; `gate` (when set) is returned by every write, so the socket stays paused until it resolves. */
function collector(): BodySink & { chunks: Buffer[]; size(): number; text(): string; ended: boolean; aborted: boolean; gate?: Promise<void> } {
  return {
    chunks: [],
    ended: false,
    aborted: false,
    write(c) {
      this.chunks.push(Buffer.from(c));
      return this.gate;
    },
    end() {
      this.ended = true;
    },
    abort() {
      this.aborted = true;
    },
    size() {
      return this.chunks.reduce((n, c) => n + c.length, 0);
    },
    text() {
      return Buffer.concat(this.chunks).toString("utf8");
    },
  };
}

function parseAll(pieces: Buffer[], closed = false): { body: string; complete: boolean; status: number } {
  const p = new ResponseParser();
  const out: Buffer[] = [];
  for (const piece of pieces) p.push(piece, (b) => out.push(Buffer.from(b)));
  if (closed) p.close();
  return { body: Buffer.concat(out).toString("latin1"), complete: p.complete, status: p.status };
}

/** Every way of cutting `raw` in two, plus one byte at a time. */
function splits(raw: string): Buffer[][] {
  const b = Buffer.from(raw, "latin1");
  const out: Buffer[][] = [[b], [...b].map((x) => Buffer.from([x]))];
  for (let i = 1; i < b.length; i++) out.push([b.subarray(0, i), b.subarray(i)]);
  return out;
}

describe("ResponseParser", () => {
  it("reads a chunked body (extensions, trailers, a 100 Continue first) however the bytes are split", () => {
    const raw =
      "HTTP/1.1 100 Continue\r\n\r\n" +
      "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\n" +
      "5;ext=1\r\nhello\r\n7\r\n world\n\r\n0\r\nX-Trailer: t\r\n\r\nNEXT";
    for (const pieces of splits(raw)) expect(parseAll(pieces)).toEqual({ body: "hello world\n", complete: true, status: 200 });
  });

  it("reads Content-Length and close-delimited bodies, and a body-less status", () => {
    for (const pieces of splits("HTTP/1.1 200 OK\r\nContent-Length: 11\r\n\r\nhello worldEXTRA")) {
      expect(parseAll(pieces)).toEqual({ body: "hello world", complete: true, status: 200 });
    }
    for (const pieces of splits("HTTP/1.0 200 OK\r\nServer: x\r\n\r\nuntil close")) {
      expect(parseAll(pieces)).toMatchObject({ body: "until close", complete: false });
      expect(parseAll(pieces, true)).toEqual({ body: "until close", complete: true, status: 200 });
    }
    expect(parseAll([Buffer.from("HTTP/1.1 204 No Content\r\nX: y\r\n\r\n")])).toEqual({ body: "", complete: true, status: 204 });
  });

  it("rejects what is not HTTP/1.1 or is malformed", () => {
    for (const raw of [
      "HTTP/2 200\r\n\r\n",
      "HTTP/1.1 200 OK\r\nno colon\r\n\r\n",
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n",
      "HTTP/1.1 200 OK\r\nContent-Length: 1x\r\n\r\n",
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabc\r\n",
    ]) {
      expect(() => parseAll([Buffer.from(raw)])).toThrow(KubeConnectionError);
    }
    expect(() => parseAll([Buffer.from("HTTP/1.1 200 OK\r\nX: " + "y".repeat(70_000))])).toThrow(/head larger/);
  });
});

describe("streamGet", () => {
  it("streams a chunked body on its own connection, with the kubeconfig's token, and ends with eof", async () => {
    let seen: http.IncomingHttpHeaders = {};
    const url = await serve((req, res) => {
      seen = req.headers;
      res.writeHead(200, { "Content-Type": "text/plain" });
      for (let i = 0; i < 100; i++) res.write(`line ${i}\n`);
      res.end();
    });
    const sink = collector();
    const end = await streamGet(kubeconfig(url), { path: "/api/v1/namespaces/ns/pods/p/log", query: { follow: true, container: "app" }, accept: "*/*" }, sink);
    expect(end).toBe("eof");
    expect(sink.ended).toBe(true);
    expect(sink.text()).toBe(Array.from({ length: 100 }, (_, i) => `line ${i}\n`).join(""));
    expect(seen.authorization).toBe("Bearer secret-token");
    expect(seen.connection).toBe("close");
    expect(seen.accept).toBe("*/*");
  });

  it("pauses the socket while the sink's promise is pending, then delivers everything", async () => {
    const total = 32 * 1024 * 1024;
    let written = 0;
    let stalled!: () => void;
    const serverStalled = new Promise<void>((r) => (stalled = r));
    const url = await serve((_req, res) => {
      res.writeHead(200);
      const piece = Buffer.alloc(64 * 1024, 0x61);
      const pump = () => {
        while (written < total) {
          written += piece.length;
          if (!res.write(piece)) {
            if (written >= 512 * 1024) stalled();
            res.once("drain", pump);
            return;
          }
        }
        res.end();
      };
      pump();
    });
    const sink = collector();
    let release!: () => void;
    sink.gate = new Promise<void>((r) => (release = r));
    const done = streamGet(kubeconfig(url), { path: "/big" }, sink);
    await serverStalled;
    // Megabytes wait in the kernel buffers. Give the event loop turns to read them (a socket that is not
    // paused reads up to 2 MiB per turn): the sink holding its first read must keep it at that one read.
    for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
    expect(sink.size()).toBeGreaterThan(0);
    expect(sink.size()).toBeLessThanOrEqual(64 * 1024);
    expect(written).toBeGreaterThan(sink.size());
    sink.gate = undefined;
    release();
    expect(await done).toBe("eof");
    expect(sink.size()).toBe(total);
  });

  it("turns a non-200 response into a KubeApiError with the Status message", async () => {
    const url = await serve((_req, res) => {
      res.writeHead(400, { "Content-Type": "application/json" });
      res.end(JSON.stringify({ kind: "Status", message: 'container "app" in pod "p" is waiting to start: ContainerCreating', reason: "BadRequest", code: 400 }));
    });
    const sink = collector();
    const err = await streamGet(kubeconfig(url), { path: "/log" }, sink).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(KubeApiError);
    expect((err as KubeApiError).code).toBe(400);
    expect((err as KubeApiError).message).toMatch(/^container "app" in pod "p" is waiting to start: ContainerCreating \(400 BadRequest, \/log\)/);
    expect(sink.chunks).toEqual([]);
  });

  it("resolves aborted when the signal aborts, delivers nothing after it, and closes the connection", async () => {
    let closed!: () => void;
    const serverSawClose = new Promise<void>((r) => (closed = r));
    const url = await serve((req, res) => {
      res.writeHead(200);
      res.write("first\n");
      req.socket.once("close", closed);
    });
    const ac = new AbortController();
    const sink = collector();
    const write = sink.write.bind(sink);
    sink.write = (c) => {
      const r = write(c);
      ac.abort();
      return r;
    };
    expect(await streamGet(kubeconfig(url), { path: "/log", signal: ac.signal }, sink)).toBe("aborted");
    expect(sink.text()).toBe("first\n");
    expect(sink.aborted).toBe(true);
    await serverSawClose;
  });

  it("fails with KubeConnectionError when the connection breaks mid-body", async () => {
    const url = await serve((_req, res) => {
      res.writeHead(200);
      res.write("partial\n", () => res.socket?.destroy());
    });
    const sink = collector();
    const err = await streamGet(kubeconfig(url), { path: "/log" }, sink).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(KubeConnectionError);
    expect(sink.ended).toBe(false);
  });

  it("speaks TLS with the kubeconfig's CA, and refuses a server it cannot verify", async () => {
    let seen: http.IncomingHttpHeaders = {};
    const url = await serve((req, res) => {
      seen = req.headers;
      res.writeHead(200);
      res.end("over tls\n");
    }, true);
    const sink = collector();
    expect(await streamGet(kubeconfig(url, { ca: true }), { path: "/log" }, sink)).toBe("eof");
    expect(sink.text()).toBe("over tls\n");
    expect(seen.connection).toBe("close");
    const err = await streamGet(kubeconfig(url), { path: "/log" }, collector()).catch((e: unknown) => e);
    expect((err as { code?: string }).code).toMatch(/SELF_SIGNED|UNABLE_TO_VERIFY|CERT/);
  });

  it("goes through node:http when the credentials bring their own agent (a proxy, client-node)", async () => {
    let seen: http.IncomingHttpHeaders = {};
    const url = await serve((req, res) => {
      seen = req.headers;
      res.writeHead(200);
      res.end("via agent\n");
    });
    class ProxyLikeAgent extends http.Agent {}
    const kc: KubeAccess = {
      getCurrentCluster: () => ({ server: url }),
      applyToHTTPSOptions: async (opts) => {
        opts.agent = new ProxyLikeAgent({ keepAlive: true });
        opts.headers = { Authorization: "Bearer from-plugin" };
      },
    };
    const sink = collector();
    expect(await streamGet(kc, { path: "/log" }, sink)).toBe("eof");
    expect(sink.text()).toBe("via agent\n");
    expect(seen.authorization).toBe("Bearer from-plugin");
    expect(seen.connection).toBe("keep-alive");
  });
});
