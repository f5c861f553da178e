// Compiles tenants and their include/exclude rules into a matcher: which tenants get an object or
// an Event, and which log lines of a container each tenant keeps. Pure logic, no I/O.
import { RuleError, compileNameMatchers, compilePatternSet, type NameMatcher, type PatternSet } from "@faro/redact";
import { compileLabelSelector, type LabelPredicate, type Labels } from "./selectors.js";
import type {
  EventFacts,
  FilterRulesConfig,
  LogFilterResult,
  LogStreamFacts,
  MatcherStats,
  MessageClass,
  ObjectFacts,
  RuleConfig,
  RuleStats,
  TenantConfig,
  TenantStats,
} from "./types.js";

/** Tenant name used in stats for the global rules. */
export const GLOBAL_TENANT = "(global)";
/** Rule id under which lines/messages that matched no include rule are counted. */
export const NO_INCLUDE_MATCH = "(no include matched)";
/** Rule id under which global namespace exclusions are counted. */
export const GLOBAL_NAMESPACES = "(excluded namespace)";
/** Rule id for lines handed to filterLogLines for a tenant whose namespaces do not include the stream. */
export const NOT_IN_TENANT = "(not in tenant namespaces)";

const TENANT_NAME = /^[A-Za-z0-9][A-Za-z0-9_-]{0,62}$/;
const RULE_FIELDS = ["name", "kinds", "names", "pods", "containers", "labels", "reasons", "types", "sources", "log", "ignoreCase"];
const LIST_FIELDS = ["kinds", "names", "pods", "containers", "reasons", "types", "sources"] as const;
const NS_CACHE_MAX = 10_000;

/** What a rule looks at, normalised across message classes. */
interface Facts {
  kinds: readonly string[];
  name: string | undefined;
  pod: string | undefined;
  container: string | undefined;
  labels: Labels | undefined;
  reason: string | undefined;
  type: string | undefined;
  source: string | undefined;
}

interface CompiledRule {
  readonly id: string;
  readonly tenant: string;
  readonly action: "include" | "exclude";
  readonly applies: Readonly<Record<MessageClass, boolean>>;
  readonly kinds?: NameMatcher;
  readonly names?: NameMatcher;
  readonly pods?: NameMatcher;
  readonly containers?: NameMatcher;
  readonly labels?: LabelPredicate;
  readonly reasons?: NameMatcher;
  readonly types?: NameMatcher;
  readonly sources?: NameMatcher;
  readonly log?: { pattern: string; ignoreCase: boolean };
  readonly stats: RuleStats;
}

interface CompiledTenant {
  readonly name: string;
  readonly namespaces: NameMatcher;
  readonly include: readonly CompiledRule[];
  readonly exclude: readonly CompiledRule[];
  readonly stats: Record<MessageClass, TenantStats>;
  /** The log patterns of the tenant's exclude and include rules, compiled once. */
  readonly excludeSet: RuleSet;
  readonly includeSet: RuleSet;
}

/** Decides tenant membership and log-line noise filtering; keeps cumulative stats. */
export interface TenantMatcher {
  readonly tenantNames: readonly string[];
  /** Tenants that receive this object (empty: nobody). */
  tenantsForObject(object: ObjectFacts): string[];
  /** Tenants that receive this Event. */
  tenantsForEvent(event: EventFacts): string[];
  /** Tenants that may receive lines of this container (call filterLogLines for each). */
  tenantsForLogStream(stream: LogStreamFacts): string[];
  /** The lines of one container's batch that `tenant` keeps, and per rule how many were dropped. */
  filterLogLines(tenant: string, stream: LogStreamFacts, lines: readonly string[]): LogFilterResult;
  /**
   * The same for every tenant whose namespaces hold the stream, evaluating global rules once: the
   * cheaper call for a service. Tenants that keep nothing are present with empty `kept`.
   */
  filterLogBatch(stream: LogStreamFacts, lines: readonly string[]): Map<string, LogFilterResult>;
  /** Snapshot of cumulative counters (plain numbers). */
  stats(): MatcherStats;
}

/**
 * Validates and compiles the configuration. Throws RuleError naming tenant and rule on any problem.
 * Compile once per configuration (re2-wasm never frees compiled patterns); matching allocates no regex.
 */
