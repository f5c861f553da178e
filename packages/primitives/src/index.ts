// @faro/primitives: the building blocks every layer shares, each implemented once (decision 0010):
// retry backoff, abortable sleep, the counting semaphore, the per-key lock, name/namespace patterns and label selectors.
// Depends on no other @faro package, so packages, services, apps and the simulator may all use it.
export { backoffDelay, type BackoffOptions } from "./backoff.js";
export { sleep } from "./sleep.js";
export { Semaphore } from "./semaphore.js";
export { KeyedLock } from "./keyed-lock.js";
export {
  PatternError,
  compileNamePattern,
  compileNamePatterns,
  compileRe2,
  globMatch,
  type NamePattern,
  type NamePatternOptions,
} from "./patterns.js";
export {
  LabelSelectorError,
  compileLabelSelector,
  labelMapRequirements,
  matchesLabels,
  parseLabelSelector,
  type LabelOperator,
  type LabelPredicate,
  type LabelRequirement,
  type Labels,
} from "./labels.js";
