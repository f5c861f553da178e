// ResilientWatch: list+watch of one resource type (one namespace, all namespaces or cluster-scoped)
// that never silently stops — resumes from the last resourceVersion, relists on 410 with a diff
// against what it already delivered, backs off on errors, and aborts watches that go quiet.
import { backoffDelay, sleep, type BackoffOptions } from "@faro/primitives";
import type { KubeAccess } from "./config.js";
import { pino, type Logger } from "pino";
import type { Registry } from "prom-client";
import type { ResourceInfo } from "./discovery.js";
import { resourceName } from "./discovery.js";
import { KubeApiError } from "./errors.js";
import { errorFromResponse, openRequest, requestJson } from "./http.js";
import { LineSplitter } from "./lines.js";
import { kubeMetrics, type KubeMetrics } from "./metrics.js";
import { stripSecretValues } from "./normalize.js";

export interface ObjectMetaLike {
  name: string;
  namespace?: string;
  uid: string;
  resourceVersion: string;
  [k: string]: unknown;
}

export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: ObjectMetaLike;
  [k: string]: unknown;
}

export type WatchEventType = "ADDED" | "MODIFIED" | "DELETED";

export interface WatchEvent {
  type: WatchEventType;
  object: KubeObject;
  /** "list": initial list; "relist": diff after a 410 or an error; "watch": live event. */
  origin: "list" | "relist" | "watch";
  /**
   * True for a DELETED derived from a relist (the object vanished while no watch was open): the
   * object is the last known one (or a stub with identity only) and keeps its last known RV.
   */
  synthetic?: boolean;
}

/** What the watch remembers per uid. */
export interface KnownObject {
  resourceVersion: string;
  name?: string;
  namespace?: string;
}

export type ResourceRef = Pick<ResourceInfo, "group" | "version" | "resource" | "kind" | "apiVersion" | "namespaced">;

export interface ResilientWatchOptions {
  resource: ResourceRef;
  /** Namespace to watch; absent → all namespaces (or the cluster for cluster-scoped types). */
  namespace?: string;
  labelSelector?: string;
  fieldSelector?: string;
  /** Awaited for each event; progress (resourceVersion, known state) advances only after it resolves. */
  onEvent: (event: WatchEvent) => void | Promise<void>;
  /**
   * Awaited for a watch event whose object has no metadata.uid (it cannot be tracked or deduplicated), which
   * is then skipped; the watch goes on. Without it such an event restarts the watch, which sees it again.
   */
  onMalformed?: (event: WatchEvent, reason: string) => void | Promise<void>;
  /** uid → resourceVersion already delivered in an earlier life: unchanged objects are not re-emitted. */
  initialState?: Iterable<[string, string | KnownObject]> | Record<string, string>;
  /** Keep the last object per uid to deliver it with relist DELETEDs (costs memory). Default true. */
  retainObjects?: boolean;
  /** Page size of lists. Default 500. */
  pageSize?: number;
  /** Server-side watch timeout. Default 300. */
  timeoutSeconds?: number;
  /** Abort and re-watch when no event/bookmark arrives for this long. Default 120000. */
  watchdogMs?: number;
  /** Retry delays after errors and quick closes. Default base 250 ms, max 30 s, jitter 0.5. */
  backoff?: Partial<BackoffOptions>;
  logger?: Logger;
  registry?: Registry;
}

interface ListResponse {
  metadata?: { resourceVersion?: string; continue?: string };
  items?: KubeObject[];
}

interface RawEvent {
  type?: string;
  object?: KubeObject & { code?: number; reason?: string; message?: string };
}

/** Wraps an error thrown by the caller's onEvent so the loop can tell it from API failures. */
class HandlerFailure extends Error {
  override readonly name = "HandlerFailure";
}

/** A watch response line that is not JSON: the stream is no longer trustworthy. */
class ProtocolFailure extends Error {
  override readonly name = "ProtocolFailure";
}

export function resourcePath(r: ResourceRef, namespace?: string): string {
  const base = r.group ? `/apis/${r.group}/${r.version}` : `/api/${r.version}`;
  return r.namespaced && namespace ? `${base}/namespaces/${encodeURIComponent(namespace)}/${r.resource}` : `${base}/${r.resource}`;
}

function isExpired(err: unknown): boolean {
  return err instanceof KubeApiError && err.expired;
}

export class ResilientWatch {
  readonly resource: ResourceRef;
  readonly namespace: string | undefined;
  /** Resolves true once the initial list has been delivered, false if stopped before that. */
  readonly synced: Promise<boolean>;

