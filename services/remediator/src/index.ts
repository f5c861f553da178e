// @faro/remediator: opt-in, policy-driven remediation of incidents (docs/remediation.md).
export { configSchema } from "./config.js";
export type { RemediatorConfig } from "./config.js";
export { remediatorService } from "./definition.js";
export { createRemediator, encodeAction, decodeAction, CONSUMER_NAME, DEAD_LETTER_STAGE, POLICY_RESOURCE, DECISIONS } from "./service.js";
export type { Remediator, RemediatorOptions, Decision } from "./service.js";
export { parsePolicy, policyCovers, labelsMatch, memoryBytes, formatMemory, ACTION_TYPES, MODES } from "./policy.js";
export type { Policy, ActionType, Mode } from "./policy.js";
export { planDeployment, planRestart } from "./actions.js";
export type { Plan, Target } from "./actions.js";
export { FARO_ACTION, buildActionSubject, actionFilter } from "./stream.js";
export { remediatorMetrics } from "./metrics.js";
export type { RemediatorMetrics } from "./metrics.js";
export { RemediatorError, MalformedIncidentError, InvalidPolicyError, KubeWriteError } from "./errors.js";
