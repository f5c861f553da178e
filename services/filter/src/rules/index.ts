// rules: the filter's pure rule engine (tenants, include/exclude rules, label selectors), no I/O.
export { compileTenants, GLOBAL_TENANT, NO_INCLUDE_MATCH, GLOBAL_NAMESPACES, NOT_IN_TENANT } from "./tenants.js";
export type { TenantMatcher } from "./tenants.js";
export { compileLabelSelector } from "./selectors.js";
export type { Labels, LabelPredicate } from "./selectors.js";
export type {
  RuleConfig,
  TenantConfig,
  GlobalRulesConfig,
  FilterRulesConfig,
  ObjectFacts,
  EventFacts,
  LogStreamFacts,
  LogFilterResult,
  MessageClass,
  RuleStats,
  TenantStats,
  MatcherStats,
} from "./types.js";
