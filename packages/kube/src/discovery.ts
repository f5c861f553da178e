// API discovery through the legacy endpoints (/api/v1, /apis + each preferred version), resolution
// of resource specs (`pods`, `deployments.apps`, `deploy`, `*`) and a cache that reports what changed.
import type { KubeAccess } from "./config.js";
import type { Logger } from "pino";
import { requestJson } from "./http.js";
import { ResourceNotWatchableError, UnknownResourceError } from "./errors.js";

export interface ResourceInfo {
  group: string; // "" for the core group
  version: string;
  resource: string; // plural
  kind: string;
  namespaced: boolean;
  verbs: string[];
  apiVersion: string; // "v1" or "apps/v1"
  singular: string;
  shortNames: string[];
}

interface APIResource {
  name: string;
  singularName?: string;
  namespaced: boolean;
  kind: string;
  verbs?: string[];
  shortNames?: string[];
  group?: string;
  version?: string;
}
interface APIResourceList {
  groupVersion: string;
  resources: APIResource[];
}
interface APIGroupList {
  groups: { name: string; preferredVersion?: { groupVersion: string; version: string }; versions: { groupVersion: string; version: string }[] }[];
}

/** Stable key of a resource type: `group/version/resource`. */
export function resourceKey(r: Pick<ResourceInfo, "group" | "version" | "resource">): string {
  return `${r.group}/${r.version}/${r.resource}`;
}

/** Human/metric name: `pods`, `deployments.apps`, `widgets.example.com`. */
export function resourceName(r: Pick<ResourceInfo, "group" | "resource">): string {
  return r.group ? `${r.resource}.${r.group}` : r.resource;
}

function toInfo(gv: string, r: APIResource): ResourceInfo {
  const [g, v] = gv.includes("/") ? (gv.split("/") as [string, string]) : ["", gv];
  const group = r.group ?? g;
  const version = r.version ?? v;
  return {
    group,
    version,
    resource: r.name,
    kind: r.kind,
    namespaced: r.namespaced,
    verbs: r.verbs ?? [],
    apiVersion: group ? `${group}/${version}` : version,
    singular: r.singularName || r.kind.toLowerCase(),
    shortNames: r.shortNames ?? [],
  };
}

export interface DiscoverOptions {
  logger?: Logger;
  signal?: AbortSignal;
}

/**
 * Lists every resource type (no subresources) of the core group and the preferred version of each
 * API group. A group version that fails (e.g. an unavailable aggregated API) is logged and skipped,
 * like client-go's partial discovery; /api/v1 and /apis themselves must succeed.
 */
export async function discoverResources(kc: KubeAccess, opts: DiscoverOptions = {}): Promise<ResourceInfo[]> {
  const out: ResourceInfo[] = [];
  const core = await requestJson<APIResourceList>(kc, { path: "/api/v1", signal: opts.signal });
  for (const r of core.resources ?? []) if (!r.name.includes("/")) out.push(toInfo("v1", r));
  const groups = await requestJson<APIGroupList>(kc, { path: "/apis", signal: opts.signal });
  const lists = await Promise.all(
    (groups.groups ?? []).map(async (g) => {
      const gv = g.preferredVersion?.groupVersion ?? g.versions[0]?.groupVersion;
      if (!gv) return undefined;
      try {
        return await requestJson<APIResourceList>(kc, { path: `/apis/${gv}`, signal: opts.signal });
      } catch (err) {
        opts.logger?.warn({ err, groupVersion: gv }, "discovery of group version failed; skipping it");
        return undefined;
      }
    }),
  );
  for (const l of lists) {
    if (!l) continue;
    for (const r of l.resources ?? []) if (!r.name.includes("/")) out.push(toInfo(l.groupVersion, r));
  }
  return out;
}

const WATCH_VERBS = ["list", "watch"];

function matchesName(r: ResourceInfo, name: string): boolean {
  return r.resource === name || r.singular === name || r.kind.toLowerCase() === name || r.shortNames.includes(name);
}

/**
 * The resources one spec names, without throwing: `*` → all with list+watch; `name` → by plural,
 * singular, kind or shortName, preferring the core group then the first group in discovery order;
 * `name.group` and `name.version.group` → in that group.
 */
