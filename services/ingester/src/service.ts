// The ingester: an authenticated, bounded HTTP endpoint for Falco and falcosidekick alerts, published as KubeEvents on FARO_RAW.
import { timingSafeEqual, createHash } from "node:crypto";
import fs from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { encodeKubeEvent, validateSecurityPayload, type FalcoAlert } from "@faro/contracts";
import type { KernelContext, ServiceInstance } from "@faro/kernel";
import type { IngesterConfig } from "./config.js";
import { mapAlert, type AlertFormat } from "./alert.js";
import { RejectedRequestError, TokenFileError } from "./errors.js";
import { ingesterMetrics, type IngesterMetrics } from "./metrics.js";
import { TokenBucket } from "./rate.js";

/** The endpoints and the schema each payload must satisfy. */
export const ENDPOINTS: Readonly<Record<string, { format: AlertFormat; schema: "falco-alert" | "falcosidekick-payload" }>> = {
  "/v1/falco": { format: "falco", schema: "falco-alert" },
  "/v1/falcosidekick": { format: "falcosidekick", schema: "falcosidekick-payload" },
};

export interface Ingester extends ServiceInstance {
  /** The ingest endpoint's URL once started (undefined while closed: not started, or no token configured). */
  url(): string | undefined;
  readonly ingesterMetrics: IngesterMetrics;
}

/** Reads the configured token (tokenFile wins over token); undefined when neither is set. Throws TokenFileError. */
export function readToken(config: IngesterConfig): string | undefined {
  const file = config.auth.tokenFile;
  if (file !== undefined) {
    let text: string;
    try {
      text = fs.readFileSync(file, "utf8");
    } catch (err) {
      throw new TokenFileError(file, (err as NodeJS.ErrnoException).code ?? (err as Error).message, { cause: err });
    }
    const token = text.trim();
    if (token === "") throw new TokenFileError(file, "the file is empty");
    return token;
  }
  const token = config.auth.token?.trim();
  return token ? token : undefined;
}

// Compared as digests: equal length whatever the candidate, so the comparison time says nothing about the token.
const digest = (s: string): Buffer => createHash("sha256").update(s).digest();