export function compileTenants(cfg: FilterRulesConfig): TenantMatcher {
  if (cfg === null || typeof cfg !== "object" || !Array.isArray(cfg.tenants)) {
    throw new RuleError("tenants", "configuration needs a `tenants` list");
  }
  const global = cfg.global ?? {};
  for (const k of Object.keys(global)) {
    if (k !== "excludeNamespaces" && k !== "exclude") throw new RuleError("global", `unknown field ${JSON.stringify(k)}`);
  }
  const globalNs = compileNameMatchers("global excludeNamespaces", global.excludeNamespaces ?? []);
  const globalExclude = compileRules(GLOBAL_TENANT, "exclude", global.exclude ?? []);
  const seen = new Set<string>();
  const tenants = cfg.tenants.map((t, i) => {
    const tenant = compileTenant(t, i);
    if (seen.has(tenant.name)) throw new RuleError(`tenant ${tenant.name}`, "duplicate tenant name");
    seen.add(tenant.name);
    return tenant;
  });
  const byName = new Map(tenants.map((t) => [t.name, t]));
  const globalNsDrops: Record<MessageClass, number> = { object: 0, event: 0, log: 0 };
  const globalSet = ruleSet(globalExclude);

  // Namespace → tenants whose selectors accept it; namespaces are few and repeat forever.
  const nsCache = new Map<string, readonly CompiledTenant[] | null>();
  const tenantsInNamespace = (ns: string): readonly CompiledTenant[] | null => {
    let hit = nsCache.get(ns);
    if (hit === undefined) {
      hit = globalNs(ns) ? null : tenants.filter((t) => t.namespaces(ns));
      if (nsCache.size >= NS_CACHE_MAX) nsCache.clear();
      nsCache.set(ns, hit);
    }
    return hit;
  };

  const route = (cls: MessageClass, namespace: string, facts: Facts): string[] => {
    const candidates = tenantsInNamespace(namespace);
    if (candidates === null) {
      globalNsDrops[cls]++;
      return [];
    }
    if (candidates.length === 0) return [];
    if (firstMatch(globalExclude, cls, facts, 1) !== undefined) return [];
    const out: string[] = [];
    for (const t of candidates) {
      const st = t.stats[cls];
      st.in++;
      if (firstMatch(t.exclude, cls, facts, 1) !== undefined) {
        st.dropped++;
        continue;
      }
      const inc = t.include.filter((r) => r.applies[cls]);
      if (inc.length > 0 && firstMatch(inc, cls, facts, 1, false) === undefined) {
        st.dropped++;
        st.droppedNoInclude++;
        continue;
      }
      st.out++;
      out.push(t.name);
    }
    return out;
  };

  const streamInTenant = (t: CompiledTenant, facts: Facts): boolean => {
    // Exclude rules without a log pattern drop the whole stream; include rules (with or without a
    // log pattern) admit it when their other fields match.
    if (t.exclude.some((r) => r.applies.log && r.log === undefined && scopeMatches(r, facts))) return false;
    const inc = t.include.filter((r) => r.applies.log);
    return inc.length === 0 || inc.some((r) => scopeMatches(r, facts));
  };

  return {
    tenantNames: tenants.map((t) => t.name),

    tenantsForObject(o) {
      const facts: Facts = {
        kinds: [o.kind],
        name: o.name,
        pod: o.kind === "Pod" ? o.name : undefined,
        container: undefined,
        labels: o.labels,
        reason: undefined,
        type: undefined,
        source: undefined,
      };
      return route("object", o.namespace, facts);
    },

    tenantsForEvent(e) {
      const facts: Facts = {
        kinds: e.involvedKind === undefined ? ["Event"] : ["Event", e.involvedKind],
        name: e.involvedName,
        pod: e.involvedKind === "Pod" ? e.involvedName : undefined,
        container: undefined,
        labels: e.involvedLabels,
        reason: e.reason,
        type: e.type,
        source: e.source,
      };
      return route("event", e.namespace, facts);
    },

    tenantsForLogStream(s) {
      const candidates = tenantsInNamespace(s.namespace);
      if (candidates === null || candidates.length === 0) return [];
      const facts = logFacts(s);
      if (globalExclude.some((r) => r.applies.log && r.log === undefined && scopeMatches(r, facts))) return [];
      return candidates.filter((t) => streamInTenant(t, facts)).map((t) => t.name);
    },

    filterLogLines(tenantName, s, lines) {
      const t = byName.get(tenantName);
      if (t === undefined) throw new RuleError(`tenant ${tenantName}`, "unknown tenant");
      const candidates = tenantsInNamespace(s.namespace);
      if (candidates === null) {
        globalNsDrops.log += lines.length;
        return dropAll(lines.length, GLOBAL_NAMESPACES);
      }
      if (lines.length === 0) return { kept: [], dropped: {} };
      if (!candidates.includes(t)) return dropAll(lines.length, NOT_IN_TENANT);
      const facts = logFacts(s);
      return filterForTenant(t, facts, lines, evalGlobal(globalExclude, facts, lines, globalSet));
    },

    filterLogBatch(s, lines) {
      const out = new Map<string, LogFilterResult>();
      const candidates = tenantsInNamespace(s.namespace);
      if (candidates === null) {
        globalNsDrops.log += lines.length;
        return out;
      }
      // An empty batch (a stream's end marker) keeps nothing for every tenant, as filterLogLines says.
      if (lines.length === 0) {
        for (const t of candidates) out.set(t.name, { kept: [], dropped: {} });
        return out;
      }
      if (candidates.length === 0) return out;
      const facts = logFacts(s);
      const g = evalGlobal(globalExclude, facts, lines, globalSet);
      for (const t of candidates) out.set(t.name, filterForTenant(t, facts, lines, g));
      return out;
    },

    stats() {
      const all = [globalExclude, ...tenants.flatMap((t) => [t.include, t.exclude])].flat();
      return {
        rules: all.map((r) => ({ ...r.stats })),
        tenants: tenants.flatMap((t) => [{ ...t.stats.object }, { ...t.stats.event }, { ...t.stats.log }]),
        globalNamespaceDrops: { ...globalNsDrops },
      };
    },
  };
}

