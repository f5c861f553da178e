// Unit tests of followLogs over a local HTTP server: lines cut across reads, a slow (async) onLine, the
// signal, and a connection that breaks mid-stream.
import fs from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { loadKubeConfig, type KubeAccess } from "./config.js";
import { KubeConnectionError } from "./errors.js";
import type { LogLine } from "./lines.js";
import { followLogs } from "./logs.js";

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "faro-kube-logs-"));
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

async function cluster(handler: (req: http.IncomingMessage, res: http.ServerResponse) => void): Promise<KubeAccess> {
  const server = http.createServer(handler);
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const file = path.join(dir, `kc-${servers.length}`);
  fs.writeFileSync(
    file,
    `clusters: [{name: c, cluster: {server: "http://127.0.0.1:${(server.address() as AddressInfo).port}"}}]
users: [{name: u, user: {}}]
contexts: [{name: c, context: {cluster: c, user: u}}]
current-context: c
`,
  );
  return loadKubeConfig({ kubeconfig: file });
}

const ts = (i: number) => `2026-01-01T00:00:00.${String(i).padStart(9, "0")}Z`;
const opts = { namespace: "ns", pod: "p", container: "app" };

describe("followLogs", () => {
  it("delivers every line in order, cut anywhere across reads, awaiting a slow onLine", async () => {
    const body = Array.from({ length: 2000 }, (_, i) => `${ts(i)} line ${i} ${"é".repeat(i % 7)}\n`).join("");
    const bytes = Buffer.from(body);
    const kc = await cluster((req, res) => {
      expect(req.url).toBe("/api/v1/namespaces/ns/pods/p/log?container=app&follow=true&previous=false&timestamps=true");
      res.writeHead(200);
      // Odd-sized writes, so lines and UTF-8 sequences are cut between reads.
      let at = 0;
      const next = () => {
        if (at >= bytes.length) return res.end();
        const n = 1 + ((at * 7919) % 3001);
        res.write(bytes.subarray(at, at + n), next);
        at += n;
      };
      next();
    });
    const got: LogLine[] = [];
    const result = await followLogs(kc, opts, async (l) => {
      got.push(l);
      if (got.length % 50 === 0) await new Promise((r) => setImmediate(r));
    });
    expect(result).toEqual({ lines: 2000, bytes: bytes.length, end: "eof" });
    expect(got.map((l) => `${l.timestamp} ${l.text}\n`).join("")).toBe(body);
  });

  it("stops delivering when the signal aborts inside onLine, and resolves aborted", async () => {
    const kc = await cluster((_req, res) => {
      res.writeHead(200);
      res.write(`${ts(1)} one\n${ts(2)} two\n${ts(3)} three\n`);
    });
    const ac = new AbortController();
    const got: string[] = [];
    const result = await followLogs(
      kc,
      opts,
      (l) => {
        got.push(l.text);
        if (l.text === "two") ac.abort();
      },
      ac.signal,
    );
    expect(got).toEqual(["one", "two"]);
    expect(result.end).toBe("aborted");
  });

  it("delivers the lines read before the connection broke, then rejects", async () => {
    const kc = await cluster((_req, res) => {
      res.writeHead(200);
      res.write(`${ts(1)} one\n${ts(2)} two\n${ts(3)} cut`, () => res.socket?.destroy());
    });
    const got: string[] = [];
    const err = await followLogs(kc, opts, async (l) => {
      got.push(l.text);
      await new Promise((r) => setImmediate(r));
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(KubeConnectionError);
    expect(got).toEqual(["one", "two"]);
  });
});
