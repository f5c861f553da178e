// redact: masks secrets in Kubernetes objects, Events and log lines; user rules run on RE2.
export { RuleError, RedactionError, RedactCliError } from "./errors.js";
export { createRedactor } from "./redactor.js";
export type { Redactor, RedactorOptions, TextResult, LinesResult, ObjectResult } from "./redactor.js";
export type { RuleHit } from "./text.js";
export type { UserRule } from "./rules.js";
export { compileUserRules } from "./rules.js";
export { isSecretName } from "./names.js";
export { compileUserRegex, compileNameMatcher, compileNameMatchers } from "./matchers.js";
export type { NameMatcher } from "./matchers.js";
export { compilePatternSet } from "./patternset.js";
export type { PatternSet, PatternEntry, Active } from "./patternset.js";
export { redactCli, parseRules, loadRulesFile } from "./cli.js";
export type { RedactCliOptions, RedactFormat } from "./cli.js";