export function matchResourceSpec(spec: string, resources: readonly ResourceInfo[]): ResourceInfo[] {
  const s = spec.trim().toLowerCase();
  if (s === "*" || s === "all") return resources.filter((r) => WATCH_VERBS.every((v) => r.verbs.includes(v)));
  const dot = s.indexOf(".");
  if (dot < 0) {
    const hits = resources.filter((r) => matchesName(r, s));
    if (hits.length === 0) return [];
    const core = hits.find((r) => r.group === "");
    return [core ?? hits[0]!];
  }
  const name = s.slice(0, dot);
  const rest = s.slice(dot + 1);
  const inGroup = resources.filter((r) => r.group === rest && matchesName(r, name));
  if (inGroup.length > 0) return [inGroup[0]!];
  // resource.version.group (kubectl's fully qualified form)
  const dot2 = rest.indexOf(".");
  if (dot2 > 0) {
    const version = rest.slice(0, dot2);
    const group = rest.slice(dot2 + 1);
    const hit = resources.find((r) => r.group === group && r.version === version && matchesName(r, name));
    if (hit) return [hit];
  }
  return [];
}

export interface ResolveOptions {
  /** Verbs every explicitly named resource must support; default list and watch. [] disables. */
  requireVerbs?: string[];
}

/** Resolves specs strictly: an unknown spec raises UnknownResourceError naming it. Deduplicated. */
export function resolveResourceSpecs(
  specs: readonly string[],
  resources: readonly ResourceInfo[],
  opts: ResolveOptions = {},
): ResourceInfo[] {
  const required = opts.requireVerbs ?? WATCH_VERBS;
  const seen = new Map<string, ResourceInfo>();
  for (const spec of specs) {
    const hits = matchResourceSpec(spec, resources);
    if (hits.length === 0 && spec.trim() !== "*") throw new UnknownResourceError(spec, { known: resources.length });
    for (const r of hits) {
      const missing = required.filter((v) => !r.verbs.includes(v));
      if (missing.length > 0) throw new ResourceNotWatchableError(spec, r.verbs, missing);
      seen.set(resourceKey(r), r);
    }
  }
  return [...seen.values()];
}

export interface DiscoveryChange {
  added: ResourceInfo[];
  removed: ResourceInfo[];
  resources: ResourceInfo[];
}

/**
 * Holds the last discovery result; refresh() re-discovers and returns what appeared and vanished
 * (keyed by group/version/resource), so a watcher can start and stop watches for CRDs at run time.
 * Concurrent refresh() calls share one request.
 */
export class DiscoveryCache {
  private current: ResourceInfo[] = [];
  private byKey = new Map<string, ResourceInfo>();
  private inflight: Promise<DiscoveryChange> | undefined;
  private loaded = false;

  constructor(
    private readonly kc: KubeAccess,
    private readonly opts: DiscoverOptions = {},
  ) {}

  get resources(): readonly ResourceInfo[] {
    return this.current;
  }

  get ready(): boolean {
    return this.loaded;
  }

  refresh(): Promise<DiscoveryChange> {
    if (!this.inflight) {
      this.inflight = this.doRefresh().finally(() => {
        this.inflight = undefined;
      });
    }
    return this.inflight;
  }

  private async doRefresh(): Promise<DiscoveryChange> {
    const next = await discoverResources(this.kc, this.opts);
    const nextByKey = new Map(next.map((r) => [resourceKey(r), r]));
    const added = next.filter((r) => !this.byKey.has(resourceKey(r)));
    const removed = this.current.filter((r) => !nextByKey.has(resourceKey(r)));
    this.current = next;
    this.byKey = nextByKey;
    this.loaded = true;
    return { added, removed, resources: next };
  }

  /** Finds a resource by apiVersion and kind or plural resource name. */
  find(apiVersion: string, kindOrResource: string): ResourceInfo | undefined {
    return findResource(this.current, apiVersion, kindOrResource);
  }
}

export function findResource(resources: readonly ResourceInfo[], apiVersion: string, kindOrResource: string): ResourceInfo | undefined {
  const lower = kindOrResource.toLowerCase();
  return (
    resources.find((r) => r.apiVersion === apiVersion && r.kind === kindOrResource) ??
    resources.find((r) => r.apiVersion === apiVersion && (r.resource === lower || r.kind.toLowerCase() === lower))
  );
}
