// The HTTP front of the simulator: routes Kubernetes API requests (discovery, CRUD, patch, watch, logs, scale) to the store.
import fs from "node:fs";
import http, { type IncomingMessage, type ServerResponse } from "node:http";
import https from "node:https";
import net, { type AddressInfo } from "node:net";
import { Duplex } from "node:stream";
import { parse as parseYaml } from "yaml";
import { ApiError, badRequest, invalid, methodNotAllowed, notFound } from "../errors.js";
import type { SimStore } from "../store.js";
import type { DeleteOptions, KubeObject, LogProvider, LogQuery, ResourceType, Store, StoreEvent } from "../types.js";
import { aggregatedDiscovery, apiGroup, apiGroupList, apiResourceList, apiVersions } from "./discovery.js";
import { openapiV3 } from "./openapi.js";
import { ACCEPTED_BODY_TYPES, decodeProtobufObject, PROTOBUF_CT } from "./protobuf.js";
import { jsonPatch, mergePatch, strategicMergePatch } from "./patch.js";
import { both, parseFieldSelector, parseLabelSelector, type Matcher } from "./selectors.js";
import { toTable } from "./table.js";
import { bookmarkObject, WatchHub, type Watcher } from "./watch.js";
import { Authorizer, forbidden, TokenIssuer, type RequestAttributes, type Subject } from "../rbac.js";

export interface ApiServerOptions {
  store: Store;
  logs: LogProvider | undefined;
  /** 0 (default) picks a free port. */
  port?: number;
  host?: string;
  /** What /version reports. */
  version?: { major: string; minor: string; gitVersion: string };
  /** Interval of BOOKMARK events for watches with allowWatchBookmarks=true (default 30 s). */
  bookmarkIntervalMs?: number;
  /** Clock for Table ages (ms since epoch); the simulated clock's now() when time runs faster. */
  now?: () => number;
  /** Issues and checks bearer tokens (a fresh signing key when absent). */
  tokens?: TokenIssuer;
}

export interface ApiServer {
  url: string;
  /** The same server over TLS (self-signed; clients skip verification). kubectl sends tokens only over https. */
  httpsUrl: string;
  port: number;
  /** Ends every open watch and log stream and stops listening; idempotent. */
  close(): Promise<void>;
  /** Test hook: ends every open watch stream cleanly, as an API server restart or timeout would. */
  forceCloseWatches(): void;
  /** Open watch streams (for tests and benchmarks). */
  watchCount(): number;
  /** A bearer token for `system:serviceaccount:<namespace>:<name>`; RBAC applies to requests that carry it. */
  serviceAccountToken(namespace: string, name: string): string;
  /** Every request RBAC denied so far, with the Forbidden message it got (tests: "no 403 in normal operation"). */
  denials(): readonly { attributes: RequestAttributes; message: string }[];
}

const JSON_CT = "application/json";
const MAX_BODY = 16 * 1024 * 1024;

interface Route {
  type: ResourceType;
  namespace: string | undefined;
  name: string | undefined;
  sub: string | undefined;
  watchPrefix: boolean;
}

function send(res: ServerResponse, code: number, body: unknown, contentType = JSON_CT): void {
  const text = typeof body === "string" ? body : JSON.stringify(body);
  res.writeHead(code, { "Content-Type": contentType, "Content-Length": Buffer.byteLength(text) });
  res.end(text);
}

function sendError(res: ServerResponse, err: ApiError): void {
  if (res.headersSent) {
    if (!res.writableEnded) res.end();
    return;
  }
  send(res, err.code, err.status());
}

async function readBody(req: IncomingMessage): Promise<string> {
  return (await readBodyBytes(req)).toString("utf8");
}

function readBodyBytes(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY) {
        reject(new ApiError(413, "RequestEntityTooLarge", "request body too large"));
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on("end", () => resolve(Buffer.concat(chunks)));
    req.on("error", reject);
  });
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    throw badRequest(`the body of the request was in an unknown format - accepted media types include: ${ACCEPTED_BODY_TYPES.join(", ")}: ${(err as Error).message}`, err);
  }
}

const apiVersionOf = (t: ResourceType) => (t.group ? `${t.group}/${t.version}` : t.version);

/** Accept asks for a meta.k8s.io Table. */
function wantsTable(accept: string | undefined): boolean {
  return !!accept && /as=Table/.test(accept) && /g=meta\.k8s\.io/.test(accept);
}

/** The aggregated discovery version the Accept header asks for first, if any. */
function discoveryVersion(accept: string | undefined): string | undefined {
  if (!accept) return undefined;
  for (const part of accept.split(",")) {
    if (!/as=APIGroupDiscoveryList/.test(part) || !/g=apidiscovery\.k8s\.io/.test(part)) continue;
    const v = /v=(v2beta1|v2)\b/.exec(part)?.[1];
    if (v) return v;
  }
  return undefined;
}

const boolParam = (v: string | null) => v === "true" || v === "1";

function intParam(q: URLSearchParams, name: string): number | undefined {
  const v = q.get(name);
  if (v === null || v === "") return undefined;
  const n = Number(v);
  if (!Number.isInteger(n)) throw badRequest(`invalid value for ${name}: "${v}"`);
  return n;
}