  private readonly kc: KubeAccess;
  private readonly opts: ResilientWatchOptions;
  private readonly log: Logger;
  private readonly metrics: KubeMetrics | undefined;
  private readonly label: string;
  private readonly path: string;
  private readonly known = new Map<string, KnownObject>();
  private readonly objects = new Map<string, KubeObject>();
  private rv: string | undefined;
  private isSyncedFlag = false;
  private resolveSynced!: (v: boolean) => void;
  private stopped = false;
  private running: Promise<void> | undefined;
  private stopping: Promise<void> | undefined;
  private current: AbortController | undefined;
  /** Aborted by stop(): ends a retry delay at once. */
  private readonly halt = new AbortController();

  constructor(kc: KubeAccess, opts: ResilientWatchOptions) {
    this.kc = kc;
    this.opts = opts;
    this.resource = opts.resource;
    this.namespace = opts.resource.namespaced ? opts.namespace : undefined;
    this.label = resourceName(opts.resource);
    this.path = resourcePath(opts.resource, this.namespace);
    this.log = (opts.logger ?? pino({ enabled: false })).child({ resource: this.label, namespace: this.namespace ?? "*" });
    this.metrics = opts.registry ? kubeMetrics(opts.registry) : undefined;
    this.synced = new Promise((r) => (this.resolveSynced = r));
    const init = opts.initialState;
    if (init) {
      const entries: Iterable<[string, string | KnownObject]> =
        Symbol.iterator in Object(init) ? (init as Iterable<[string, string | KnownObject]>) : Object.entries(init);
      for (const [uid, v] of entries) this.known.set(uid, typeof v === "string" ? { resourceVersion: v } : { ...v });
    }
  }

  /** Starts the list+watch loop (idempotent); returns this for chaining. */
  start(): this {
    if (!this.running && !this.stopped) this.running = this.run();
    return this;
  }

  get isSynced(): boolean {
    return this.isSyncedFlag;
  }

  /** The last resourceVersion delivered (list RV, event RV or bookmark). */
  get resourceVersion(): string | undefined {
    return this.rv;
  }

  /** uid → resourceVersion of every object delivered and not deleted (persist it for restarts). */
  state(): ReadonlyMap<string, string> {
    return new Map([...this.known].map(([uid, k]) => [uid, k.resourceVersion]));
  }

  /** uid → what is known (RV, name, namespace): richer than state(), also accepted as initialState. */
  snapshot(): ReadonlyMap<string, KnownObject> {
    return new Map([...this.known].map(([uid, k]) => [uid, { ...k }]));
  }

  get size(): number {
    return this.known.size;
  }

  /** Stops the loop, aborts open requests and waits for the in-flight handler. Idempotent. */
  stop(): Promise<void> {
    if (!this.stopping) {
      this.stopped = true;
      this.current?.abort();
      this.halt.abort();
      this.stopping = (this.running ?? Promise.resolve()).then(() => {
        this.resolveSynced(this.isSyncedFlag);
      });
    }
    return this.stopping;
  }

  private backoffMs(attempt: number): number {
    const b = this.opts.backoff;
    return backoffDelay(attempt, { baseMs: b?.baseMs ?? 250, maxMs: b?.maxMs ?? 30_000, jitter: b?.jitter ?? 0.5 });
  }

  private async run(): Promise<void> {
    let needList = true;
    let listReason = "initial";
    let failures = 0;
    let quickCloses = 0;
    while (!this.stopped) {
      const ac = new AbortController();
      this.current = ac;
      try {
        if (needList) {
          this.metrics?.relists.inc({ resource: this.label, reason: listReason });
          await this.listAndDiff(ac.signal, listReason === "initial" && this.known.size === 0 ? "list" : "relist");
          needList = false;
          failures = 0;
          if (!this.isSyncedFlag) {
            this.isSyncedFlag = true;
            this.resolveSynced(true);
            this.log.debug({ objects: this.known.size, resourceVersion: this.rv }, "initial list synced");
          }
        }
        const started = Date.now();
        const outcome = await this.watchOnce(ac);
        if (this.stopped) break;
        this.metrics?.watchRestarts.inc({ resource: this.label, reason: outcome.reason });
        failures = 0;
        // A server that closes every watch at once would make this loop spin: back off then.
        if (outcome.reason === "closed" && outcome.events === 0 && Date.now() - started < 1000) {
          quickCloses++;
          if (quickCloses >= 2) await sleep(this.backoffMs(quickCloses - 1), this.halt.signal);
        } else quickCloses = 0;
      } catch (err) {
        if (this.stopped) break;
        if (isExpired(err)) {
          this.log.info({ resourceVersion: this.rv, err: (err as Error).message }, "resourceVersion expired; relisting");
          this.metrics?.watchRestarts.inc({ resource: this.label, reason: "expired" });
          needList = true;
          listReason = "expired";
          // a 410 right after a relist would mean the list RV is already gone: do not spin
          failures++;
          if (failures > 1) await sleep(this.backoffMs(failures - 1), this.halt.signal);
          continue;
        }
        failures++;
        const reason = err instanceof HandlerFailure ? "handler" : "error";
        if (needList && listReason !== "initial") listReason = reason;
        this.metrics?.watchRestarts.inc({ resource: this.label, reason });
        const delay = this.backoffMs(failures);
        this.log.warn({ err, attempt: failures, delayMs: delay, resourceVersion: this.rv }, `watch ${reason} failure; retrying`);
        await sleep(delay, this.halt.signal);
      } finally {
        this.current = undefined;
      }
    }
  }