function dropAll(n: number, rule: string): LogFilterResult {
  return { kept: [], dropped: n > 0 ? { [rule]: n } : {} };
}

/** Global exclude rules over one batch: a whole-stream drop, or per line the global rule dropping it. */
interface GlobalVerdict {
  wholeStream: CompiledRule | undefined;
  /** Per line: the global rule dropping it, or undefined. */
  lineRule: (CompiledRule | undefined)[] | undefined;
}

function evalGlobal(rules: readonly CompiledRule[], facts: Facts, lines: readonly string[], set: RuleSet): GlobalVerdict {
  const scopedRules = scopedForLog(rules, facts, lines.length);
  const wholeStream = scopedRules.find((r) => r.log === undefined);
  if (wholeStream !== undefined) {
    wholeStream.stats.matches += lines.length;
    wholeStream.stats.dropped += lines.length;
    return { wholeStream, lineRule: undefined };
  }
  if (scopedRules.length === 0 || lines.length === 0) return { wholeStream: undefined, lineRule: undefined };
  const lineRule = scan(scopedRules, lines, set);
  for (const r of lineRule) {
    if (r === undefined) continue;
    r.stats.matches++;
    r.stats.dropped++;
  }
  return { wholeStream: undefined, lineRule };
}

/** Rules applicable to log lines whose non-log fields match the stream: once per batch. */
function scopedForLog(rules: readonly CompiledRule[], facts: Facts, n: number): CompiledRule[] {
  const out: CompiledRule[] = [];
  for (const r of rules) {
    if (!r.applies.log) continue;
    const t0 = performance.now();
    const ok = scopeMatches(r, facts);
    r.stats.evalSeconds += (performance.now() - t0) / 1000;
    r.stats.evaluations += n;
    if (ok) out.push(r);
  }
  return out;
}

