// Plain-object shapes of the filter's tenant/rule configuration and of what the rules look at.
import type { Labels } from "./selectors.js";

/**
 * One include/exclude rule. Every field given must match (AND); each list matches if any entry does
 * (exact, `glob*` or `/RE2 regex/`). A rule only applies to the message classes that have all of its
 * fields: `containers` and `log` exist only on log lines; `reasons`, `types`, `sources` only on Events.
 *
 * - `kinds`: object kind; for Events the involved object's kind (and `Event` matches every Event);
 *   log lines count as kind `Pod`.
 * - `names`: object name / Event's involved object name / pod name of a log line.
 * - `pods`: pod name: Pod objects, Events about Pods, log lines.
 * - `labels`: selector (`app=web,tier in (a,b),!canary` or `{app: web}`) on the object's labels, the
 *   involved object's labels (KubeEvent.involvedLabels, when the watcher knew them) or the pod's labels.
 * - `log`: RE2 regex searched in each log line (`ignoreCase` applies to it).
 */
export interface RuleConfig {
  name?: string;
  kinds?: string[];
  names?: string[];
  pods?: string[];
  containers?: string[];
  labels?: string | Record<string, string>;
  reasons?: string[];
  types?: string[];
  sources?: string[];
  log?: string;
  ignoreCase?: boolean;
}

/**
 * A tenant: the namespaces it sees (name patterns: names, globs, `/RE2 regex/`, `all`), then its rules. With include rules
 * applicable to a message class, a message must match one of them; any matching exclude rule drops it.
 */
export interface TenantConfig {
  name: string;
  namespaces: string[];
  include?: RuleConfig[];
  exclude?: RuleConfig[];
}

/** Applies before any tenant: shared infrastructure nobody should receive (kube-system, …). */
export interface GlobalRulesConfig {
  excludeNamespaces?: string[];
  exclude?: RuleConfig[];
}

export interface FilterRulesConfig {
  tenants: TenantConfig[];
  global?: GlobalRulesConfig;
}

/** A watched resource, as the rules see it. Cluster-scoped objects have namespace "". */
export interface ObjectFacts {
  kind: string;
  namespace: string;
  name: string;
  labels?: Labels;
}

/** A Kubernetes Event, as the rules see it. */
export interface EventFacts {
  namespace: string;
  reason?: string;
  type?: string;
  /** Reporting component (source.component or reportingController). */
  source?: string;
  involvedKind?: string;
  involvedName?: string;
  involvedLabels?: Labels;
}

/** The container a batch of log lines comes from. */
export interface LogStreamFacts {
  namespace: string;
  pod: string;
  container: string;
  labels?: Labels;
}

export interface LogFilterResult {
  kept: string[];
  /** Rule id → lines dropped by it in this call. */
  dropped: Record<string, number>;
}

export type MessageClass = "object" | "event" | "log";

/**
 * Cumulative per-rule figures (monotonic), for Prometheus counters. Global rules are evaluated once
 * per tenant for log lines, so their log figures count per tenant a stream is filtered for.
 */
export interface RuleStats {
  tenant: string;
  rule: string;
  action: "include" | "exclude";
  /** Messages (objects, events, log lines) the rule was evaluated on. */
  evaluations: number;
  matches: number;
  /** Messages dropped because of this rule (exclude rules; include rules never drop). */
  dropped: number;
  /** Total time spent evaluating the rule, seconds. Batch regex scans are split evenly among their rules. */
  evalSeconds: number;
}

/** Cumulative per-tenant, per-class figures (monotonic). */
export interface TenantStats {
  tenant: string;
  class: MessageClass;
  /** Messages in the tenant's namespaces. */
  in: number;
  out: number;
  dropped: number;
  /** Of `dropped`: messages that matched none of the tenant's include rules. */
  droppedNoInclude: number;
}

export interface MatcherStats {
  rules: RuleStats[];
  tenants: TenantStats[];
  /** Messages dropped by global namespace exclusions, per class. */
  globalNamespaceDrops: Record<MessageClass, number>;
}