  private prepare(obj: KubeObject): KubeObject {
    // Objects here come straight from JSON.parse (no Dates, no undefined), so a shallow rebuild is
    // enough: kind/apiVersion first (real list items carry neither), managedFields dropped. The
    // same function serves list and watch, so both produce byte-identical JSON for one object.
    const { managedFields: _drop, ...metadata } = obj.metadata ?? ({} as ObjectMetaLike);
    const o = {
      kind: this.resource.kind,
      apiVersion: this.resource.apiVersion,
      ...(obj as Record<string, unknown>),
      metadata: metadata as ObjectMetaLike,
    } as KubeObject;
    if (!o.kind) o.kind = this.resource.kind;
    if (!o.apiVersion) o.apiVersion = this.resource.apiVersion;
    return stripSecretValues(o);
  }

  private async deliver(ev: WatchEvent): Promise<void> {
    try {
      await this.opts.onEvent(ev);
    } catch (err) {
      throw new HandlerFailure(`event handler failed on ${ev.type} ${ev.object.metadata.namespace ?? ""}/${ev.object.metadata.name}: ${(err as Error)?.message}`, { cause: err });
    }
    this.metrics?.watchEvents.inc({ resource: this.label, type: ev.type });
    const m = ev.object.metadata;
    if (ev.type === "DELETED") {
      this.known.delete(m.uid);
      this.objects.delete(m.uid);
    } else {
      this.known.set(m.uid, { resourceVersion: m.resourceVersion, name: m.name, namespace: m.namespace });
      if (this.opts.retainObjects !== false) this.objects.set(m.uid, ev.object);
    }
  }

  /** Lists page by page; emits ADDED/MODIFIED for new/changed objects, then DELETED for vanished ones. */
  private async listAndDiff(signal: AbortSignal, origin: "list" | "relist"): Promise<void> {
    const seen = new Set<string>();
    let cont: string | undefined;
    let listRv: string | undefined;
    do {
      const page = await requestJson<ListResponse>(this.kc, {
        path: this.path,
        query: { limit: this.opts.pageSize ?? 500, continue: cont, labelSelector: this.opts.labelSelector, fieldSelector: this.opts.fieldSelector },
        signal,
      });
      listRv = page.metadata?.resourceVersion ?? listRv;
      cont = page.metadata?.continue || undefined;
      for (const raw of page.items ?? []) {
        const obj = this.prepare(raw);
        const uid = obj.metadata.uid;
        seen.add(uid);
        const k = this.known.get(uid);
        if (k && k.resourceVersion === obj.metadata.resourceVersion) {
          if (this.opts.retainObjects !== false && !this.objects.has(uid)) this.objects.set(uid, obj);
          continue;
        }
        await this.deliver({ type: k ? "MODIFIED" : "ADDED", object: obj, origin });
        if (this.stopped) return;
      }
    } while (cont);
    for (const [uid, k] of [...this.known]) {
      if (seen.has(uid)) continue;
      const object: KubeObject = this.objects.get(uid) ?? {
        apiVersion: this.resource.apiVersion,
        kind: this.resource.kind,
        metadata: {
          uid,
          name: k.name ?? "",
          resourceVersion: k.resourceVersion,
          ...(k.namespace ?? this.namespace ? { namespace: k.namespace ?? this.namespace } : {}),
        },
      };
      await this.deliver({ type: "DELETED", object, origin, synthetic: true });
      if (this.stopped) return;
    }
    this.rv = listRv;
  }

