// Namespace selection (include/exclude lists of @faro/primitives name patterns: names, globs, /RE2 regex/,
// `all`; docs/patterns.md) and per-namespace resource sets: which resource types to watch in which
// namespace, and which cluster-scoped types to watch once.
import { PatternError, compileNamePattern, type NamePattern } from "@faro/primitives";
import type { ResourceInfo } from "./discovery.js";
import { matchResourceSpec, resourceKey } from "./discovery.js";
import { SelectorError } from "./errors.js";

export interface NamespaceSelectorConfig {
  /** Names, globs (`prod-*`, `team-?`), `/RE2 regex/`, or `all`/`*` (docs/patterns.md). Absent → all. */
  include?: readonly string[];
  /** Same syntax; exclusion wins over inclusion. */
  exclude?: readonly string[];
}

export type NamespacePredicate = ((ns: string) => boolean) & {
  /** True when the selector matches every namespace (so one all-namespaces watch serves it). */
  readonly matchesAll: boolean;
};

/** One namespace pattern; SelectorError names a bad one. */
function compilePattern(p: string): NamePattern {
  try {
    return compileNamePattern(p);
  } catch (err) {
    if (err instanceof PatternError) throw new SelectorError(p, err.reason, { cause: err });
    throw err;
  }
}

export function compileNamespaceSelector(cfg: NamespaceSelectorConfig = {}): NamespacePredicate {
  const include = (cfg.include ?? ["all"]).map(compilePattern);
  const exclude = (cfg.exclude ?? []).map(compilePattern);
  const includesAll = include.some((p) => p.matchesAll);
  const fn = (ns: string): boolean => {
    if (exclude.some((p) => p(ns))) return false;
    return includesAll || include.some((p) => p(ns));
  };
  return Object.assign(fn, { matchesAll: includesAll && exclude.length === 0 });
}

export interface ResourceSetConfig {
  /** Namespace patterns this set applies to (same syntax as the selector). */
  namespaces: readonly string[];
  /** Namespaces excluded from this set only. */
  excludeNamespaces?: readonly string[];
  /** Resource specs: `pods`, `deployments.apps`, `widgets.example.com`, `deploy`, `*`. */
  resources: readonly string[];
}

export interface ResolvedResources {
  resources: ResourceInfo[];
  /** Specs that matched nothing yet (e.g. a CRD not created yet); re-resolve after discovery changes. */
  unresolved: string[];
}

export interface WatchPlan {
  /** True when any set applies to the namespace (and it is not globally excluded). */
  watchesNamespace(ns: string): boolean;
  /** Namespaced resource types to watch in `ns`, the union over all sets that apply to it. */
  resourcesFor(ns: string, discovered: readonly ResourceInfo[]): ResolvedResources;
  /** Cluster-scoped resource types named by any set (nodes, namespaces, CRDs), watched once. */
  clusterResources(discovered: readonly ResourceInfo[]): ResolvedResources;
  /**
   * Namespaced resource types wanted in EVERY namespace (a set matching all, no exclusions), for
   * which one all-namespaces watch replaces per-namespace watches.
   */
  allNamespaceResources(discovered: readonly ResourceInfo[]): ResolvedResources;
}

const WATCHABLE = (r: ResourceInfo) => r.verbs.includes("list") && r.verbs.includes("watch");

export function compileWatchPlan(sets: readonly ResourceSetConfig[], global: { excludeNamespaces?: readonly string[] } = {}): WatchPlan {
  const excluded = (global.excludeNamespaces ?? []).map(compilePattern);
  const compiled = sets.map((s) => ({
    select: compileNamespaceSelector({ include: s.namespaces, exclude: s.excludeNamespaces ?? [] }),
    specs: s.resources,
  }));
  const isExcluded = (ns: string) => excluded.some((p) => p(ns));

  const resolve = (specs: readonly string[], discovered: readonly ResourceInfo[], keep: (r: ResourceInfo) => boolean): ResolvedResources => {
    const out = new Map<string, ResourceInfo>();
    const unresolved: string[] = [];
    for (const spec of specs) {
      const hits = matchResourceSpec(spec, discovered);
      if (hits.length === 0 && spec.trim() !== "*") unresolved.push(spec);
      for (const r of hits) if (WATCHABLE(r) && keep(r)) out.set(resourceKey(r), r);
    }
    return { resources: [...out.values()], unresolved: [...new Set(unresolved)] };
  };

  return {
    watchesNamespace: (ns) => !isExcluded(ns) && compiled.some((c) => c.select(ns)),
    resourcesFor(ns, discovered) {
      if (isExcluded(ns)) return { resources: [], unresolved: [] };
      const specs = compiled.filter((c) => c.select(ns)).flatMap((c) => c.specs);
      return resolve(specs, discovered, (r) => r.namespaced);
    },
    clusterResources(discovered) {
      return resolve(compiled.flatMap((c) => c.specs), discovered, (r) => !r.namespaced);
    },
    allNamespaceResources(discovered) {
      if (excluded.length > 0) return { resources: [], unresolved: [] };
      const specs = compiled.filter((c) => c.select.matchesAll).flatMap((c) => c.specs);
      return resolve(specs, discovered, (r) => r.namespaced);
    },
  };
}