function filterForTenant(t: CompiledTenant, facts: Facts, lines: readonly string[], g: GlobalVerdict): LogFilterResult {
  const n = lines.length;
  const st = t.stats.log;
  st.in += n;
  if (g.wholeStream !== undefined) {
    st.dropped += n;
    return dropAll(n, g.wholeStream.id);
  }
  const excl = scopedForLog(t.exclude, facts, n);
  const wholeStream = excl.find((r) => r.log === undefined);
  if (wholeStream !== undefined) {
    wholeStream.stats.matches += n;
    wholeStream.stats.dropped += n;
    st.dropped += n;
    return dropAll(n, wholeStream.id);
  }
  const inc = scopedForLog(t.include, facts, n);
  if (inc.length === 0 && t.include.some((r) => r.applies.log)) {
    st.dropped += n;
    st.droppedNoInclude += n;
    return dropAll(n, NO_INCLUDE_MATCH);
  }
  // An include rule without a log pattern admits every line of the stream.
  const incPatterns = inc.some((r) => r.log === undefined) ? [] : inc;

  // Only lines that survived the global rules reach the tenant's patterns.
  let todo: readonly string[] = lines;
  if (g.lineRule !== undefined) {
    const rest: string[] = [];
    for (let i = 0; i < n; i++) if (g.lineRule[i] === undefined) rest.push(lines[i]!);
    todo = rest;
  }
  const exclHits = excl.length === 0 || todo.length === 0 ? undefined : scan(excl, todo, t.excludeSet);
  const incHits = incPatterns.length === 0 || todo.length === 0 ? undefined : scan(incPatterns, todo, t.includeSet);

  const dropped: Record<string, number> = {};
  if (g.lineRule !== undefined) {
    for (const r of g.lineRule) if (r !== undefined) dropped[r.id] = (dropped[r.id] ?? 0) + 1;
  }
  const kept: string[] = [];
  for (let j = 0; j < todo.length; j++) {
    const r = exclHits === undefined ? undefined : exclHits[j];
    if (r !== undefined) {
      r.stats.matches++;
      r.stats.dropped++;
      dropped[r.id] = (dropped[r.id] ?? 0) + 1;
      continue;
    }
    if (incHits !== undefined) {
      const k = incHits[j];
      if (k === undefined) {
        dropped[NO_INCLUDE_MATCH] = (dropped[NO_INCLUDE_MATCH] ?? 0) + 1;
        st.droppedNoInclude++;
        continue;
      }
      k.stats.matches++;
    }
    kept.push(todo[j]!);
  }
  st.out += kept.length;
  st.dropped += n - kept.length;
  return { kept, dropped };
}

function logFacts(s: LogStreamFacts): Facts {
  return {
    kinds: ["Pod"],
    name: s.pod,
    pod: s.pod,
    container: s.container,
    labels: s.labels,
    reason: undefined,
    type: undefined,
    source: undefined,
  };
}

/** The log patterns of a rule list as one PatternSet; entry i belongs to rules[i]. */
interface RuleSet {
  readonly set: PatternSet;
  readonly rules: readonly CompiledRule[];
}

function ruleSet(rules: readonly CompiledRule[]): RuleSet {
  const withLog = rules.filter((r) => r.log !== undefined);
  return {
    // Patterns were validated one by one already; this combines them.
    set: compilePatternSet(withLog.map((r) => ({ rule: `${r.tenant} ${r.id}.log`, pattern: r.log!.pattern, ignoreCase: r.log!.ignoreCase }))),
    rules: withLog,
  };
}

/**
 * Runs the log patterns of the in-scope `rules` (a subset of the set's rules) over the batch; returns
 * per line the rule that matched, if any. Scan time is split evenly among those rules.
 */
function scan(rules: readonly CompiledRule[], lines: readonly string[], rs: RuleSet): (CompiledRule | undefined)[] {
  const active = rs.rules.map((r) => rules.includes(r));
  const n = active.filter(Boolean).length;
  const out = new Array<CompiledRule | undefined>(lines.length);
  if (n === 0) return out;
  const t0 = performance.now();
  const hits = rs.set.matchLines(lines, active);
  const share = (performance.now() - t0) / 1000 / n;
  for (let i = 0; i < rs.rules.length; i++) if (active[i]) rs.rules[i]!.stats.evalSeconds += share;
  for (let i = 0; i < hits.length; i++) if (hits[i]! >= 0) out[i] = rs.rules[hits[i]!];
  return out;
}

/** Whether the rule's non-log fields match. Only called for rules applicable to the class. */
function scopeMatches(r: CompiledRule, f: Facts): boolean {
  if (r.kinds && !f.kinds.some((k) => r.kinds!(k))) return false;
  if (r.names && (f.name === undefined || !r.names(f.name))) return false;
  if (r.pods && (f.pod === undefined || !r.pods(f.pod))) return false;
  if (r.containers && (f.container === undefined || !r.containers(f.container))) return false;
  if (r.labels && !r.labels(f.labels)) return false;
  if (r.reasons && (f.reason === undefined || !r.reasons(f.reason))) return false;
  if (r.types && (f.type === undefined || !r.types(f.type))) return false;
  if (r.sources && (f.source === undefined || !r.sources(f.source))) return false;
  return true;
}

/**
 * First applicable rule whose fields match (objects and events: no log patterns apply), counting
 * evaluations, matches, drops (for exclude rules) and time.
 */