  private async watchOnce(ac: AbortController): Promise<{ reason: "closed" | "watchdog"; events: number }> {
    const watchdogMs = this.opts.watchdogMs ?? 120_000;
    let last = Date.now();
    let inHandler = false;
    let fired = false;
    let timer: NodeJS.Timeout | undefined;
    const arm = (ms: number) => {
      timer = setTimeout(() => {
        const idle = Date.now() - last;
        if (inHandler || idle < watchdogMs) return arm(inHandler ? watchdogMs : watchdogMs - idle);
        fired = true;
        this.log.warn({ idleMs: idle, resourceVersion: this.rv }, "watch went quiet; re-watching");
        ac.abort();
      }, ms);
      timer.unref?.();
    };
    // armed before the request: a server that never answers is as dead as one that stops sending
    arm(watchdogMs);
    let res: Awaited<ReturnType<typeof openRequest>>;
    try {
      res = await openRequest(this.kc, {
        path: this.path,
        query: {
          watch: true,
          resourceVersion: this.rv,
          allowWatchBookmarks: true,
          timeoutSeconds: this.opts.timeoutSeconds ?? 300,
          labelSelector: this.opts.labelSelector,
          fieldSelector: this.opts.fieldSelector,
        },
        signal: ac.signal,
      });
      if (res.statusCode !== 200) throw await errorFromResponse(res, this.path);
    } catch (err) {
      clearTimeout(timer);
      if (fired && !this.stopped) return { reason: "watchdog", events: 0 };
      throw err;
    }
    this.metrics?.watchesActive.inc({ resource: this.label });
    let events = 0;
    const splitter = new LineSplitter(64 * 1024 * 1024);
    const lines: Buffer[] = [];
    try {
      for await (const chunk of res) {
        last = Date.now();
        splitter.push(chunk as Buffer, (l) => lines.push(l));
        for (const line of lines.splice(0)) {
          if (line.length === 0) continue;
          events++;
          inHandler = true;
          try {
            await this.handleLine(line);
          } finally {
            inHandler = false;
            last = Date.now();
          }
          if (this.stopped) return { reason: "closed", events };
        }
      }
      // an aborted response may just end instead of throwing
      return { reason: fired && !this.stopped ? "watchdog" : "closed", events };
    } catch (err) {
      if (fired && !this.stopped) return { reason: "watchdog", events };
      if (this.stopped) return { reason: "closed", events };
      throw err;
    } finally {
      clearTimeout(timer);
      this.metrics?.watchesActive.dec({ resource: this.label });
      res.destroy();
    }
  }

  private async handleLine(line: Buffer): Promise<void> {
    let ev: RawEvent;
    try {
      ev = JSON.parse(line.toString("utf8")) as RawEvent;
    } catch (err) {
      throw new ProtocolFailure(`unparsable watch line (${line.length} bytes): ${(err as Error).message}`, { cause: err });
    }
    const obj = ev.object;
    switch (ev.type) {
      case "ERROR": {
        const code = obj?.code ?? 500;
        throw new KubeApiError(`${obj?.message ?? "watch error"} (${code} ${obj?.reason ?? ""}, ${this.path})`, {
          code,
          reason: obj?.reason,
          path: this.path,
          status: obj,
        });
      }
      case "BOOKMARK":
        if (obj?.metadata?.resourceVersion) this.rv = obj.metadata.resourceVersion;
        this.metrics?.watchEvents.inc({ resource: this.label, type: "BOOKMARK" });
        return;
      case "ADDED":
      case "MODIFIED":
      case "DELETED": {
        if (!obj?.metadata?.uid) {
          const reason = `watch ${ev.type} event without metadata.uid`;
          if (!this.opts.onMalformed || !obj?.metadata) throw new ProtocolFailure(reason);
          try {
            await this.opts.onMalformed({ type: ev.type, object: obj, origin: "watch" }, reason);
          } catch (err) {
            throw new HandlerFailure(`malformed-event handler failed on ${ev.type} ${obj.metadata.namespace ?? ""}/${obj.metadata.name}: ${(err as Error)?.message}`, { cause: err });
          }
          this.metrics?.watchEvents.inc({ resource: this.label, type: "MALFORMED" });
          if (obj.metadata.resourceVersion) this.rv = obj.metadata.resourceVersion;
          return;
        }
        const o = this.prepare(obj);
        const k = this.known.get(o.metadata.uid);
        // a resumed watch may repeat what was delivered already (same uid and RV): skip it
        if (ev.type !== "DELETED" && k && k.resourceVersion === o.metadata.resourceVersion) {
          this.rv = o.metadata.resourceVersion;
          return;
        }
        // a synthetic ADDED (watch from RV "0") for an object already delivered is a change, not a birth
        const type = ev.type === "ADDED" && k ? "MODIFIED" : ev.type;
        await this.deliver({ type, object: o, origin: "watch" });
        this.rv = o.metadata.resourceVersion;
        return;
      }
      default:
        this.log.warn({ type: ev.type }, "ignoring watch event of unknown type");
    }
  }
}
