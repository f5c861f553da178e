// The writer's admin API (off by default, bearer token): GET /v1/stories lists story files by filter, POST /v1/cleanup
// removes them — a dry run unless the body says `"dryRun": false` — and answers with every file (docs/story-management.md).
import { createHash, timingSafeEqual } from "node:crypto";
import fs from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import type { Bus } from "@faro/bus";
import { parseDuration } from "@faro/config";
import { counter, type Logger, type Registry } from "@faro/observability";
import { cleanup, listStories, type CleanupFilter } from "./cleanup.js";

export interface AdminOptions {
  dir: string;
  host: string;
  port: number;
  token: string;
  jsm?: Bus["jsm"];
  logger: Logger;
  registry: Registry;
}

export interface AdminServer {
  readonly url: string;
  close(): Promise<void>;
}

/** Reads the admin token: the file wins over the inline value; undefined when neither is set. */
export function readAdminToken(admin: { tokenFile?: string | undefined; token?: string | undefined }): string | undefined {
  if (admin.tokenFile !== undefined) {
    const t = fs.readFileSync(admin.tokenFile, "utf8").trim();
    return t === "" ? undefined : t;
  }
  const t = admin.token?.trim();
  return t ? t : undefined;
}

class BadRequest extends Error {}

const MAX_BODY = 64 * 1024;
const FILTER_KEYS = ["olderThan", "namespace", "tenant", "cluster", "reason"] as const;

function filterOf(src: Record<string, unknown>, allowed: readonly string[]): CleanupFilter {
  for (const k of Object.keys(src)) if (!allowed.includes(k)) throw new BadRequest(`unknown field "${k}" (known: ${allowed.join(", ")})`);
  const f: CleanupFilter = {};
  for (const k of ["namespace", "tenant", "cluster", "reason"] as const) {
    const v = src[k];
    if (v === undefined) continue;
    if (typeof v !== "string" || v === "") throw new BadRequest(`${k} must be a non-empty string`);
    f[k] = v;
  }
  if (src["olderThan"] !== undefined) {
    const ms = typeof src["olderThan"] === "string" ? parseDuration(src["olderThan"]) : undefined;
    if (ms === undefined) throw new BadRequest(`olderThan must be a duration like 7d, 12h, 30m, got ${JSON.stringify(src["olderThan"])}`);
    f.olderThanMs = ms;
  }
  return f;
}

export async function startAdmin(o: AdminOptions): Promise<AdminServer> {
  const expected = createHash("sha256").update(o.token).digest();
  const requests = counter(o.registry, { name: "faro_writer_admin_requests_total", help: "Admin API requests, by route and status code.", labelNames: ["route", "code"] });
  const cleanups = counter(o.registry, { name: "faro_writer_cleanups_total", help: "Cleanups run through the admin API, by dry_run (true: nothing removed).", labelNames: ["dry_run"] });
  const removed = counter(o.registry, { name: "faro_writer_cleanup_files_removed_total", help: "Files removed by cleanups (story files and their HTML pages)." });
  const purged = counter(o.registry, { name: "faro_writer_cleanup_bus_messages_removed_total", help: "FARO_STORY messages purged by cleanups." });
  const authorized = (req: http.IncomingMessage) => {
    const m = /^Bearer\s+(\S+)\s*$/i.exec(req.headers.authorization ?? "");
    return m !== null && timingSafeEqual(createHash("sha256").update(m[1]!).digest(), expected);
  };
  const body = (req: http.IncomingMessage) =>
    new Promise<Record<string, unknown>>((resolve, reject) => {
      const chunks: Buffer[] = [];
      let size = 0;
      req.on("data", (c: Buffer) => {
        size += c.length;
        if (size > MAX_BODY) reject(new BadRequest(`body larger than ${MAX_BODY} bytes`));
        else chunks.push(c);
      });
      req.on("end", () => {
        const text = Buffer.concat(chunks).toString("utf8").trim();
        if (text === "") return resolve({});
        try {
          const v = JSON.parse(text) as unknown;
          if (v === null || typeof v !== "object" || Array.isArray(v)) return reject(new BadRequest("the body must be a JSON object"));
          resolve(v as Record<string, unknown>);
        } catch (err) {
          reject(new BadRequest(`the body is not JSON: ${(err as Error).message}`));
        }
      });
      req.on("error", reject);
    });

  async function route(req: http.IncomingMessage): Promise<{ status: number; json: unknown }> {
    const url = new URL(req.url ?? "/", "http://admin");
    const known = url.pathname === "/v1/stories" || url.pathname === "/v1/cleanup";
    if (!known) return { status: 404, json: { error: `no route ${url.pathname} (GET /v1/stories, POST /v1/cleanup)` } };
    if (!authorized(req)) return { status: 401, json: { error: "missing or wrong bearer token" } };
    if (url.pathname === "/v1/stories") {
      if (req.method !== "GET") return { status: 405, json: { error: "GET only" } };
      const filter = filterOf(Object.fromEntries(url.searchParams), FILTER_KEYS);
      return { status: 200, json: await listStories(o.dir, filter) };
    }
    if (req.method !== "POST") return { status: 405, json: { error: "POST only" } };
    const b = await body(req);
    const dryRun = b["dryRun"] ?? true;
    if (typeof dryRun !== "boolean") throw new BadRequest("dryRun must be true or false");
    const { dryRun: _d, ...rest } = b;
    const filter = filterOf(rest, FILTER_KEYS);
    const result = await cleanup(o.dir, filter, { dryRun, ...(o.jsm ? { jsm: o.jsm } : {}) });
    cleanups.inc({ dry_run: String(dryRun) });
    if (!dryRun) {
      removed.inc(result.files.length);
      purged.inc(result.busMessages);
    }
    o.logger.info({ filter: rest, dryRun, files: result.files.length, stories: result.stories.length, busMessages: result.busMessages, busKept: result.busKept.length }, dryRun ? "cleanup dry run" : "cleanup removed story files");
    return { status: 200, json: result };
  }

  const server = http.createServer((req, res) => {
    const name = (req.url ?? "/").split("?")[0]!;
    route(req)
      .catch((err: unknown) => {
        if (err instanceof BadRequest) return { status: 400, json: { error: err.message } };
        o.logger.error({ err, route: name }, "admin request failed");
        return { status: 500, json: { error: (err as Error).message } };
      })
      .then(({ status, json }) => {
        requests.inc({ route: name === "/v1/stories" || name === "/v1/cleanup" ? name : "other", code: String(status) });
        res.writeHead(status, { "content-type": "application/json", ...(status === 401 ? { "www-authenticate": 'Bearer realm="faro-writer-admin"' } : {}) });
        res.end(JSON.stringify(json));
      });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(o.port, o.host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const addr = server.address() as AddressInfo;
  const url = `http://${addr.family === "IPv6" ? `[${addr.address}]` : addr.address}:${addr.port}`;
  o.logger.info({ url, port: addr.port }, "admin API listening");
  let closing: Promise<void> | undefined;
  return {
    url,
    close: () =>
      (closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
      })),
  };
}
