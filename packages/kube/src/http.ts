// Raw HTTP access to the Kubernetes API through a KubeConfig: JSON requests with Status-carrying
// errors, and streaming responses (watch, logs) consumed with backpressure by async iteration.
import http from "node:http";
import https from "node:https";
import type { KubeAccess } from "./config.js";
import { KubeApiError, KubeConfigError } from "./errors.js";

export type QueryValue = string | number | boolean | undefined;

export interface KubeRequest {
  path: string;
  query?: Record<string, QueryValue>;
  method?: string;
  accept?: string;
  signal?: AbortSignal;
}

/** Builds the full URL for an API path, keeping any path prefix of the cluster's server URL. */
export function apiUrl(kc: KubeAccess, path: string, query?: Record<string, QueryValue>): URL {
  const cluster = kc.getCurrentCluster();
  if (!cluster) throw new KubeConfigError("kubeconfig has no current cluster");
  const url = new URL(cluster.server.replace(/\/+$/, "") + path);
  for (const [k, v] of Object.entries(query ?? {})) if (v !== undefined) url.searchParams.set(k, String(v));
  return url;
}

/** Opens a request and resolves with the response once headers arrive (any status). */
export async function openRequest(kc: KubeAccess, req: KubeRequest): Promise<http.IncomingMessage> {
  const url = apiUrl(kc, req.path, req.query);
  const opts: https.RequestOptions = {};
  try {
    await kc.applyToHTTPSOptions(opts);
  } catch (err) {
    throw new KubeConfigError(`cannot apply kubeconfig credentials: ${(err as Error).message}`, { cause: err });
  }
  const headers: http.OutgoingHttpHeaders = { ...(opts.headers as http.OutgoingHttpHeaders | undefined), Accept: req.accept ?? "application/json" };
  if (opts.auth) headers.Authorization = "Basic " + Buffer.from(opts.auth).toString("base64");
  const mod = url.protocol === "https:" ? https : http;
  return new Promise<http.IncomingMessage>((resolve, reject) => {
    const r = mod.request(url, { method: req.method ?? "GET", headers, agent: opts.agent as http.Agent | undefined, signal: req.signal }, resolve);
    r.on("error", (err) => reject(err));
    r.end();
  });
}

/** Reads a whole response body (bounded by what the server sends). */
export async function readBody(res: http.IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of res) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

/** Turns a non-2xx response into a KubeApiError carrying the Status message when present. */
export async function errorFromResponse(res: http.IncomingMessage, path: string): Promise<KubeApiError> {
  let text = "";
  try {
    text = (await readBody(res)).toString("utf8");
  } catch (err) {
    text = `(body unreadable: ${(err as Error).message})`;
  }
  return errorFromStatus(res.statusCode ?? 0, text, path);
}

export function errorFromStatus(code: number, text: string, path: string): KubeApiError {
  let status: { message?: string; reason?: string; code?: number } | undefined;
  try {
    const parsed = JSON.parse(text) as unknown;
    if (parsed && typeof parsed === "object") status = parsed as typeof status;
  } catch {
    // not JSON: keep the raw text as the message
    status = undefined;
  }
  const message = status?.message ?? (text.trim() || http.STATUS_CODES[code] || "request failed");
  const reason = status?.reason ?? http.STATUS_CODES[code] ?? "Unknown";
  return new KubeApiError(`${message} (${code} ${reason}, ${path})`, {
    code: status?.code ?? code,
    path,
    reason: status?.reason,
    status: status ?? text,
  });
}

/** GET (or other method) returning parsed JSON; non-2xx → KubeApiError. */
export async function requestJson<T>(kc: KubeAccess, req: KubeRequest): Promise<T> {
  const res = await openRequest(kc, req);
  const code = res.statusCode ?? 0;
  if (code < 200 || code >= 300) throw await errorFromResponse(res, req.path);
  const body = await readBody(res);
  try {
    return JSON.parse(body.toString("utf8")) as T;
  } catch (err) {
    throw new KubeApiError(`invalid JSON from ${req.path}: ${(err as Error).message}`, { code, path: req.path, cause: err });
  }
}
