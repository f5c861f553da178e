// Helpers shared by the controllers and the kubelet: resource-type lookup, names and hashes in the
// style Kubernetes uses, owner references, quantities, and a coalescing work queue.
import { createHash, randomBytes } from "node:crypto";
import type { KubeObject, OwnerReference, ResourceType, Store } from "../types.js";

/** Looks up a resource type by group and plural; throws when the store does not serve it. */
export function typeOf(store: Store, group: string, resource: string): ResourceType {
  const t = store.typeFor(group, resource);
  if (!t) throw new Error(`kube-sim: resource type ${resource}${group ? "." + group : ""} is not registered in the store`);
  return t;
}

export const T = {
  pods: (s: Store) => typeOf(s, "", "pods"),
  events: (s: Store) => typeOf(s, "", "events"),
  nodes: (s: Store) => typeOf(s, "", "nodes"),
  namespaces: (s: Store) => typeOf(s, "", "namespaces"),
  configmaps: (s: Store) => typeOf(s, "", "configmaps"),
  secrets: (s: Store) => typeOf(s, "", "secrets"),
  deployments: (s: Store) => typeOf(s, "apps", "deployments"),
  replicasets: (s: Store) => typeOf(s, "apps", "replicasets"),
  statefulsets: (s: Store) => typeOf(s, "apps", "statefulsets"),
  daemonsets: (s: Store) => typeOf(s, "apps", "daemonsets"),
  jobs: (s: Store) => typeOf(s, "batch", "jobs"),
  cronjobs: (s: Store) => typeOf(s, "batch", "cronjobs"),
};

// Kubernetes' rand.SafeEncodeString alphabet: no vowels, no confusable characters.
const SAFE = "bcdfghjklmnpqrstvwxz2456789";

/** Random suffix like the ones generateName produces (`web-7d4b9c-x2kqp`). */
export function randSuffix(n = 5): string {
  const b = randomBytes(n);
  let s = "";
  for (let i = 0; i < n; i++) s += SAFE[b[i]! % SAFE.length];
  return s;
}

/** Deterministic 10-character pod-template-hash of a pod template. */
export function templateHash(template: unknown): string {
  const h = createHash("sha256").update(stableJson(template)).digest();
  let s = "";
  for (let i = 0; i < 10; i++) s += SAFE[h[i]! % SAFE.length];
  return s;
}

function stableJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(stableJson).join(",")}]`;
  if (v && typeof v === "object") {
    const o = v as Record<string, unknown>;
    return `{${Object.keys(o)
      .sort()
      .filter((k) => o[k] !== undefined)
      .map((k) => `${JSON.stringify(k)}:${stableJson(o[k])}`)
      .join(",")}}`;
  }
  return JSON.stringify(v) ?? "null";
}

export function hex(n: number): string {
  return randomBytes(Math.ceil(n / 2)).toString("hex").slice(0, n);
}

export function clone<V>(v: V): V {
  return structuredClone(v);
}

export function ownerRef(owner: KubeObject): OwnerReference {
  return { apiVersion: owner.apiVersion, kind: owner.kind, name: owner.metadata.name, uid: owner.metadata.uid, controller: true, blockOwnerDeletion: true };
}

export function controllerOf(obj: KubeObject): OwnerReference | undefined {
  return obj.metadata.ownerReferences?.find((r) => r.controller);
}

export function isOwnedBy(obj: KubeObject, owner: KubeObject): boolean {
  return controllerOf(obj)?.uid === owner.metadata.uid;
}

/** Parses a CPU quantity to millicores. */
export function cpuMillis(q: unknown): number {
  if (q === undefined || q === null) return 0;
  const s = String(q);
  if (s.endsWith("m")) return Number(s.slice(0, -1));
  return Number(s) * 1000;
}

const MEM_SUFFIX: Record<string, number> = { Ki: 1024, Mi: 1024 ** 2, Gi: 1024 ** 3, Ti: 1024 ** 4, k: 1e3, K: 1e3, M: 1e6, G: 1e9, T: 1e12 };

/** Parses a memory quantity to bytes. */
export function memBytes(q: unknown): number {
  if (q === undefined || q === null) return 0;
  const m = /^(\d+(?:\.\d+)?)([A-Za-z]*)$/.exec(String(q));
  if (!m) return 0;
  return Number(m[1]) * (MEM_SUFFIX[m[2] ?? ""] ?? 1);
}

/** Matches a label selector ({matchLabels, matchExpressions}) against labels. */
export function selectorMatches(sel: unknown, labels: Record<string, string> | undefined): boolean {
  if (!sel || typeof sel !== "object") return false;
  const s = sel as { matchLabels?: Record<string, string>; matchExpressions?: { key: string; operator: string; values?: string[] }[] };
  const l = labels ?? {};
  for (const [k, v] of Object.entries(s.matchLabels ?? {})) if (l[k] !== v) return false;
  for (const e of s.matchExpressions ?? []) {
    const has = e.key in l;
    const val = l[e.key];
    if (e.operator === "In" && !(has && e.values?.includes(val!))) return false;
    if (e.operator === "NotIn" && has && e.values?.includes(val!)) return false;
    if (e.operator === "Exists" && !has) return false;
    if (e.operator === "DoesNotExist" && has) return false;
  }
  return true;
}

/** Resolves an intOrString like maxSurge ("25%" or 1) against a total. */
export function intOrPercent(v: unknown, total: number, roundUp: boolean, dflt: string): number {
  const x = v === undefined || v === null ? dflt : v;
  if (typeof x === "number") return x;
  const s = String(x);
  if (s.endsWith("%")) {
    const f = (Number(s.slice(0, -1)) / 100) * total;
    return roundUp ? Math.ceil(f) : Math.floor(f);
  }
  return Number(s);
}

export function podIsReady(pod: KubeObject): boolean {
  const conds = ((pod.status as { conditions?: { type: string; status: string }[] } | undefined)?.conditions) ?? [];
  return conds.some((c) => c.type === "Ready" && c.status === "True");
}

export function podPhase(pod: KubeObject): string {
  return ((pod.status as { phase?: string } | undefined)?.phase) ?? "Pending";
}

export function podIsActive(pod: KubeObject): boolean {
  const ph = podPhase(pod);
  return ph !== "Succeeded" && ph !== "Failed" && !pod.metadata.deletionTimestamp;
}

/** Writes status only when it changed, so controllers do not loop on their own updates. */
export function writeStatus(store: Store, type: ResourceType, obj: KubeObject, status: unknown): KubeObject | undefined {
  if (JSON.stringify(obj.status ?? {}) === JSON.stringify(status)) return undefined;
  const cur = store.get(type, obj.metadata.namespace, obj.metadata.name);
  if (!cur || cur.metadata.uid !== obj.metadata.uid) return undefined;
  return store.updateStatus(type, { ...cur, status });
}

/** Logs an unexpected error of a controller without stopping the simulator. */
export function reportError(where: string, err: unknown): void {
  const e = err as { code?: number; message?: string };
  // 404/409 are races with deletions and concurrent updates: the next reconcile repairs them.
  if (e && (e.code === 404 || e.code === 409)) return;
  console.error(`kube-sim ${where}: ${e?.message ?? String(err)}`);
}

/**
 * Coalescing work queue: keys added while handling store events (which are delivered synchronously,
 * inside the store's write) are reconciled on a later macrotask, once each, in insertion order.
 */
export function workQueue(handle: (key: string) => void, where: string): { add(key: string): void; stop(): void } {
  const dirty = new Set<string>();
  let scheduled: NodeJS.Immediate | undefined;
  let stopped = false;
  const flush = () => {
    scheduled = undefined;
    const keys = [...dirty];
    dirty.clear();
    for (const k of keys) {
      if (stopped) return;
      try {
        handle(k);
      } catch (err) {
        reportError(where, err);
      }
    }
  };
  return {
    add(key) {
      if (stopped) return;
      dirty.add(key);
      scheduled ??= setImmediate(flush);
    },
    stop() {
      stopped = true;
      if (scheduled) clearImmediate(scheduled);
      dirty.clear();
    },
  };
}

export const key = (ns: string | undefined, name: string) => `${ns ?? ""}/${name}`;
export function splitKey(k: string): [string | undefined, string] {
  const i = k.indexOf("/");
  const ns = k.slice(0, i);
  return [ns === "" ? undefined : ns, k.slice(i + 1)];
}
