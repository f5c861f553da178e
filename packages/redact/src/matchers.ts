// User regexes and name selectors of redaction and filter rules, named by their rule. The engines are
// @faro/primitives' (RE2 regexes, name patterns: docs/patterns.md); this module only names the rule in errors.
import { PatternError, compileNamePattern, compileNamePatterns, compileRe2, type NamePattern } from "@faro/primitives";
import type { RE2 } from "re2-wasm";
import { RuleError } from "./errors.js";

/** Runs a compilation, turning a PatternError into a RuleError naming the rule (exit 2 at config load). */
function named<T>(rule: string, compile: () => T): T {
  try {
    return compile();
  } catch (err) {
    if (!(err instanceof PatternError)) throw err;
    const where = err.index === undefined ? rule : `${rule}[${err.index}]`;
    throw new RuleError(where, err.message, { pattern: err.pattern, cause: err });
  }
}

/**
 * Compiles a user regex with RE2 (`u` flag is required by re2-wasm). `flags` may add `i`, `m`, `s`, `g`.
 * Throws RuleError naming `rule` when RE2 rejects the pattern (backreferences, lookaround, syntax).
 */
export function compileUserRegex(rule: string, source: string, flags = ""): RE2 {
  return named(rule, () => compileRe2(source, flags));
}

/** Tells whether a name matches: exact, glob (`prod-*`, `web-?`), `/regex/` (RE2) or `all`/`*`. */
export type NameMatcher = NamePattern;

/** Compiles one name selector (docs/patterns.md); RuleError names `rule` when it is invalid. */
export function compileNameMatcher(rule: string, selector: string, options: { ignoreCase?: boolean } = {}): NameMatcher {
  return named(rule, () => compileNamePattern(selector, options));
}

/** Any of the selectors (an empty list matches nothing); RuleError names `rule[i]` of a bad one. */
export function compileNameMatchers(rule: string, selectors: readonly string[], options: { ignoreCase?: boolean } = {}): NameMatcher {
  if (!Array.isArray(selectors)) throw new RuleError(rule, "expected a list of selectors");
  return named(rule, () => compileNamePatterns(selectors, options));
}
