// The metrics and health HTTP server every service runs: /metrics, /healthz and /readyz.
import http from "node:http";
import type { AddressInfo } from "node:net";
import type { Registry } from "prom-client";
import type { Logger } from "pino";
import type { Lifecycle } from "./lifecycle.js";

export interface HttpServerOptions {
  /** 0 = any free port; read the bound one from `port`. */
  port: number;
  host?: string;
  registry: Registry;
  lifecycle: Lifecycle;
  logger?: Logger;
}

export interface HttpServerHandle {
  readonly port: number;
  /** Base URL reachable from this host, e.g. http://127.0.0.1:9101. */
  readonly url: string;
  /** Stops listening and closes open connections. Idempotent. */
  close(): Promise<void>;
}

function send(res: http.ServerResponse, status: number, body: unknown, type = "application/json"): void {
  const text = typeof body === "string" ? body : JSON.stringify(body);
  res.writeHead(status, { "content-type": type, "cache-control": "no-store" });
  res.end(text);
}

export async function startHttpServer(options: HttpServerOptions): Promise<HttpServerHandle> {
  const { registry, lifecycle, logger } = options;
  const server = http.createServer((req, res) => {
    const path = (req.url ?? "/").split("?")[0];
    const handle = async () => {
      if (path === "/metrics") return send(res, 200, await registry.metrics(), registry.contentType);
      if (path === "/healthz") {
        const alive = lifecycle.state !== "stopped";
        return send(res, alive ? 200 : 503, { status: alive ? "ok" : "stopped", state: lifecycle.state });
      }
      if (path === "/readyz") {
        const report = await lifecycle.readiness();
        return send(res, report.ready ? 200 : 503, report);
      }
      return send(res, 404, { error: `no route ${path}`, routes: ["/metrics", "/healthz", "/readyz"] });
    };
    handle().catch((err: unknown) => {
      logger?.error({ err, path }, "health/metrics request failed");
      if (!res.headersSent) send(res, 500, { error: (err as Error).message });
      else res.destroy();
    });
  });
  server.listen(options.port, options.host ?? "0.0.0.0");
  await new Promise<void>((resolve, reject) => {
    server.once("listening", resolve);
    server.once("error", reject);
  });
  const port = (server.address() as AddressInfo).port;
  const host = options.host === undefined || options.host === "0.0.0.0" || options.host === "::" ? "127.0.0.1" : options.host;
  let closing: Promise<void> | undefined;
  return {
    port,
    url: `http://${host.includes(":") ? `[${host}]` : host}:${port}`,
    close() {
      closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        // Keep-alive connections from scrapers would otherwise hold close() open.
        server.closeAllConnections();
      });
      return closing;
    },
  };
}
