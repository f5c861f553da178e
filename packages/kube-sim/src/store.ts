// The in-memory object store behind the simulated API: one global resourceVersion, bounded watch history,
// synchronous subscribers, graceful deletion, finalizers, ownerReference garbage collection and CRD types.
import { randomUUID } from "node:crypto";
import { builtinTypes } from "./builtin-types.js";
import { ApiError, alreadyExists, badRequest, conflict, invalid, notFound } from "./errors.js";
import type {
  DeleteOptions,
  KubeObject,
  NewObject,
  ResourceType,
  Store,
  StoreEvent,
  WatchEventType,
} from "./types.js";

export interface StoreOptions {
  /** RFC 3339 "now" for creationTimestamp/deletionTimestamp (a SimClock's isoNow). */
  now?: () => string;
  /** How many events watch resume can reach back (older → 410 Expired). */
  historySize?: number;
  /** Register the built-in types (default true). */
  builtinTypes?: boolean;
}

/** The Store plus read paths that skip defensive copies (the HTTP server serializes straight away). */
export interface SimStore extends Store {
  /** Objects as stored, NOT copies: callers must not mutate them. */
  listShared(type: ResourceType, namespace?: string): KubeObject[];
  getShared(type: ResourceType, namespace: string | undefined, name: string): KubeObject | undefined;
  /** All served versions of a group/resource (CRDs may serve several). */
  typeForVersion(group: string, version: string, resource: string): ResourceType | undefined;
  /** The object as it was before a MODIFIED event (watches with selectors turn transitions into ADDED/DELETED). */
  previousOf(ev: StoreEvent): KubeObject | undefined;
  /** Subscribers to type registration changes (discovery caches). */
  onTypesChanged(fn: () => void): () => void;
  /**
   * Fault injection: sends `object` to every watch of its type as it is — not stored, not validated (e.g.
   * without metadata.uid, which no real API server would send) — with a new resourceVersion, also set as
   * metadata.resourceVersion when the object has metadata without one.
   */
  injectWatchEvent(type: WatchEventType, resource: ResourceType, object: KubeObject): void;
}

const FOREGROUND = "foregroundDeletion";
const ORPHAN = "orphan";

type Bucket = Map<string, KubeObject>; // name → object
interface TypeData {
  types: ResourceType[]; // served versions, first is the storage version
  byNs: Map<string, Bucket>; // namespace ("" for cluster-scoped) → objects
}

const gr = (group: string, resource: string) => `${group}/${resource}`;
const keyOf = (typeKey: string, ns: string, name: string) => `${typeKey}\u0000${ns}\u0000${name}`;

function groupOf(apiVersion: string): string {
  const i = apiVersion.indexOf("/");
  return i < 0 ? "" : apiVersion.slice(0, i);
}

function specOf(obj: KubeObject | NewObject): string {
  const { metadata: _m, status: _s, ...rest } = obj as KubeObject;
  return JSON.stringify(rest);
}

function rand5(): string {
  const a = "bcdfghjklmnpqrstvwxz2456789";
  let s = "";
  for (let i = 0; i < 5; i++) s += a[Math.floor(Math.random() * a.length)];
  return s;
}

const NAME_RE = /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/;

