// Runs Faro's MCP server: the shared context (story index, bus reader, limits, metrics), the stdio transport for
// one local assistant and the Streamable HTTP transport (stateless, bearer tokens) for a shared deployment.
import http from "node:http";
import type { AddressInfo } from "node:net";
import type { Readable, Writable } from "node:stream";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { StdioServerTransport } from "@modelcontextprotocol/sdk/server/stdio.js";
import { StreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/streamableHttp.js";
import { natsClientOptions, redactUrl } from "@faro/kernel";
import type { Logger } from "pino";
import { principalOf, type McpConfig, type Principal, type TokenTable } from "./config.js";
import { BusReader } from "./bus.js";
import { createMcpMetrics, Limits } from "./limits.js";
import type { McpContext } from "./queries.js";
import { StoryIndex } from "./stories.js";
import { createServer } from "./tools.js";

/** How long the first connection to NATS may take before the server starts without the bus. */
const NATS_CONNECT_TIMEOUT_MS = 5_000;

export interface McpRuntime {
  ctx: McpContext;
  limits: Limits;
  /** Closes the NATS connection. Idempotent. */
  close(): Promise<void>;
}

/** Builds the shared context. NATS unreachable is not fatal: incident answers then come from the story files (and say so). */
export async function openRuntime(config: McpConfig, logger: Logger): Promise<McpRuntime> {
  const metrics = createMcpMetrics();
  const stories = new StoryIndex(config.dir, (file, why) => {
    metrics.invalidFiles.inc();
    logger.warn({ file, why }, "story file skipped");
  });
  let nc: NatsConnection | undefined;
  let busProblem: string | undefined;
  try {
    nc = await connect({ ...natsClientOptions(config.nats), name: "faro-mcp", timeout: NATS_CONNECT_TIMEOUT_MS, maxReconnectAttempts: -1 });
  } catch (err) {
    busProblem = `NATS at ${redactUrl(config.nats.url)} unreachable: ${(err as Error).message}`;
    metrics.service.errors.inc({ kind: "connection" });
    logger.warn({ nats: redactUrl(config.nats.url), err: (err as Error).message }, "no bus: incidents come from the story files only");
  }
  const bus = nc
    ? new BusReader({
        nc,
        maxScan: config.limits.maxScan,
        idleTimeoutMs: config.limits.readTimeout,
        onWarning: (what, err) => logger.warn({ err: (err as Error)?.message }, what),
      })
    : undefined;
  const ctx: McpContext = { config, stories, bus, busProblem, metrics, logger };
  const limits = new Limits(config.limits, metrics, logger);
  let closing: Promise<void> | undefined;
  return {
    ctx,
    limits,
    close: () => (closing ??= nc ? nc.close().catch((err: unknown) => logger.warn({ err: (err as Error).message }, "closing NATS failed")) : Promise.resolve()),
  };
}

/** Serves one caller over stdin/stdout until the client closes its end (or `signal` aborts). */
export async function serveStdio(rt: McpRuntime, tenants: readonly string[], signal: AbortSignal, io: { stdin?: Readable; stdout?: Writable } = {}): Promise<void> {
  const who = principalOf("stdio", tenants);
  const server = createServer(rt.ctx, rt.limits, who);
  const stdin = io.stdin ?? process.stdin;
  const transport = new StdioServerTransport(stdin, io.stdout ?? process.stdout);
  const closed = new Promise<void>((resolve) => {
    transport.onclose = () => resolve();
    stdin.once("end", () => resolve());
    if (signal.aborted) resolve();
    else signal.addEventListener("abort", () => resolve(), { once: true });
  });
  await server.connect(transport);
  rt.ctx.logger.info({ tenants: [...tenants] }, "faro mcp serving on stdio");
  await closed;
  await server.close();
}

export interface HttpHandle {
  readonly url: string;
  readonly port: number;
  /** Stops listening and closes open connections. Idempotent. */
  close(): Promise<void>;
}

class TooLarge extends Error {}

function readBody(req: http.IncomingMessage, max: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (c: Buffer) => {
      size += c.length;
      if (size > max) {
        reject(new TooLarge());
        req.pause();
        return;
      }
      chunks.push(c);
    });
    req.on("end", () => resolve(Buffer.concat(chunks)));
    req.on("error", reject);
  });
}