export function createIngester(ctx: KernelContext<IngesterConfig>, token: string | undefined): Ingester {
  const config = ctx.config;
  const metrics = ctx.metrics;
  const im = ingesterMetrics(metrics.registry);
  const publisher = ctx.publisher({ name: "ingester-raw" });
  const bucket = new TokenBucket(config.ingest.ratePerSecond, config.ingest.burst);
  const rateQueue = metrics.queue("rate_limit_tokens", config.ingest.burst);
  const flightQueue = metrics.queue("requests_in_flight", config.ingest.maxInFlight);
  im.maxBodyBytes.set(config.ingest.maxBodyBytes);
  im.enabled.set(0);
  const expected = token === undefined ? undefined : digest(token);
  let server: http.Server | undefined;
  let address: AddressInfo | undefined;
  let inFlight = 0;
  const idle: (() => void)[] = [];
  let stopping: Promise<void> | undefined;

  function authorized(req: http.IncomingMessage): boolean {
    const h = req.headers.authorization ?? "";
    const m = /^Bearer\s+(\S+)\s*$/i.exec(h);
    return expected !== undefined && m !== null && timingSafeEqual(digest(m[1]!), expected);
  }

  function readBody(req: http.IncomingMessage, max: number): Promise<Buffer> {
    const declared = Number(req.headers["content-length"] ?? NaN);
    if (Number.isFinite(declared) && declared > max) {
      return Promise.reject(new RejectedRequestError(413, "too_large", `request body of ${declared} bytes is larger than ingest.maxBodyBytes (${max})`));
    }
    return new Promise((resolve, reject) => {
      const chunks: Buffer[] = [];
      let size = 0;
      req.on("data", (c: Buffer) => {
        size += c.length;
        if (size > max) {
          req.removeAllListeners("data");
          req.resume();
          reject(new RejectedRequestError(413, "too_large", `request body is larger than ingest.maxBodyBytes (${max})`));
          return;
        }
        chunks.push(c);
      });
      req.on("end", () => resolve(Buffer.concat(chunks)));
      req.on("error", reject);
    });
  }

  async function handle(req: http.IncomingMessage): Promise<{ status: number; body: unknown }> {
    const path = (req.url ?? "/").split("?")[0]!;
    const endpoint = ENDPOINTS[path];
    if (!endpoint) throw new RejectedRequestError(404, "not_found", `no endpoint ${path} (POST /v1/falco or /v1/falcosidekick)`);
    if (req.method !== "POST") throw new RejectedRequestError(405, "method", `${req.method ?? "?"} is not allowed, POST only`);
    if (!authorized(req)) throw new RejectedRequestError(401, "unauthorized", "missing or wrong bearer token");
    if (!bucket.take()) throw new RejectedRequestError(429, "rate_limited", `more than ${config.ingest.ratePerSecond} requests per second (burst ${config.ingest.burst})`);
    rateQueue.setDepth(bucket.used);
    const body = await readBody(req, config.ingest.maxBodyBytes);
    let parsed: unknown;
    try {
      parsed = JSON.parse(body.toString("utf8"));
    } catch (err) {
      throw new RejectedRequestError(400, "invalid_json", `the body is not JSON: ${(err as Error).message}`);
    }
    const checked = validateSecurityPayload(endpoint.schema, parsed);
    if (!checked.ok) throw new RejectedRequestError(400, "invalid_payload", `the payload does not match the ${endpoint.schema} schema`, checked.errors);
    metrics.messagesIn.inc();
    const alert: FalcoAlert = checked.value;
    const mapped = mapAlert(config.cluster, endpoint.format, alert, Date.now());
    const ack = await publisher.publish(mapped.subject, encodeKubeEvent(mapped.event), { msgId: mapped.msgId });
    if (ack.duplicate) metrics.messagesDropped.inc({ reason: "duplicate" });
    else metrics.messagesOut.inc();
    im.alerts.inc({ format: endpoint.format, priority: alert.priority });
    return { status: 202, body: { accepted: true, duplicate: ack.duplicate, subject: mapped.subject, id: mapped.event.uid } };
  }

  function respond(res: http.ServerResponse, path: string, status: number, body: unknown, headers: Record<string, string> = {}): void {
    im.requests.inc({ endpoint: ENDPOINTS[path] ? path : "other", code: String(status) });
    if (res.headersSent) return;
    res.writeHead(status, { "content-type": "application/json", ...headers });
    res.end(JSON.stringify(body));
  }

  function onRequest(req: http.IncomingMessage, res: http.ServerResponse): void {
    const path = (req.url ?? "/").split("?")[0]!;
    if (stopping || inFlight >= config.ingest.maxInFlight) {
      const draining = stopping !== undefined;
      metrics.messagesDropped.inc({ reason: draining ? "draining" : "busy" });
      respond(res, path, draining ? 503 : 429, { error: draining ? "the ingester is stopping" : `more than ingest.maxInFlight (${config.ingest.maxInFlight}) requests at once` }, draining ? { connection: "close" } : { "retry-after": "1" });
      req.resume();
      return;
    }
    inFlight++;
    flightQueue.setDepth(inFlight);
    handle(req)
      .then((r) => respond(res, path, r.status, r.body))
      .catch((err: unknown) => {
        if (err instanceof RejectedRequestError) {
          metrics.messagesDropped.inc({ reason: err.reason });
          const headers: Record<string, string> = {};
          if (err.status === 401) headers["www-authenticate"] = 'Bearer realm="faro-ingester"';
          if (err.status === 429) headers["retry-after"] = String(bucket.retryAfterSeconds());
          // A refused body is not read to the end: close the connection instead of draining it.
          if (err.status === 413) headers["connection"] = "close";
          respond(res, path, err.status, { error: err.message, ...(err.details.length ? { reasons: err.details } : {}) }, headers);
          if (err.status !== 413) req.resume();
          return;
        }
        // The bus refused or timed out after its retries: the client (Falco, falcosidekick) retries.
        metrics.errors.inc({ kind: "publish" });
        ctx.logger.error({ err, path }, "publishing an alert failed");
        respond(res, path, 503, { error: "the alert could not be published; retry later" }, { "retry-after": "5" });
      })
      .finally(() => {
        inFlight--;
        flightQueue.setDepth(inFlight);
        if (inFlight === 0) for (const fn of idle.splice(0)) fn();
      });
  }

  return {
    ingesterMetrics: im,
    url: () => (address ? `http://${address.family === "IPv6" ? `[${address.address}]` : address.address}:${address.port}` : undefined),
    async start() {
      if (token === undefined) {
        ctx.logger.info("no auth.tokenFile or auth.token configured: the ingest endpoint stays closed");
        return;
      }
      const s = http.createServer({ requestTimeout: 30_000, headersTimeout: 10_000 }, onRequest);
      s.maxHeadersCount = 64;
      await new Promise<void>((resolve, reject) => {
        s.once("error", reject);
        s.listen(config.listen.port, config.listen.host, () => {
          s.off("error", reject);
          resolve();
        });
      });
      server = s;
      address = s.address() as AddressInfo;
      im.enabled.set(1);
      ctx.logger.info({ url: `http://${config.listen.host}:${address.port}`, port: address.port }, "ingest endpoint listening");
    },
    stop() {
      stopping ??= (async () => {
        const s = server;
        if (!s) return;
        im.enabled.set(0);
        const closed = new Promise<void>((resolve) => s.close(() => resolve()));
        // Requests in flight finish (their publishes acked); idle keep-alive connections go now.
        if (inFlight > 0) await new Promise<void>((resolve) => idle.push(resolve));
        s.closeIdleConnections();
        s.closeAllConnections();
        await closed;
        address = undefined;
      })();
      return stopping;
    },
    readiness() {
      if (token !== undefined && !server) return { ok: false, detail: "ingest endpoint not listening" };
      return { ok: true };
    },
  };
}