export function createStore(opts: StoreOptions = {}): SimStore {
  const now = opts.now ?? (() => new Date().toISOString().replace(/\.\d+Z$/, "Z"));
  const historySize = Math.max(1, opts.historySize ?? 10_000);

  const data = new Map<string, TypeData>(); // gr → data
  let rv = 1; // starts above 0: an empty list must not return "0", which clients read as "any version"
  // Ring buffer of the last `historySize` events; every rv bump emits exactly one event.
  const ring: (StoreEvent | undefined)[] = new Array(historySize);
  let ringCount = 0;
  let ringStart = 0;
  let droppedUpTo = 1; // highest rv no longer in the history
  const subscribers = new Set<(ev: StoreEvent) => void>();
  const typeListeners = new Set<() => void>();
  // uid → key of the object, and owner uid → keys of dependents, for garbage collection.
  const byUid = new Map<string, { typeKey: string; ns: string; name: string }>();
  const dependents = new Map<string, Set<string>>(); // owner uid → dependent uids
  // Pods whose grace period ended but that still have finalizers: removed when the last finalizer goes.
  const graceDone = new Set<string>();
  const previous = new WeakMap<StoreEvent, KubeObject>();

  function td(type: ResourceType): TypeData {
    const d = data.get(gr(type.group, type.resource));
    if (!d) throw notFound(type.group, type.resource, "");
    return d;
  }

  function bucket(d: TypeData, ns: string, create: boolean): Bucket | undefined {
    let b = d.byNs.get(ns);
    if (!b && create) {
      b = new Map();
      d.byNs.set(ns, b);
    }
    return b;
  }

  function nsKey(type: ResourceType, ns: string | undefined): string {
    return type.namespaced ? (ns ?? "") : "";
  }

  function emit(type: WatchEventType, object: KubeObject, resource: ResourceType, prev?: KubeObject): void {
    const ev: StoreEvent = { type, object, resource, rv };
    if (prev) previous.set(ev, prev);
    if (ringCount < historySize) {
      ring[(ringStart + ringCount) % historySize] = ev;
      ringCount++;
    } else {
      droppedUpTo = ring[ringStart]!.rv;
      ring[ringStart] = ev;
      ringStart = (ringStart + 1) % historySize;
    }
    for (const fn of [...subscribers]) {
      try {
        fn(ev);
      } catch (err) {
        console.error("kube-sim store: subscriber failed", err);
      }
    }
  }

  function indexOwners(obj: KubeObject, add: boolean): void {
    for (const ref of obj.metadata.ownerReferences ?? []) {
      let set = dependents.get(ref.uid);
      if (add) {
        if (!set) dependents.set(ref.uid, (set = new Set()));
        set.add(obj.metadata.uid);
      } else if (set) {
        set.delete(obj.metadata.uid);
        if (set.size === 0) dependents.delete(ref.uid);
      }
    }
  }

  function storageType(d: TypeData): ResourceType {
    return d.types[0]!;
  }

  /** Writes a new version of an existing or new object, bumps rv and emits. */
  function put(d: TypeData, obj: KubeObject, evType: WatchEventType, prev: KubeObject | undefined): KubeObject {
    rv++;
    obj.metadata.resourceVersion = String(rv);
    const ns = obj.metadata.namespace ?? "";
    bucket(d, ns, true)!.set(obj.metadata.name, obj);
    if (prev) indexOwners(prev, false);
    indexOwners(obj, true);
    byUid.set(obj.metadata.uid, { typeKey: gr(storageType(d).group, storageType(d).resource), ns, name: obj.metadata.name });
    emit(evType, obj, storageType(d), prev);
    return obj;
  }

  /** Removes an object for good, emits DELETED and runs garbage collection for its dependents. */
  function remove(d: TypeData, obj: KubeObject, policy: DeleteOptions["propagationPolicy"]): KubeObject {
    const ns = obj.metadata.namespace ?? "";
    const b = bucket(d, ns, false);
    if (!b || b.get(obj.metadata.name) !== obj) return obj;
    b.delete(obj.metadata.name);
    if (b.size === 0) d.byNs.delete(ns);
    indexOwners(obj, false);
    byUid.delete(obj.metadata.uid);
    graceDone.delete(obj.metadata.uid);
    rv++;
    const gone: KubeObject = { ...obj, metadata: { ...obj.metadata, resourceVersion: String(rv) } };
    const type = storageType(d);
    emit("DELETED", gone, type);
    afterRemoval(type, gone, policy);
    return gone;
  }

  function lookupUid(uid: string): { d: TypeData; obj: KubeObject } | undefined {
    const k = byUid.get(uid);
    if (!k) return undefined;
    const d = data.get(k.typeKey);
    const obj = d?.byNs.get(k.ns)?.get(k.name);
    return d && obj ? { d, obj } : undefined;
  }

  function afterRemoval(type: ResourceType, obj: KubeObject, policy: DeleteOptions["propagationPolicy"]): void {
    // Background garbage collection: dependents whose owners are all gone are deleted.
    if (policy !== "Orphan") {
      const deps = dependents.get(obj.metadata.uid);
      if (deps) {
        for (const depUid of [...deps]) {
          const dep = lookupUid(depUid);
          if (!dep) continue;
          const otherOwners = (dep.obj.metadata.ownerReferences ?? []).filter(
            (r) => r.uid !== obj.metadata.uid && byUid.has(r.uid),
          );
          if (otherOwners.length > 0) continue;
          deleteObj(dep.d, dep.obj, { propagationPolicy: "Background" });
        }
      }
    }
    // Foreground owners waiting for this dependent.
    for (const ref of obj.metadata.ownerReferences ?? []) {
      const owner = lookupUid(ref.uid);
      if (owner && owner.obj.metadata.finalizers?.includes(FOREGROUND) && !dependents.get(ref.uid)?.size) {
        removeFinalizer(owner.d, owner.obj, FOREGROUND);
      }
    }
    // A terminating namespace goes when its last object goes.
    if (type.namespaced && obj.metadata.namespace) checkNamespaceEmpty(obj.metadata.namespace);
    if (type.group === "apiextensions.k8s.io" && type.resource === "customresourcedefinitions") crdRemoved(obj);
  }

  function removeFinalizer(d: TypeData, obj: KubeObject, fin: string): void {
    const next = structuredClone(obj);
    next.metadata.finalizers = (next.metadata.finalizers ?? []).filter((f) => f !== fin);
    if (next.metadata.finalizers.length === 0) delete next.metadata.finalizers;
    writeUpdate(d, obj, next);
  }

  /** Stores `next` replacing `prev`; completes a pending deletion once no finalizers remain. */
  function writeUpdate(d: TypeData, prev: KubeObject, next: KubeObject): KubeObject {
    const stored = put(d, next, "MODIFIED", prev);
    if (stored.metadata.deletionTimestamp && !(stored.metadata.finalizers?.length)) {
      const isPod = storageType(d).group === "" && storageType(d).resource === "pods";
      if (!isPod || graceDone.has(stored.metadata.uid) || !stored.spec || !(stored.spec as { nodeName?: string }).nodeName) {
        return remove(d, stored, "Background");
      }
    }
    return stored;
  }

  function namespaceType(): TypeData | undefined {
    return data.get(gr("", "namespaces"));
  }

  function checkNamespaceEmpty(ns: string): void {
    const nd = namespaceType();
    const nsObj = nd?.byNs.get("")?.get(ns);
    if (!nd || !nsObj?.metadata.deletionTimestamp) return;
    for (const d of data.values()) {
      if (storageType(d).namespaced && d.byNs.get(ns)?.size) return;
    }
    remove(nd, nsObj, "Background");
  }

  function deleteNamespaceContents(ns: string): void {
    for (const d of [...data.values()]) {
      if (!storageType(d).namespaced) continue;
      const b = d.byNs.get(ns);
      if (!b) continue;
      for (const obj of [...b.values()]) {
        if (b.get(obj.metadata.name) === obj && !obj.metadata.deletionTimestamp) {
          deleteObj(d, obj, { propagationPolicy: "Background" });
        }
      }
    }
  }

  function deleteObj(d: TypeData, obj: KubeObject, opts: DeleteOptions = {}): KubeObject {
    const type = storageType(d);
    const policy =
      opts.propagationPolicy ?? (obj.metadata.finalizers?.includes(ORPHAN) ? "Orphan" : "Background");
    const isPod = type.group === "" && type.resource === "pods";
    const isNs = type.group === "" && type.resource === "namespaces";

    if (obj.metadata.deletionTimestamp) {
      // Already terminating: a zero grace period forces a pod out now.
      if (isPod && opts.gracePeriodSeconds === 0) {
        graceDone.add(obj.metadata.uid);
        if (!obj.metadata.finalizers?.length) return remove(d, obj, policy);
      }
      return obj;
    }

    if (policy === "Orphan") {
      for (const depUid of [...(dependents.get(obj.metadata.uid) ?? [])]) {
        const dep = lookupUid(depUid);
        if (!dep) continue;
        const next = structuredClone(dep.obj);
        next.metadata.ownerReferences = (next.metadata.ownerReferences ?? []).filter((r) => r.uid !== obj.metadata.uid);
        if (next.metadata.ownerReferences.length === 0) delete next.metadata.ownerReferences;
        put(dep.d, next, "MODIFIED", dep.obj);
      }
    }

    if (isNs) {
      const next = structuredClone(obj);
      next.metadata.deletionTimestamp = now();
      next.status = { ...((next.status as object) ?? {}), phase: "Terminating" };
      const stored = put(d, next, "MODIFIED", obj);
      deleteNamespaceContents(obj.metadata.name);
      checkNamespaceEmpty(obj.metadata.name);
      return d.byNs.get("")?.get(obj.metadata.name) ?? stored;
    }

    const hasDeps = (dependents.get(obj.metadata.uid)?.size ?? 0) > 0;
    const foreground = policy === "Foreground" && hasDeps;
    const spec = (obj.spec ?? {}) as { nodeName?: string; terminationGracePeriodSeconds?: number };
    const grace = isPod ? (opts.gracePeriodSeconds ?? spec.terminationGracePeriodSeconds ?? 30) : 0;
    const graceful = isPod && grace > 0 && !!spec.nodeName;

    if (!graceful && !foreground && !obj.metadata.finalizers?.length) return remove(d, obj, policy);

    const next = structuredClone(obj);
    const ts = graceful ? new Date(Date.parse(now()) + grace * 1000).toISOString().replace(/\.\d+Z$/, "Z") : now();
    next.metadata.deletionTimestamp = ts;
    next.metadata.deletionGracePeriodSeconds = graceful ? grace : 0;
    if (foreground) next.metadata.finalizers = [...(next.metadata.finalizers ?? []), FOREGROUND];
    if (isPod && !graceful) graceDone.add(obj.metadata.uid);
    const stored = put(d, next, "MODIFIED", obj);
    if (foreground) {
      for (const depUid of [...(dependents.get(obj.metadata.uid) ?? [])]) {
        const dep = lookupUid(depUid);
        if (dep) deleteObj(dep.d, dep.obj, { propagationPolicy: "Foreground" });
      }
      const cur = lookupUid(obj.metadata.uid);
      if (cur && !dependents.get(obj.metadata.uid)?.size && cur.obj.metadata.finalizers?.includes(FOREGROUND)) {
        removeFinalizer(cur.d, cur.obj, FOREGROUND);
      }
      return lookupUid(obj.metadata.uid)?.obj ?? stored;
    }
    return stored;
  }

  // --- CRDs -----------------------------------------------------------------------------------------

  interface CrdSpec {
    group: string;
    scope: "Namespaced" | "Cluster";
    names: { plural: string; singular?: string; kind: string; listKind?: string; shortNames?: string[]; categories?: string[] };
    versions?: { name: string; served?: boolean; storage?: boolean; subresources?: { status?: unknown; scale?: unknown } }[];
  }

  function crdTypes(obj: KubeObject): ResourceType[] {
    const spec = obj.spec as CrdSpec | undefined;
    if (!spec?.group || !spec.names?.plural || !spec.names.kind) return [];
    const versions = (spec.versions ?? []).filter((v) => v.served !== false);
    versions.sort((a, b) => Number(!!b.storage) - Number(!!a.storage));
    return versions.map((v) => ({
      group: spec.group,
      version: v.name,
      resource: spec.names.plural,
      singular: spec.names.singular ?? spec.names.kind.toLowerCase(),
      kind: spec.names.kind,
      listKind: spec.names.listKind ?? `${spec.names.kind}List`,
      namespaced: spec.scope !== "Cluster",
      shortNames: spec.names.shortNames,
      categories: spec.names.categories,
      verbs: ["delete", "deletecollection", "get", "list", "patch", "create", "update", "watch"],
      subresources: [...(v.subresources?.status ? ["status"] : []), ...(v.subresources?.scale ? ["scale"] : [])],
    }));
  }

  function crdChanged(obj: KubeObject): void {
    const types = crdTypes(obj);
    if (types.length === 0) return;
    const key = gr(types[0]!.group, types[0]!.resource);
    const d = data.get(key);
    if (d) d.types = types;
    else data.set(key, { types, byNs: new Map() });
    notifyTypes();
    // Real API servers report the CRD as established; clients (kubectl wait) look for it.
    const cur = lookupUid(obj.metadata.uid);
    const status = (cur?.obj.status ?? {}) as { conditions?: { type: string }[] };
    if (cur && !status.conditions?.some((c) => c.type === "Established")) {
      const next = structuredClone(cur.obj);
      const ts = now();
      next.status = {
        ...status,
        conditions: [
          { type: "NamesAccepted", status: "True", reason: "NoConflicts", message: "no conflicts found", lastTransitionTime: ts },
          { type: "Established", status: "True", reason: "InitialNamesAccepted", message: "the initial names have been accepted", lastTransitionTime: ts },
        ],
        acceptedNames: (obj.spec as CrdSpec).names,
        storedVersions: types.map((x) => x.version).slice(0, 1),
      };
      put(cur.d, next, "MODIFIED", cur.obj);
    }
  }

  function crdRemoved(obj: KubeObject): void {
    const spec = obj.spec as CrdSpec | undefined;
    if (spec?.group && spec.names?.plural) store.unregisterType(spec.group, spec.names.plural);
  }

  function notifyTypes(): void {
    for (const fn of [...typeListeners]) {
      try {
        fn();
      } catch (err) {
        console.error("kube-sim store: type listener failed", err);
      }
    }
  }

  function isCrdType(type: ResourceType): boolean {
    return type.group === "apiextensions.k8s.io" && type.resource === "customresourcedefinitions";
  }

  // --- public ---------------------------------------------------------------------------------------

  const store: SimStore = {
    registerType(type) {
      const key = gr(type.group, type.resource);
      const d = data.get(key);
      if (!d) data.set(key, { types: [type], byNs: new Map() });
      else {
        const i = d.types.findIndex((x) => x.version === type.version);
        if (i >= 0) d.types[i] = type;
        else d.types.push(type);
      }
      notifyTypes();
    },

    unregisterType(group, resource) {
      const key = gr(group, resource);
      const d = data.get(key);
      if (!d) return;
      for (const b of [...d.byNs.values()]) for (const obj of [...b.values()]) remove(d, obj, "Background");
      data.delete(key);
      notifyTypes();
    },

    types() {
      const out: ResourceType[] = [];
      for (const d of data.values()) out.push(...d.types);
      return out;
    },

    typeFor(group, resource) {
      return data.get(gr(group, resource))?.types[0];
    },

    typeForVersion(group, version, resource) {
      return data.get(gr(group, resource))?.types.find((x) => x.version === version);
    },

    typeForKind(apiVersion, kind) {
      const group = groupOf(apiVersion);
      const version = apiVersion.slice(apiVersion.indexOf("/") + 1);
      let fallback: ResourceType | undefined;
      for (const d of data.values()) {
        for (const x of d.types) {
          if (x.group !== group || x.kind !== kind) continue;
          if (x.version === version) return x;
          fallback ??= x;
        }
      }
      return fallback;
    },

    getShared(type, namespace, name) {
      return data.get(gr(type.group, type.resource))?.byNs.get(nsKey(type, namespace))?.get(name);
    },

    get(type, namespace, name) {
      const o = store.getShared(type, namespace, name);
      return o ? structuredClone(o) : undefined;
    },

    listShared(type, namespace) {
      const d = data.get(gr(type.group, type.resource));
      if (!d) return [];
      const out: KubeObject[] = [];
      if (type.namespaced && namespace !== undefined) {
        const b = d.byNs.get(namespace);
        if (b) for (const o of b.values()) out.push(o);
      } else {
        for (const b of d.byNs.values()) for (const o of b.values()) out.push(o);
      }
      return out;
    },

    list(type, namespace) {
      return store.listShared(type, namespace).map((o) => structuredClone(o));
    },

    create(type, input) {
      const d = td(type);
      const obj = structuredClone(input) as KubeObject;
      const meta = (obj.metadata ??= {} as KubeObject["metadata"]);
      if (!meta.name) {
        if (!meta.generateName) throw invalid(type.kind, "", "metadata.name: Required value: name or generateName is required");
        const b = bucket(d, nsKey(type, meta.namespace), false);
        do meta.name = meta.generateName + rand5();
        while (b?.has(meta.name));
      }
      if (!NAME_RE.test(meta.name) || meta.name.length > 253) {
        throw invalid(type.kind, meta.name, `metadata.name: Invalid value: "${meta.name}": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.'`);
      }
      if (type.namespaced) {
        if (!meta.namespace) meta.namespace = "default";
      } else delete meta.namespace;
      const ns = meta.namespace ?? "";
      if (bucket(d, ns, false)?.has(meta.name)) throw alreadyExists(type.group, type.resource, meta.name);
      if (type.namespaced) {
        const nsObj = namespaceType()?.byNs.get("")?.get(ns);
        if (nsObj?.metadata.deletionTimestamp) {
          throw new ApiError(403, "Forbidden", `${type.resource} "${meta.name}" is forbidden: unable to create new content in namespace ${ns} because it is being terminated`, { name: meta.name, kind: type.resource });
        }
      }
      meta.uid = randomUUID();
      meta.creationTimestamp = now();
      delete meta.deletionTimestamp;
      delete meta.deletionGracePeriodSeconds;
      if (obj.spec !== undefined || type.group === "apps" || type.group === "batch") meta.generation = 1;
      else delete meta.generation;
      obj.apiVersion = type.group ? `${type.group}/${type.version}` : type.version;
      obj.kind = type.kind;
      if (isCrdType(type)) {
        if (crdTypes(obj).length === 0) throw invalid(type.kind, meta.name, "spec: group, names.plural, names.kind and versions are required");
      }
      const stored = put(d, obj, "ADDED", undefined);
      if (isCrdType(type)) crdChanged(stored);
      return structuredClone(data.get(gr(type.group, type.resource))?.byNs.get(ns)?.get(stored.metadata.name) ?? stored);
    },

    update(type, input) {
      const d = td(type);
      const ns = nsKey(type, input.metadata?.namespace);
      const name = input.metadata?.name;
      if (!name) throw badRequest("metadata.name is required");
      const prev = bucket(d, ns, false)?.get(name);
      if (!prev) throw notFound(type.group, type.resource, name);
      const want = input.metadata.resourceVersion;
      if (want && want !== prev.metadata.resourceVersion) {
        throw conflict(type.group, type.resource, name, "the object has been modified; please apply your changes to the latest version and try again");
      }
      if (input.metadata.uid && input.metadata.uid !== prev.metadata.uid) {
        throw conflict(type.group, type.resource, name, `Precondition failed: UID in precondition: ${input.metadata.uid}, UID in object meta: ${prev.metadata.uid}`);
      }
      const next = structuredClone(input);
      next.apiVersion = prev.apiVersion;
      next.kind = prev.kind;
      next.metadata.uid = prev.metadata.uid;
      next.metadata.creationTimestamp = prev.metadata.creationTimestamp;
      next.metadata.namespace = prev.metadata.namespace;
      if (!type.namespaced) delete next.metadata.namespace;
      if (prev.metadata.deletionTimestamp) {
        next.metadata.deletionTimestamp = prev.metadata.deletionTimestamp;
        next.metadata.deletionGracePeriodSeconds = prev.metadata.deletionGracePeriodSeconds;
      } else {
        delete next.metadata.deletionTimestamp;
        delete next.metadata.deletionGracePeriodSeconds;
      }
      if (prev.metadata.generation !== undefined) {
        next.metadata.generation = prev.metadata.generation + (specOf(prev) !== specOf(next) ? 1 : 0);
      }
      if (JSON.stringify(prev) === JSON.stringify({ ...next, metadata: { ...next.metadata, resourceVersion: prev.metadata.resourceVersion } })) {
        return structuredClone(prev); // no-op writes do not bump the resourceVersion, like the real API
      }
      const stored = writeUpdate(d, prev, next);
      if (isCrdType(type) && lookupUid(stored.metadata.uid)) crdChanged(stored);
      return structuredClone(lookupUid(stored.metadata.uid)?.obj ?? stored);
    },

    updateStatus(type, input) {
      const d = td(type);
      const name = input.metadata?.name;
      const prev = bucket(d, nsKey(type, input.metadata?.namespace), false)?.get(name);
      if (!prev) throw notFound(type.group, type.resource, name ?? "");
      const want = input.metadata.resourceVersion;
      if (want && want !== prev.metadata.resourceVersion) {
        throw conflict(type.group, type.resource, name, "the object has been modified; please apply your changes to the latest version and try again");
      }
      const next = structuredClone(prev);
      if (input.status === undefined) delete next.status;
      else next.status = structuredClone(input.status);
      if (JSON.stringify(next.status) === JSON.stringify(prev.status)) return structuredClone(prev);
      return structuredClone(put(d, next, "MODIFIED", prev));
    },

    delete(type, namespace, name, opts) {
      const d = td(type);
      const obj = bucket(d, nsKey(type, namespace), false)?.get(name);
      if (!obj) throw notFound(type.group, type.resource, name);
      return structuredClone(deleteObj(d, obj, opts));
    },

    finalizeDelete(type, namespace, name) {
      const d = data.get(gr(type.group, type.resource));
      const obj = d && bucket(d, nsKey(type, namespace), false)?.get(name);
      if (!d || !obj) return undefined;
      graceDone.add(obj.metadata.uid);
      if (obj.metadata.finalizers?.length) return structuredClone(obj);
      return structuredClone(remove(d, obj, "Background"));
    },

    currentRV() {
      return rv;
    },

    eventsSince(since) {
      if (since < droppedUpTo) return undefined;
      if (since >= rv) return [];
      // Binary search the ring for the first event with ev.rv > since.
      let lo = 0;
      let hi = ringCount;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (ring[(ringStart + mid) % historySize]!.rv > since) hi = mid;
        else lo = mid + 1;
      }
      const out: StoreEvent[] = [];
      for (let i = lo; i < ringCount; i++) out.push(ring[(ringStart + i) % historySize]!);
      return out;
    },

    subscribe(fn) {
      subscribers.add(fn);
      return () => subscribers.delete(fn);
    },

    previousOf(ev) {
      return previous.get(ev);
    },

    onTypesChanged(fn) {
      typeListeners.add(fn);
      return () => typeListeners.delete(fn);
    },

    injectWatchEvent(type, resource, object) {
      rv++;
      const meta = object.metadata as Partial<KubeObject["metadata"]> | undefined;
      // A resourceVersion the watch can resume from, unless the fault is about that very field.
      const withRv = meta && meta.resourceVersion === undefined ? { ...object, metadata: { ...meta, resourceVersion: String(rv) } as KubeObject["metadata"] } : object;
      emit(type, withRv, resource);
    },
  };

  if (opts.builtinTypes !== false) for (const t of builtinTypes) store.registerType({ ...t });
  return store;
}