interface Continue {
  rv: number;
  after: string;
}

function encodeContinue(c: Continue): string {
  return Buffer.from(JSON.stringify(c)).toString("base64url");
}

function decodeContinue(s: string): Continue {
  try {
    const c = JSON.parse(Buffer.from(s, "base64url").toString("utf8")) as Continue;
    if (typeof c.rv !== "number" || typeof c.after !== "string") throw new Error("bad token");
    return c;
  } catch (err) {
    throw badRequest(`invalid continue token: ${(err as Error).message}`, err);
  }
}

const sortKey = (o: KubeObject) => `${o.metadata.namespace ?? ""}/${o.metadata.name}`;

function scaleSelector(obj: KubeObject): string {
  const sel = (obj.spec as { selector?: { matchLabels?: Record<string, string> } } | undefined)?.selector;
  return Object.entries(sel?.matchLabels ?? {})
    .map(([k, v]) => `${k}=${v}`)
    .join(",");
}

function toScale(obj: KubeObject): KubeObject {
  const spec = (obj.spec ?? {}) as { replicas?: number };
  const status = (obj.status ?? {}) as { replicas?: number };
  return {
    kind: "Scale",
    apiVersion: "autoscaling/v1",
    metadata: {
      name: obj.metadata.name,
      namespace: obj.metadata.namespace,
      uid: obj.metadata.uid,
      resourceVersion: obj.metadata.resourceVersion,
      creationTimestamp: obj.metadata.creationTimestamp,
    },
    spec: { replicas: spec.replicas ?? 1 },
    status: { replicas: status.replicas ?? 0, selector: scaleSelector(obj) },
  };
}

function isSimStore(s: Store): s is SimStore {
  return typeof (s as Partial<SimStore>).listShared === "function";
}

