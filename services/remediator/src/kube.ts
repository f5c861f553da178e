// JSON reads and writes against the Kubernetes API through the kubeconfig (the shared @faro/kube layer only reads).
import http from "node:http";
import https from "node:https";
import { apiUrl, type KubeAccess } from "@faro/kube";
import { KubeWriteError } from "./errors.js";

export type Obj = Record<string, unknown> & { metadata: { name: string; namespace?: string; uid?: string; resourceVersion?: string; labels?: Record<string, string>; annotations?: Record<string, string>; ownerReferences?: { uid: string; kind: string; name: string }[] } };

export interface KubeClient {
  get(path: string): Promise<Obj | undefined>;
  list(path: string): Promise<Obj[]>;
  create(path: string, body: unknown): Promise<Obj>;
  replace(path: string, body: unknown): Promise<Obj>;
  remove(path: string): Promise<void>;
}

export function kubeClient(kc: KubeAccess, signal?: AbortSignal): KubeClient {
  async function call(method: string, path: string, body?: unknown): Promise<{ status: number; json: unknown }> {
    const url = apiUrl(kc, path);
    const opts: https.RequestOptions = {};
    await kc.applyToHTTPSOptions(opts);
    const headers: http.OutgoingHttpHeaders = { ...(opts.headers as http.OutgoingHttpHeaders | undefined), Accept: "application/json" };
    if (opts.auth) headers.Authorization = "Basic " + Buffer.from(opts.auth).toString("base64");
    const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    if (payload) headers["Content-Type"] = "application/json";
    const mod = url.protocol === "https:" ? https : http;
    return new Promise((resolve, reject) => {
      const r = mod.request(url, { ...opts, method, headers, ...(signal ? { signal } : {}) }, (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("error", reject);
        res.on("end", () => {
          const text = Buffer.concat(chunks).toString("utf8");
          let json: unknown = text;
          try {
            json = text ? JSON.parse(text) : undefined;
          } catch {
            // not JSON: the raw text is the detail of the error below
            json = text;
          }
          resolve({ status: res.statusCode ?? 0, json });
        });
      });
      r.on("error", (err) => reject(new KubeWriteError(method, path, 0, err.message, { cause: err })));
      r.end(payload);
    });
  }
  async function ok(method: string, path: string, body?: unknown): Promise<Obj> {
    const { status, json } = await call(method, path, body);
    if (status < 200 || status >= 300) {
      const msg = typeof json === "object" && json && "message" in json ? String((json as { message: unknown }).message) : String(json ?? "");
      throw new KubeWriteError(method, path, status, msg);
    }
    return json as Obj;
  }
  return {
    async get(path) {
      const { status, json } = await call("GET", path);
      if (status === 404) return undefined;
      if (status < 200 || status >= 300) throw new KubeWriteError("GET", path, status, JSON.stringify(json));
      return json as Obj;
    },
    async list(path) {
      return ((await ok("GET", path)) as unknown as { items?: Obj[] }).items ?? [];
    },
    create: (path, body) => ok("POST", path, body),
    replace: (path, body) => ok("PUT", path, body),
    async remove(path) {
      await ok("DELETE", path);
    },
  };
}
