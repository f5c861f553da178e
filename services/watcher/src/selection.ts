// Which resource types the watcher opens (cluster-wide) watches for, and which of their objects it publishes
// (namespace selection and per-namespace resource sets applied client-side).
import { compileNamespaceSelector, matchResourceSpec, resourceKey, resourceName, type NamespacePredicate, type ResourceInfo } from "@faro/kube";
import type { WatcherConfig } from "./config.js";

/** What a watch is for: publishing objects, publishing Kubernetes Events, or only noticing CRD changes. */
export type WatchRole = "objects" | "events";

export interface PlannedWatch {
  info: ResourceInfo;
  role: WatchRole;
}

export interface SelectionPlan {
  /** resourceKey → watch to run. */
  watches: Map<string, PlannedWatch>;
  /** Specs that match nothing in discovery yet (e.g. a CRD not created yet). */
  unresolved: string[];
}

export const CRD_GROUP = "apiextensions.k8s.io";
export const CRD_RESOURCE = "customresourcedefinitions";

export const isCoreEvents = (r: Pick<ResourceInfo, "group" | "resource">): boolean => r.group === "" && r.resource === "events";
/** events.events.k8s.io serves the same objects as core/v1 events: watching both would publish each Event twice. */
export const isEventType = (r: Pick<ResourceInfo, "group" | "resource">): boolean =>
  r.resource === "events" && (r.group === "" || r.group === "events.k8s.io");
export const isCrdType = (r: Pick<ResourceInfo, "group" | "resource">): boolean => r.group === CRD_GROUP && r.resource === CRD_RESOURCE;
const watchable = (r: ResourceInfo): boolean => r.verbs.includes("list") && r.verbs.includes("watch");
const isWildcard = (spec: string): boolean => ["*", "all"].includes(spec.trim().toLowerCase());

interface CompiledSet {
  select: NamespacePredicate;
  specs: readonly string[];
}

/**
 * Compiles the configuration into a selection. Watches are cluster-wide, one per resource type, and the
 * namespace rules are applied to each object as it arrives, so a namespace created later that matches
 * `prod-*` is covered at once without opening a watch (the price: list+watch RBAC on the whole cluster,
 * and objects of unselected namespaces are received and dropped).
 */
export class Selection {
  private readonly sets: CompiledSet[];
  private readonly isExcludedNs: (ns: string) => boolean;
  private readonly excludeSpecs: readonly string[];
  private readonly eventsEnabled: boolean;
  private discovered: readonly ResourceInfo[] = [];
  private clusterKeys = new Set<string>();
  private setKeys: Set<string>[] = [];
  private readonly nsCache = new Map<string, Set<string>>();
  private readonly nsSelected = new Map<string, boolean>();

  constructor(config: Pick<WatcherConfig, "resources" | "excludeResources" | "namespaces" | "scopes" | "events">) {
    const sets: { namespaces: readonly string[]; exclude: readonly string[]; resources: readonly string[] }[] = [];
    if (config.resources.length > 0) sets.push({ namespaces: config.namespaces.include, exclude: [], resources: config.resources });
    for (const s of config.scopes) sets.push({ namespaces: s.namespaces, exclude: s.excludeNamespaces, resources: s.resources });
    this.sets = sets.map((s) => ({ select: compileNamespaceSelector({ include: s.namespaces, exclude: s.exclude }), specs: s.resources }));
    // An empty exclude list must exclude nothing (the selector alone would default to "all").
    const excl = config.namespaces.exclude.length > 0 ? compileNamespaceSelector({ include: config.namespaces.exclude }) : undefined;
    this.isExcludedNs = excl ? (ns) => excl(ns) : () => false;
    this.excludeSpecs = config.excludeResources;
    this.eventsEnabled = config.events.enabled;
  }

  /** Re-resolves every spec against a new discovery result and returns the watches to run. */
  update(discovered: readonly ResourceInfo[]): SelectionPlan {
    this.discovered = discovered;
    this.nsCache.clear();
    this.nsSelected.clear();
    const unresolved = new Set<string>();
    const excluded = new Set<string>();
    for (const spec of this.excludeSpecs) for (const r of matchResourceSpec(spec, discovered)) excluded.add(resourceKey(r));
    const watches = new Map<string, PlannedWatch>();
    this.clusterKeys = new Set();
    this.setKeys = this.sets.map((set) => {
      const keys = new Set<string>();
      for (const spec of set.specs) {
        const hits = matchResourceSpec(spec, discovered);
        if (hits.length === 0 && !isWildcard(spec)) unresolved.add(spec);
        for (const r of hits) {
          if (!watchable(r) || isEventType(r)) continue;
          const key = resourceKey(r);
          if (isWildcard(spec) && excluded.has(key)) continue;
          if (r.namespaced) keys.add(key);
          else this.clusterKeys.add(key);
          watches.set(key, { info: r, role: "objects" });
        }
      }
      return keys;
    });
    if (this.eventsEnabled) {
      const ev = discovered.find(isCoreEvents);
      if (ev && watchable(ev)) watches.set(resourceKey(ev), { info: ev, role: "events" });
    }
    // CRDs are always watched: their changes trigger discovery, so new types are picked up within seconds.
    const crd = discovered.find(isCrdType);
    if (crd && watchable(crd) && !watches.has(resourceKey(crd))) watches.set(resourceKey(crd), { info: crd, role: "objects" });
    return { watches, unresolved: [...unresolved] };
  }

  /** Whether an object of this resource type in this namespace ("" = cluster-scoped) is published. */
  accepts(r: Pick<ResourceInfo, "group" | "version" | "resource" | "namespaced">, namespace: string): boolean {
    const key = resourceKey(r);
    if (!r.namespaced) return this.clusterKeys.has(key);
    return this.keysFor(namespace).has(key);
  }

  /** Whether Kubernetes Events living in this namespace are published. */
  acceptsEvent(namespace: string): boolean {
    if (!this.eventsEnabled) return false;
    let hit = this.nsSelected.get(namespace);
    if (hit === undefined) {
      hit = !this.isExcludedNs(namespace) && this.sets.some((s) => s.select(namespace));
      this.nsSelected.set(namespace, hit);
    }
    return hit;
  }

  /** Human names of the resource types published in a namespace (for logs and tests). */
  resourcesIn(namespace: string): string[] {
    const keys = this.keysFor(namespace);
    return this.discovered.filter((r) => keys.has(resourceKey(r))).map(resourceName);
  }

  private keysFor(namespace: string): Set<string> {
    let keys = this.nsCache.get(namespace);
    if (!keys) {
      keys = new Set();
      if (!this.isExcludedNs(namespace)) {
        this.sets.forEach((s, i) => {
          if (s.select(namespace)) for (const k of this.setKeys[i] ?? []) keys!.add(k);
        });
      }
      // Bounded by the number of namespaces the cluster has; cleared on every discovery change.
      this.nsCache.set(namespace, keys);
    }
    return keys;
  }
}