function firstMatch(rules: readonly CompiledRule[], cls: MessageClass, f: Facts, weight: number, countDrop = true): CompiledRule | undefined {
  for (const r of rules) {
    if (!r.applies[cls]) continue;
    const t0 = performance.now();
    const ok = scopeMatches(r, f);
    r.stats.evalSeconds += (performance.now() - t0) / 1000;
    r.stats.evaluations += weight;
    if (ok) {
      r.stats.matches += weight;
      if (countDrop && r.action === "exclude") r.stats.dropped += weight;
      return r;
    }
  }
  return undefined;
}

function compileTenant(t: TenantConfig, index: number): CompiledTenant {
  const label = typeof t?.name === "string" && t.name !== "" ? `tenant ${t.name}` : `tenant #${index}`;
  if (t === null || typeof t !== "object") throw new RuleError(label, "tenant must be an object");
  for (const k of Object.keys(t)) {
    if (!["name", "namespaces", "include", "exclude"].includes(k)) throw new RuleError(label, `unknown field ${JSON.stringify(k)}`);
  }
  if (typeof t.name !== "string" || !TENANT_NAME.test(t.name)) {
    throw new RuleError(label, "name must match [A-Za-z0-9][A-Za-z0-9_-]* (it appears in NATS subjects)");
  }
  if (!Array.isArray(t.namespaces) || t.namespaces.length === 0) throw new RuleError(label, "namespaces must be a non-empty list");
  const stats = (cls: MessageClass): TenantStats => ({ tenant: t.name, class: cls, in: 0, out: 0, dropped: 0, droppedNoInclude: 0 });
  const include = compileRules(t.name, "include", t.include ?? []);
  const exclude = compileRules(t.name, "exclude", t.exclude ?? []);
  return {
    name: t.name,
    namespaces: compileNameMatchers(`${label} namespaces`, t.namespaces),
    include,
    exclude,
    stats: { object: stats("object"), event: stats("event"), log: stats("log") },
    excludeSet: ruleSet(exclude),
    includeSet: ruleSet(include),
  };
}

function compileRules(tenant: string, action: "include" | "exclude", rules: readonly RuleConfig[]): CompiledRule[] {
  const where = tenant === GLOBAL_TENANT ? "global" : `tenant ${tenant}`;
  if (!Array.isArray(rules)) throw new RuleError(`${where} ${action}`, "must be a list of rules");
  const ids = new Set<string>();
  return rules.map((r, i) => {
    const id = typeof r?.name === "string" && r.name !== "" ? r.name : `${action}[${i}]`;
    const label = `${where} ${action}[${i}]${id === `${action}[${i}]` ? "" : ` (${id})`}`;
    if (r === null || typeof r !== "object") throw new RuleError(label, "rule must be an object");
    for (const k of Object.keys(r)) if (!RULE_FIELDS.includes(k)) throw new RuleError(label, `unknown field ${JSON.stringify(k)}`);
    if (ids.has(id)) throw new RuleError(label, `duplicate rule name ${JSON.stringify(id)}`);
    ids.add(id);
    const fields = Object.keys(r).filter((k) => k !== "name" && k !== "ignoreCase");
    if (fields.length === 0) throw new RuleError(label, "rule matches nothing: give at least one field");
    const m: Partial<Record<(typeof LIST_FIELDS)[number], NameMatcher>> = {};
    for (const f of LIST_FIELDS) {
      const v = r[f];
      if (v === undefined) continue;
      if (!Array.isArray(v) || v.length === 0) throw new RuleError(`${label}.${f}`, "must be a non-empty list");
      m[f] = compileNameMatchers(`${label}.${f}`, v);
    }
    let log: CompiledRule["log"];
    if (r.log !== undefined) {
      // Compiling the set validates the pattern with RE2 now, at config load.
      compilePatternSet([{ rule: `${label}.log`, pattern: r.log, ignoreCase: r.ignoreCase === true }]);
      log = { pattern: r.log, ignoreCase: r.ignoreCase === true };
    }
    const has = (...f: string[]) => f.some((k) => (r as Record<string, unknown>)[k] !== undefined);
    return {
      id,
      tenant,
      action,
      applies: {
        object: !has("containers", "reasons", "types", "sources", "log"),
        event: !has("containers", "log"),
        log: !has("reasons", "types", "sources"),
      },
      ...m,
      labels: r.labels === undefined ? undefined : compileLabelSelector(`${label}.labels`, r.labels),
      log,
      stats: { tenant, rule: id, action, evaluations: 0, matches: 0, dropped: 0, evalSeconds: 0 },
    };
  });
}
