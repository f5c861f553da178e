// @faro/correlator: stories per root workload, failure detection, debounce and incident contexts.
export { configSchema, settingsFrom } from "./config.js";
export type { CorrelatorConfig } from "./config.js";
export { createCorrelator, CONSUMER_NAME } from "./service.js";
export type { Correlator, CorrelatorDeps } from "./service.js";
export { Processor } from "./processor.js";
export type { ProcessorDeps, Sink } from "./processor.js";
export { CorrelatorState } from "./state.js";
export { DEFAULT_SETTINGS } from "./settings.js";
export type { CorrelatorSettings } from "./settings.js";
export { detectPod, detectWorkload, detectEvent, detectStuck, SEVERITY } from "./detect.js";
export type { Detection, Severity, EventFacts } from "./detect.js";
export { diffObjects } from "./diff.js";
export type { DiffOp } from "./diff.js";
export { podLifecycle } from "./lifecycle.js";
export type { LifecycleTransition } from "./lifecycle.js";
export { correlatorMetrics } from "./metrics.js";
export type { CorrelatorMetrics } from "./metrics.js";
export { CorrelatorError, MalformedInputError, StateError, CorrelatorStartError, InvolvedObjectPendingError } from "./errors.js";
