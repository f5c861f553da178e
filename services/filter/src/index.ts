// @faro/filter: the filter service — tenants, noise rules and redaction between FARO_RAW and FARO_CLEAN.
export {
  configSchema,
  DEFAULT_EXCLUDED_NAMESPACES,
  compileFilterConfig,
  rulesConfigOf,
  redactionRulesOf,
} from "./config.js";
export type { FilterConfig, CompiledFilterConfig } from "./config.js";
export { filterService } from "./definition.js";
export { createFilter, SERVICE, DURABLE, DLQ_DECODE_SUBJECT, DLQ_REDACT_SUBJECT } from "./service.js";
export type { Filter, FilterStatus } from "./service.js";
export { createProcessor, baseMsgId, cleanMsgId, safeReason, subsequenceIndexes } from "./processor.js";
export type { Processor, RawInput, CleanOutput, Outcome, DropReason } from "./processor.js";
export { filterMetrics } from "./metrics.js";
export type { FilterMetrics } from "./metrics.js";
export { FilterError, MalformedMessageError, RedactStageError } from "./errors.js";
export { compileTenants } from "./rules/index.js";
export type { TenantMatcher } from "./rules/index.js";
export type { FilterRulesConfig, TenantConfig, RuleConfig } from "./rules/index.js";