export async function createApiServer(opts: ApiServerOptions): Promise<ApiServer> {
  const store = opts.store;
  const sim = isSimStore(store) ? store : undefined;
  const listShared = (t: ResourceType, ns?: string) => (sim ? sim.listShared(t, ns) : store.list(t, ns));
  const getShared = (t: ResourceType, ns: string | undefined, name: string) =>
    sim ? sim.getShared(t, ns, name) : store.get(t, ns, name);
  const nowMs = opts.now ?? Date.now;
  const bookmarkMs = opts.bookmarkIntervalMs ?? 30_000;
  const version = opts.version ?? { major: "1", minor: "32", gitVersion: "v1.32.0-kube-sim" };
  const hub = new WatchHub(sim ? (ev) => sim.previousOf(ev) : undefined);
  const logAborts = new Set<AbortController>();
  const tokens = opts.tokens ?? new TokenIssuer();
  const authorizer = new Authorizer(store);
  const denied: { attributes: RequestAttributes; message: string }[] = [];
  let closed = false;

  const unsubscribe = store.subscribe((ev) => hub.dispatch(ev));
  let knownTypes = new Set(store.types().map((t) => `${t.group}/${t.resource}`));
  const offTypes = sim?.onTypesChanged(() => {
    const now = new Set(store.types().map((t) => `${t.group}/${t.resource}`));
    for (const k of knownTypes) if (!now.has(k)) hub.endType(k);
    knownTypes = now;
  });

  function typeFor(group: string, version: string, resource: string): ResourceType | undefined {
    if (sim) return sim.typeForVersion(group, version, resource);
    return store.types().find((t) => t.group === group && t.version === version && t.resource === resource);
  }

  /** The object as the requested version shows it (CRDs may serve several versions of one object). */
  function view(type: ResourceType, obj: KubeObject): KubeObject {
    const av = apiVersionOf(type);
    return obj.apiVersion === av ? obj : { ...obj, apiVersion: av };
  }

  function parseRoute(group: string, version: string, segs: string[]): Route {
    let watchPrefix = false;
    if (segs[0] === "watch") {
      watchPrefix = true;
      segs = segs.slice(1);
    }
    let namespace: string | undefined;
    if (segs[0] === "namespaces" && segs.length >= 3 && !(segs.length === 3 && (segs[2] === "status" || segs[2] === "finalize"))) {
      namespace = segs[1];
      segs = segs.slice(2);
    }
    const [resource, name, sub, ...rest] = segs;
    const gv = group ? `${group}/${version}` : version;
    if (!resource || rest.length > 0) throw new ApiError(404, "NotFound", "the server could not find the requested resource");
    const type = typeFor(group, version, resource);
    if (!type) {
      throw new ApiError(404, "NotFound", `the server could not find the requested resource (${resource}.${gv})`, {
        group: group || undefined,
        kind: resource,
      });
    }
    if (namespace !== undefined && !type.namespaced) throw new ApiError(404, "NotFound", "the server could not find the requested resource");
    if (sub !== undefined && !type.subresources.includes(sub)) {
      throw new ApiError(404, "NotFound", `the server could not find the requested resource (${sub} ${resource}.${gv} ${name})`);
    }
    return { type, namespace, name, sub, watchPrefix };
  }

  function matcherOf(q: URLSearchParams): Matcher | undefined {
    return both(parseLabelSelector(q.get("labelSelector")), parseFieldSelector(q.get("fieldSelector")));
  }

  function selected(route: Route, q: URLSearchParams): KubeObject[] {
    const match = matcherOf(q);
    const all = listShared(route.type, route.namespace);
    return match ? all.filter(match) : all;
  }

  // --- list / get ---------------------------------------------------------------------------------

  function handleList(req: IncomingMessage, res: ServerResponse, route: Route, q: URLSearchParams): void {
    const { type } = route;
    const limit = intParam(q, "limit");
    const cont = q.get("continue");
    let rv = store.currentRV();
    let items = selected(route, q);
    const paging = (limit !== undefined && limit > 0) || !!cont;
    let next = "";
    let remaining: number | undefined;
    if (paging) {
      // Keys computed once: sorting 10,000 objects per page must not rebuild strings in the comparator.
      let keyed = items.map((o) => ({ k: sortKey(o), o }));
      if (cont) {
        const c = decodeContinue(cont);
        rv = c.rv;
        keyed = keyed.filter((x) => x.k > c.after);
      }
      keyed.sort((a, b) => (a.k < b.k ? -1 : a.k > b.k ? 1 : 0));
      items = keyed.map((x) => x.o);
      if (limit !== undefined && limit > 0 && items.length > limit) {
        remaining = items.length - limit;
        items = items.slice(0, limit);
        next = encodeContinue({ rv, after: sortKey(items[items.length - 1]!) });
      }
    }
    const metadata: Record<string, unknown> = { resourceVersion: String(rv), continue: next };
    if (remaining !== undefined) metadata.remainingItemCount = remaining;
    if (wantsTable(req.headers.accept)) {
      send(res, 200, toTable(type, items, metadata, nowMs()), `${JSON_CT};as=Table;v=v1;g=meta.k8s.io`);
      return;
    }
    const av = apiVersionOf(type);
    // Built by hand so 10,000 stored objects are serialized once, without an intermediate copy.
    const parts: string[] = [];
    for (const o of items) parts.push(JSON.stringify(view(type, o)));
    const body = `{"kind":"${type.listKind}","apiVersion":"${av}","metadata":${JSON.stringify(metadata)},"items":[${parts.join(",")}]}`;
    send(res, 200, body);
  }

  function mustGet(route: Route): KubeObject {
    const obj = getShared(route.type, route.namespace, route.name!);
    if (!obj) throw notFound(route.type.group, route.type.resource, route.name!);
    return obj;
  }

  function sendObject(req: IncomingMessage, res: ServerResponse, type: ResourceType, obj: KubeObject, code = 200): void {
    if (wantsTable(req.headers.accept) && obj.kind === type.kind) {
      send(res, code, toTable(type, [obj], { resourceVersion: obj.metadata.resourceVersion }, nowMs()), `${JSON_CT};as=Table;v=v1;g=meta.k8s.io`);
      return;
    }
    send(res, code, view(type, obj));
  }

  // --- watch --------------------------------------------------------------------------------------

  function handleWatch(req: IncomingMessage, res: ServerResponse, route: Route, q: URLSearchParams): void {
    const { type } = route;
    let match = matcherOf(q);
    if (route.name) {
      const name = route.name;
      const byName: Matcher = (o) => o.metadata.name === name;
      match = both(byName, match);
    }
    const table = wantsTable(req.headers.accept);
    const sendInitial = boolParam(q.get("sendInitialEvents"));
    const bookmarks = boolParam(q.get("allowWatchBookmarks"));
    if (sendInitial && !bookmarks) {
      throw invalid("ListOptions", "", "allowWatchBookmarks: Required value: allowWatchBookmarks must be true if sendInitialEvents = true");
    }
    const rvParam = q.get("resourceVersion");
    const timeoutSeconds = intParam(q, "timeoutSeconds");
    const av = apiVersionOf(type);
    const sameVersion = (o: KubeObject) => o.apiVersion === av;
    let tableHeaderSent = false;
    const render = (evType: string, obj: KubeObject, ev?: StoreEvent): string => {
      if (table && evType !== "BOOKMARK" && evType !== "ERROR") {
        const t = toTable(type, [obj], { resourceVersion: obj.metadata.resourceVersion }, nowMs(), !tableHeaderSent);
        tableHeaderSent = true;
        return `{"type":"${evType}","object":${JSON.stringify(t)}}\n`;
      }
      if (ev && sameVersion(obj)) return hub.plainLine(ev);
      return `{"type":"${evType}","object":${JSON.stringify(view(type, obj))}}\n`;
    };

    // Everything below runs in one tick: no store event can slip between replay and registration.
    let replay: { type: string; obj: KubeObject; ev?: StoreEvent }[] = [];
    let expired: number | undefined;
    const initial = sendInitial || rvParam === null || rvParam === "" || rvParam === "0";
    if (initial) {
      const objs = listShared(type, route.namespace);
      replay = objs.filter((o) => !match || match(o)).map((obj) => ({ type: "ADDED", obj }));
    } else {
      const since = Number(rvParam);
      if (!Number.isFinite(since)) throw badRequest(`invalid resourceVersion "${rvParam}"`);
      const events = store.eventsSince(since);
      if (events === undefined) expired = since;
      else {
        const key = `${type.group}/${type.resource}`;
        const probe = { namespace: route.namespace, match } as Watcher;
        for (const ev of events) {
          if (`${ev.resource.group}/${ev.resource.resource}` !== key) continue;
          const seen = hub.seen(probe, ev);
          if (seen) replay.push({ type: seen, obj: ev.object, ev: seen === ev.type ? ev : undefined });
        }
      }
    }

    req.socket.setNoDelay(true);
    res.writeHead(200, { "Content-Type": table ? `${JSON_CT};as=Table;v=v1;g=meta.k8s.io` : JSON_CT, "Transfer-Encoding": "chunked", "Cache-Control": "no-cache" });
    if (expired !== undefined) {
      // Like the real API server: 200, one ERROR event carrying a 410 Status, then close. client-node's
      // informer (and client-go's reflector) answer that with a relist.
      const status = new ApiError(410, "Expired", `too old resource version: ${expired} (${store.currentRV()})`).status();
      res.end(`{"type":"ERROR","object":${JSON.stringify(status)}}\n`);
      return;
    }
    res.flushHeaders(); // clients wait for the headers before reading events
    const w: Watcher = {
      typeKey: `${type.group}/${type.resource}`,
      namespace: route.namespace,
      match,
      res,
      render,
      timers: [],
      lastRv: rvParam ? Number(rvParam) || store.currentRV() : store.currentRV(),
      closed: false,
    };
    for (const r of replay) {
      hub.write(w, render(r.type, r.obj, r.ev));
      w.lastRv = Number(r.obj.metadata.resourceVersion) || w.lastRv;
    }
    if (initial) w.lastRv = store.currentRV();
    if (sendInitial) hub.write(w, `{"type":"BOOKMARK","object":${JSON.stringify(bookmarkObject(type, store.currentRV(), true))}}\n`);
    if (w.closed) return;
    hub.add(w);
    res.on("close", () => hub.end(w));
    if (timeoutSeconds !== undefined && timeoutSeconds > 0) {
      w.timers.push(setTimeout(() => hub.end(w), timeoutSeconds * 1000));
    }
    if (bookmarks) {
      w.timers.push(
        setInterval(() => {
          // A bookmark at the global RV is safe: everything up to it that matches was delivered.
          w.lastRv = store.currentRV();
          hub.write(w, `{"type":"BOOKMARK","object":${JSON.stringify(bookmarkObject(type, w.lastRv))}}\n`);
        }, bookmarkMs),
      );
    }
  }

  // --- writes -------------------------------------------------------------------------------------

  async function bodyObject(req: IncomingMessage): Promise<KubeObject> {
    const ct = (req.headers["content-type"] ?? "").toLowerCase();
    const raw = await readBodyBytes(req);
    const text = raw.toString("utf8");
    let obj: unknown;
    if (ct.startsWith(PROTOBUF_CT)) obj = decodeProtobufObject(raw);
    else if (/yaml/.test(ct)) {
      try {
        obj = parseYaml(text);
      } catch (err) {
        throw badRequest(`error decoding YAML: ${(err as Error).message}`, err);
      }
    } else obj = parseJson(text);
    if (typeof obj !== "object" || obj === null || Array.isArray(obj)) throw badRequest("request body must be a JSON object");
    const o = obj as KubeObject;
    o.metadata ??= {} as KubeObject["metadata"];
    return o;
  }

  function checkKind(type: ResourceType, obj: KubeObject): void {
    if (obj.kind && obj.kind !== type.kind) {
      throw badRequest(`the API version in the data (${obj.apiVersion}) does not match the expected API version (${apiVersionOf(type)}) or kind ${obj.kind} does not match ${type.kind}`);
    }
  }

  async function handleCreate(req: IncomingMessage, res: ServerResponse, route: Route): Promise<void> {
    const { type } = route;
    const obj = await bodyObject(req);
    checkKind(type, obj);
    if (type.namespaced) {
      if (route.namespace === undefined) throw methodNotAllowed(`create is not supported on all namespaces for ${type.resource}`);
      if (obj.metadata.namespace && obj.metadata.namespace !== route.namespace) {
        throw badRequest("the namespace of the provided object does not match the namespace sent on the request");
      }
      obj.metadata.namespace = route.namespace;
    }
    const created = store.create(type, obj);
    sendObject(req, res, type, created, 201);
  }

  /** Writes the main resource: status is owned by the /status subresource when the type has one. */
  function writeMain(type: ResourceType, prev: KubeObject, next: KubeObject): KubeObject {
    if (type.subresources.includes("status")) {
      if (prev.status === undefined) delete next.status;
      else next.status = prev.status;
    }
    return store.update(type, next);
  }

  function checkIdentity(route: Route, obj: KubeObject): void {
    if (obj.metadata.name && obj.metadata.name !== route.name) {
      throw badRequest(`the name of the object (${obj.metadata.name}) does not match the name on the URL (${route.name})`);
    }
    obj.metadata.name = route.name!;
    if (route.type.namespaced) {
      if (obj.metadata.namespace && obj.metadata.namespace !== route.namespace) {
        throw badRequest("the namespace of the provided object does not match the namespace sent on the request");
      }
      obj.metadata.namespace = route.namespace;
    }
  }

  async function handleUpdate(req: IncomingMessage, res: ServerResponse, route: Route): Promise<void> {
    const { type } = route;
    const obj = await bodyObject(req);
    if (route.sub === "scale") {
      const cur = mustGet(route);
      const replicas = (obj.spec as { replicas?: number } | undefined)?.replicas;
      if (typeof replicas !== "number") throw invalid("Scale", route.name!, "spec.replicas: Required value");
      const want = obj.metadata.resourceVersion;
      const next = structuredClone(cur);
      next.spec = { ...(next.spec as object), replicas };
      if (want) next.metadata.resourceVersion = want;
      sendObject(req, res, type, toScale(store.update(type, next)));
      return;
    }
    checkKind(type, obj);
    checkIdentity(route, obj);
    if (route.sub === "status") {
      send(res, 200, view(type, store.updateStatus(type, obj)));
      return;
    }
    const prev = mustGet(route);
    send(res, 200, view(type, writeMain(type, prev, obj)));
  }

  function applyPatch(contentType: string, cur: unknown, body: string): unknown {
    if (contentType.startsWith("application/json-patch+json")) return jsonPatch(cur, parseJson(body));
    if (contentType.startsWith("application/merge-patch+json")) return mergePatch(cur, parseJson(body));
    if (contentType.startsWith("application/strategic-merge-patch+json")) return strategicMergePatch(cur, parseJson(body));
    if (contentType.startsWith("application/apply-patch+yaml")) {
      let applied: unknown;
      try {
        applied = parseYaml(body);
      } catch (err) {
        throw badRequest(`error decoding YAML: ${(err as Error).message}`, err);
      }
      return strategicMergePatch(cur, applied);
    }
    throw new ApiError(415, "UnsupportedMediaType", `the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml, application/strategic-merge-patch+json`);
  }

  async function handlePatch(req: IncomingMessage, res: ServerResponse, route: Route): Promise<void> {
    const { type } = route;
    const ct = (req.headers["content-type"] ?? "").toLowerCase();
    const body = await readBody(req);
    const cur = getShared(type, route.namespace, route.name!);
    if (!cur) {
      if (ct.startsWith("application/apply-patch+yaml") && route.sub === undefined) {
        // Server-side apply creates what does not exist yet.
        const obj = applyPatch(ct, {}, body) as KubeObject;
        if (typeof obj !== "object" || obj === null) throw badRequest("apply patch must be an object");
        obj.metadata ??= {} as KubeObject["metadata"];
        checkKind(type, obj);
        checkIdentity(route, obj);
        delete obj.status;
        sendObject(req, res, type, store.create(type, obj), 201);
        return;
      }
      throw notFound(type.group, type.resource, route.name!);
    }
    if (route.sub === "scale") {
      const scale = applyPatch(ct, toScale(cur), body) as KubeObject;
      const replicas = (scale.spec as { replicas?: number } | undefined)?.replicas;
      if (typeof replicas !== "number") throw invalid("Scale", route.name!, "spec.replicas: Required value");
      const next = structuredClone(cur);
      next.spec = { ...(next.spec as object), replicas };
      next.metadata.resourceVersion = scale.metadata?.resourceVersion ?? cur.metadata.resourceVersion;
      send(res, 200, toScale(store.update(type, next)));
      return;
    }
    const patched = applyPatch(ct, structuredClone(cur), body) as KubeObject;
    if (typeof patched !== "object" || patched === null || typeof patched.metadata !== "object") {
      throw invalid(type.kind, route.name!, "the patch produced an invalid object");
    }
    // A resourceVersion in the patch is a precondition; otherwise the patch applies to what we read.
    patched.metadata.resourceVersion ??= cur.metadata.resourceVersion;
    patched.metadata.name = cur.metadata.name;
    if (route.sub === "status") {
      send(res, 200, view(type, store.updateStatus(type, patched)));
      return;
    }
    send(res, 200, view(type, writeMain(type, cur, patched)));
  }

  async function deleteOptions(req: IncomingMessage, q: URLSearchParams): Promise<DeleteOptions> {
    const text = await readBody(req);
    const o: DeleteOptions = {};
    if (text.trim()) {
      const b = parseJson(text) as { gracePeriodSeconds?: number; propagationPolicy?: string; orphanDependents?: boolean };
      if (typeof b.gracePeriodSeconds === "number") o.gracePeriodSeconds = b.gracePeriodSeconds;
      if (b.propagationPolicy) o.propagationPolicy = b.propagationPolicy as DeleteOptions["propagationPolicy"];
      if (b.orphanDependents === true && !o.propagationPolicy) o.propagationPolicy = "Orphan";
    }
    const g = intParam(q, "gracePeriodSeconds");
    if (g !== undefined) o.gracePeriodSeconds = g;
    const p = q.get("propagationPolicy");
    if (p) o.propagationPolicy = p as DeleteOptions["propagationPolicy"];
    if (o.propagationPolicy && !["Foreground", "Background", "Orphan"].includes(o.propagationPolicy)) {
      throw badRequest(`propagationPolicy: Unsupported value: "${o.propagationPolicy}"`);
    }
    return o;
  }

  async function handleDelete(req: IncomingMessage, res: ServerResponse, route: Route, q: URLSearchParams): Promise<void> {
    const { type } = route;
    const opts = await deleteOptions(req, q);
    const obj = store.delete(type, route.namespace, route.name!, opts);
    const still = getShared(type, route.namespace, route.name!);
    if (still && still.metadata.uid === obj.metadata.uid) return sendObject(req, res, type, still, 202);
    // Like the real registry: pods return the deleted object, other types a Success Status naming the uid.
    if (type.group === "" && type.resource === "pods") return sendObject(req, res, type, obj);
    send(res, 200, {
      kind: "Status",
      apiVersion: "v1",
      metadata: {},
      status: "Success",
      details: { name: obj.metadata.name, group: type.group, kind: type.resource, uid: obj.metadata.uid },
    });
  }

  async function handleDeleteCollection(req: IncomingMessage, res: ServerResponse, route: Route, q: URLSearchParams): Promise<void> {
    const { type } = route;
    const opts = await deleteOptions(req, q);
    const items: KubeObject[] = [];
    for (const o of [...selected(route, q)]) {
      if (!getShared(type, o.metadata.namespace, o.metadata.name)) continue; // already collected as a dependent
      items.push(view(type, store.delete(type, o.metadata.namespace, o.metadata.name, opts)));
    }
    send(res, 200, { kind: type.listKind, apiVersion: apiVersionOf(type), metadata: { resourceVersion: String(store.currentRV()) }, items });
  }

  // --- logs ---------------------------------------------------------------------------------------

  function handleLogs(req: IncomingMessage, res: ServerResponse, route: Route, q: URLSearchParams): void {
    if (!opts.logs) throw new ApiError(404, "NotFound", `the server could not find the requested resource ( pods/log ${route.name})`);
    const query: LogQuery = {
      follow: boolParam(q.get("follow")),
      previous: boolParam(q.get("previous")),
      timestamps: boolParam(q.get("timestamps")),
    };
    const c = q.get("container");
    if (c) query.container = c;
    const sinceSeconds = intParam(q, "sinceSeconds");
    if (sinceSeconds !== undefined) query.sinceSeconds = sinceSeconds;
    const sinceTime = q.get("sinceTime");
    if (sinceTime) query.sinceTime = sinceTime;
    const tailLines = intParam(q, "tailLines");
    if (tailLines !== undefined) query.tailLines = tailLines;
    const limitBytes = intParam(q, "limitBytes");
    if (limitBytes !== undefined) query.limitBytes = limitBytes;
    const ac = new AbortController();
    logAborts.add(ac);
    // The signal tells the provider the client went away (or the server stops), not that it finished.
    const done = () => {
      logAborts.delete(ac);
      if (!res.writableFinished && !ac.signal.aborted) ac.abort();
    };
    res.on("close", done);
    req.socket.setNoDelay(true);
    opts.logs.serveLogs(route.namespace ?? "default", route.name!, query, res, ac.signal);
  }

  // --- authorization and tokens -------------------------------------------------------------------

  /** SelfSubjectAccessReview and SelfSubjectRulesReview (authorization.k8s.io/v1), answered from RBAC. */
  async function handleReview(req: IncomingMessage, res: ServerResponse, route: Route, subject: Subject): Promise<void> {
    if (req.method !== "POST" || route.name !== undefined) throw methodNotAllowed(`${req.method ?? "GET"} is not supported on ${route.type.resource}`);
    const obj = await bodyObject(req);
    checkKind(route.type, obj);
    const spec = (obj.spec ?? {}) as {
      namespace?: string;
      resourceAttributes?: { namespace?: string; verb?: string; group?: string; resource?: string; subresource?: string; name?: string };
      nonResourceAttributes?: { path?: string; verb?: string };
    };
    const out = { kind: route.type.kind, apiVersion: "authorization.k8s.io/v1", metadata: { creationTimestamp: null }, spec: obj.spec ?? {} };
    if (route.type.resource === "selfsubjectrulesreviews") {
      const ns = spec.namespace ?? "";
      const resourceRules = authorizer.rules(subject, ns).filter((r) => r.resources?.length).map((r) => ({
        verbs: r.verbs ?? [],
        apiGroups: r.apiGroups ?? [],
        resources: r.resources ?? [],
        ...(r.resourceNames?.length ? { resourceNames: r.resourceNames } : {}),
      }));
      const nonResourceRules = [{ verbs: ["get"], nonResourceURLs: ["/api", "/api/*", "/apis", "/apis/*", "/healthz", "/livez", "/readyz", "/openapi", "/openapi/*", "/version", "/version/"] }];
      return send(res, 201, { ...out, status: { resourceRules, nonResourceRules, incomplete: false } });
    }
    const ra = spec.resourceAttributes;
    if (!ra) {
      // Non-resource URLs: what every authenticated subject may read (see handle()).
      const allowed = subject.kind === "admin" || spec.nonResourceAttributes?.verb === "get";
      return send(res, 201, { ...out, status: { allowed } });
    }
    const attrs: RequestAttributes = {
      verb: ra.verb ?? "",
      group: ra.group ?? "",
      resource: ra.resource ?? "",
      subresource: ra.subresource || undefined,
      namespace: ra.namespace || undefined,
      name: ra.name || undefined,
    };
    const d = authorizer.authorize(subject, attrs);
    return send(res, 201, { ...out, status: { allowed: d.allowed, ...(d.reason ? { reason: d.reason } : {}) } });
  }

  /** TokenRequest (`kubectl create token SA`): a bearer token for an existing service account. */
  async function handleTokenRequest(req: IncomingMessage, res: ServerResponse, route: Route): Promise<void> {
    const obj = await bodyObject(req);
    mustGet(route);
    const spec = (obj.spec ?? {}) as { audiences?: string[]; expirationSeconds?: number };
    const expirationSeconds = spec.expirationSeconds ?? 3600;
    send(res, 201, {
      kind: "TokenRequest",
      apiVersion: "authentication.k8s.io/v1",
      metadata: { name: route.name, namespace: route.namespace, creationTimestamp: null },
      spec: { audiences: spec.audiences ?? [], expirationSeconds },
      // Tokens are valid for the server's lifetime; the expiration is reported, not enforced.
      status: { token: tokens.serviceAccountToken(route.namespace!, route.name!), expirationTimestamp: new Date(nowMs() + expirationSeconds * 1000).toISOString().replace(/\.\d+Z$/, "Z") },
    });
  }

  // --- dispatch -----------------------------------------------------------------------------------

  /** The RBAC verb of a request (kube-apiserver's RequestInfo). */
  function verbOf(method: string, route: Route, watch: boolean): string {
    if (method === "GET" || method === "HEAD") return watch ? "watch" : route.name === undefined ? "list" : "get";
    if (method === "POST") return "create";
    if (method === "PUT") return "update";
    if (method === "PATCH") return "patch";
    if (method === "DELETE") return route.name === undefined ? "deletecollection" : "delete";
    return method.toLowerCase();
  }

  async function handleResource(req: IncomingMessage, res: ServerResponse, route: Route, q: URLSearchParams, subject: Subject): Promise<void> {
    const method = req.method ?? "GET";
    const watch = route.watchPrefix || boolParam(q.get("watch"));
    if (route.type.group === "authorization.k8s.io") return handleReview(req, res, route, subject);
    const attrs: RequestAttributes = {
      verb: verbOf(method, route, watch),
      group: route.type.group,
      resource: route.type.resource,
      subresource: route.sub,
      namespace: route.namespace,
      name: route.name,
    };
    if (!authorizer.authorize(subject, attrs).allowed) {
      const err = forbidden(subject, attrs);
      if (denied.length < 10_000) denied.push({ attributes: attrs, message: err.message });
      throw err;
    }
    if (route.sub === "token") {
      if (method !== "POST") throw methodNotAllowed(`${method} is not supported on serviceaccounts/token`);
      return handleTokenRequest(req, res, route);
    }
    if (q.get("dryRun") && method !== "GET") {
      // Refused rather than ignored: a dry run that writes would be worse than an error.
      throw badRequest("dryRun is not supported by kube-sim");
    }
    if (route.sub === "log") {
      if (method !== "GET") throw methodNotAllowed(`${method} is not supported on pods/log`);
      return handleLogs(req, res, route, q);
    }
    if (route.name === undefined) {
      if (method === "GET") return watch ? handleWatch(req, res, route, q) : handleList(req, res, route, q);
      if (method === "POST") return handleCreate(req, res, route);
      if (method === "DELETE") return handleDeleteCollection(req, res, route, q);
      throw methodNotAllowed(`${method} is not supported on a collection`);
    }
    switch (method) {
      case "GET":
        if (watch) return handleWatch(req, res, route, q);
        if (route.sub === "scale") return send(res, 200, toScale(mustGet(route)));
        return sendObject(req, res, route.type, mustGet(route));
      case "PUT":
        return handleUpdate(req, res, route);
      case "PATCH":
        return handlePatch(req, res, route);
      case "DELETE":
        if (route.sub) throw methodNotAllowed(`DELETE is not supported on ${route.sub}`);
        return handleDelete(req, res, route, q);
      default:
        throw methodNotAllowed(`${method} is not supported`);
    }
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", "http://sim");
    const path = url.pathname.replace(/\/+$/, "") || "/";
    const q = url.searchParams;
    const accept = req.headers.accept;
    const get = req.method === "GET" || req.method === "HEAD";
    const types = () => store.types();

    if (get && (path === "/healthz" || path === "/readyz" || path === "/livez")) return send(res, 200, "ok", "text/plain; charset=utf-8");
    // Every authenticated subject may read discovery, /version and OpenAPI (the default system:discovery
    // and system:public-info-viewer bindings of a real cluster); resources go through RBAC below.
    const subject = tokens.authenticate(req.headers.authorization);
    if (get && path === "/version") {
      return send(res, 200, { ...version, gitCommit: "kube-sim", gitTreeState: "clean", buildDate: "2026-01-01T00:00:00Z", goVersion: "go1.23", compiler: "gc", platform: "linux/amd64" });
    }
    if (get && (path === "/api" || path === "/apis")) {
      const dv = discoveryVersion(accept);
      if (dv) {
        return send(res, 200, aggregatedDiscovery(types(), path === "/api", `apidiscovery.k8s.io/${dv}`), `application/json;g=apidiscovery.k8s.io;v=${dv};as=APIGroupDiscoveryList`);
      }
      return send(res, 200, path === "/api" ? apiVersions() : apiGroupList(types()));
    }
    if (get && (path === "/openapi/v3" || path.startsWith("/openapi/v3/"))) {
      const doc = openapiV3(types(), path.slice("/openapi/v3".length));
      if (!doc) throw new ApiError(404, "NotFound", "the server could not find the requested resource");
      return send(res, 200, doc);
    }

    const segs = path.split("/").filter((s) => s.length > 0).map(decodeURIComponent);
    if (segs[0] === "api" && segs.length >= 2) {
      if (segs.length === 2) {
        const doc = get ? apiResourceList(types(), "", segs[1]!) : undefined;
        if (!doc) throw new ApiError(404, "NotFound", "the server could not find the requested resource");
        return send(res, 200, doc);
      }
      return handleResource(req, res, parseRoute("", segs[1]!, segs.slice(2)), q, subject);
    }
    if (segs[0] === "apis" && segs.length >= 2) {
      if (segs.length === 2) {
        const doc = get ? apiGroup(types(), segs[1]!) : undefined;
        if (!doc) throw new ApiError(404, "NotFound", "the server could not find the requested resource");
        return send(res, 200, doc);
      }
      if (segs.length === 3) {
        const doc = get ? apiResourceList(types(), segs[1]!, segs[2]!) : undefined;
        if (!doc) throw new ApiError(404, "NotFound", "the server could not find the requested resource");
        return send(res, 200, doc);
      }
      return handleResource(req, res, parseRoute(segs[1]!, segs[2]!, segs.slice(3)), q, subject);
    }
    throw new ApiError(404, "NotFound", "the server could not find the requested resource");
  }

  const onRequest = (req: IncomingMessage, res: ServerResponse) => {
    handle(req, res).catch((err: unknown) => {
      if (err instanceof ApiError) return sendError(res, err);
      console.error("kube-sim api: request failed", req.method, req.url, err);
      sendError(res, new ApiError(500, "InternalError", `Internal error occurred: ${(err as Error)?.message ?? String(err)}`, undefined, { cause: err }));
    });
  };
  const plain = http.createServer(onRequest);
  // TLS on the same port: kubectl sends bearer tokens only over https, so service-account kubeconfigs
  // use https://; the certificate is the simulator's fixed, public test identity (clients skip verification).
  const secure = https.createServer(
    {
      cert: fs.readFileSync(new URL("./tls-cert.pem", import.meta.url)),
      key: fs.readFileSync(new URL("./tls-key.pem", import.meta.url)),
    },
    onRequest,
  );
  plain.keepAliveTimeout = 65_000;
  secure.keepAliveTimeout = 65_000;
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    socket.once("data", (first: Buffer) => {
      socket.pause();
      if (first[0] !== 0x16) {
        socket.unshift(first);
        plain.emit("connection", socket);
        socket.resume();
        return;
      }
      // 0x16: a TLS handshake record. TLS reads a bare socket's handle directly (past anything unshifted),
      // so it gets a stream that replays the first chunk and then relays the socket.
      const relay = new Duplex({
        read: () => socket.resume(),
        write: (chunk: Buffer, _enc, cb) => socket.write(chunk, cb),
        final: (cb) => socket.end(cb),
        destroy: (err, cb) => {
          socket.destroy();
          cb(err);
        },
      });
      socket.on("data", (d: Buffer) => {
        if (!relay.push(d)) socket.pause();
      });
      socket.on("end", () => relay.push(null));
      socket.on("close", () => relay.destroy());
      socket.on("error", (err) => relay.destroy(err));
      relay.push(first);
      secure.emit("connection", relay);
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.port ?? 0, opts.host ?? "127.0.0.1", () => {
      server.off("error", reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const host = opts.host ?? "127.0.0.1";

  return {
    url: `http://${host.includes(":") ? `[${host}]` : host}:${port}`,
    httpsUrl: `https://${host.includes(":") ? `[${host}]` : host}:${port}`,
    port,
    forceCloseWatches: () => hub.endAll(),
    serviceAccountToken: (namespace, name) => tokens.serviceAccountToken(namespace, name),
    denials: () => denied,
    watchCount: () => hub.count(),
    async close() {
      if (closed) return;
      closed = true;
      unsubscribe();
      offTypes?.();
      hub.endAll();
      for (const ac of [...logAborts]) ac.abort();
      logAborts.clear();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        plain.closeAllConnections();
        secure.closeAllConnections();
        for (const s of sockets) s.destroy();
      });
    },
  };
}