function sendJson(res: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { "content-type": "application/json", "cache-control": "no-store", ...headers });
  res.end(JSON.stringify(body));
}

/** JSON-RPC error body for requests refused before they reach the MCP server. */
const rpcError = (code: number, message: string) => ({ jsonrpc: "2.0", error: { code, message }, id: null });

/**
 * Streamable HTTP at `/mcp` (stateless: each POST gets a server bound to its token's principal), plus `/metrics`
 * and `/healthz`. A request without a valid bearer token gets 401, a body over limits.maxRequestBytes 413.
 */
export async function serveHttp(rt: McpRuntime, tokens: TokenTable, o: { host: string; port: number }): Promise<HttpHandle> {
  const { ctx, limits } = rt;
  const { logger, metrics } = ctx;
  const max = ctx.config.limits.maxRequestBytes;
  const server = http.createServer((req, res) => {
    const path = (req.url ?? "/").split("?")[0];
    const handle = async () => {
      if (path === "/metrics" && req.method === "GET") {
        res.writeHead(200, { "content-type": metrics.registry.contentType });
        res.end(await metrics.registry.metrics());
        return;
      }
      if (path === "/healthz" && req.method === "GET") return sendJson(res, 200, { status: "ok" });
      if (path !== "/mcp") return sendJson(res, 404, { error: `no route ${path}`, routes: ["/mcp", "/metrics", "/healthz"] });
      const auth = /^Bearer\s+(\S+)\s*$/i.exec(req.headers.authorization ?? "");
      const who: Principal | undefined = auth ? tokens.lookup(auth[1]!) : undefined;
      if (!who) {
        metrics.refused.inc({ reason: "unauthorized" });
        logger.info({ path, method: req.method, remote: req.socket.remoteAddress, outcome: "unauthorized", hadToken: auth !== null }, "mcp request refused");
        return sendJson(res, 401, rpcError(-32001, "unauthorized: send Authorization: Bearer <token> with a token from auth.tokensFile"), { "www-authenticate": 'Bearer realm="faro-mcp"' });
      }
      if (req.method !== "POST") {
        // Stateless server: no session to stream notifications on (GET) or to end (DELETE).
        return sendJson(res, 405, rpcError(-32000, "method not allowed: this server is stateless, POST JSON-RPC requests to /mcp"), { allow: "POST" });
      }
      const declared = Number(req.headers["content-length"] ?? "0");
      let body: unknown;
      try {
        if (declared > max) throw new TooLarge();
        const raw = await readBody(req, max);
        body = JSON.parse(raw.toString("utf8"));
      } catch (err) {
        if (err instanceof TooLarge) {
          metrics.refused.inc({ reason: "request_too_large" });
          logger.info({ caller: who.name, outcome: "refused", reason: "request_too_large", max }, "mcp request refused");
          res.setHeader("connection", "close");
          return sendJson(res, 413, rpcError(-32600, `request too large: the body is over limits.maxRequestBytes (${max} bytes)`));
        }
        return sendJson(res, 400, rpcError(-32700, `parse error: ${(err as Error).message}`));
      }
      const mcp = createServer(ctx, limits, who);
      const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: true });
      res.on("close", () => {
        void transport.close();
        void mcp.close();
      });
      await mcp.connect(transport);
      await transport.handleRequest(req, res, body);
    };
    handle().catch((err: unknown) => {
      metrics.service.errors.inc({ kind: "http" });
      logger.error({ err: (err as Error).message, path }, "mcp http request failed");
      if (!res.headersSent) sendJson(res, 500, rpcError(-32603, "internal error"));
      else res.destroy();
    });
  });
  server.listen(o.port, o.host);
  await new Promise<void>((resolve, reject) => {
    server.once("listening", resolve);
    server.once("error", reject);
  });
  const port = (server.address() as AddressInfo).port;
  const host = o.host === "0.0.0.0" || o.host === "::" ? "127.0.0.1" : o.host.includes(":") ? `[${o.host}]` : o.host;
  let closing: Promise<void> | undefined;
  return {
    port,
    url: `http://${host}:${port}/mcp`,
    close: () =>
      (closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      })),
  };
}
