// Safe pattern compilation shared by redaction and filter rules: user regexes only ever run on RE2.
import { RE2 } from "re2-wasm";
import { RuleError } from "./errors.js";

/**
 * Compiles a user regex with RE2 (`u` flag is required by re2-wasm). `flags` may add `i`, `m`, `s`, `g`.
 * Throws RuleError naming `rule` when RE2 rejects the pattern (backreferences, lookaround, syntax).
 */
export function compileUserRegex(rule: string, source: string, flags = ""): RE2 {
  if (typeof source !== "string" || source === "") {
    throw new RuleError(rule, "pattern must be a non-empty string", { pattern: String(source) });
  }
  const f = [...new Set(("u" + flags).split(""))].join("");
  try {
    return new RE2(source, f);
  } catch (cause) {
    const msg = cause instanceof Error ? cause.message : String(cause);
    throw new RuleError(rule, `pattern ${JSON.stringify(source)} is not valid RE2: ${msg}`, { pattern: source, cause });
  }
}

/** Tells whether a name matches: exact string, glob (`prod-*`, `web-?`) or `/regex/` (RE2). */
export type NameMatcher = (value: string) => boolean;

/**
 * Compiles one name selector. Plain strings match exactly, strings with `*`/`?` are globs over the whole
 * value, `/.../` (optionally `/.../i`) is an RE2 regex searched in the value (anchor it yourself).
 */
export function compileNameMatcher(rule: string, selector: string, options: { ignoreCase?: boolean } = {}): NameMatcher {
  if (typeof selector !== "string" || selector === "") {
    throw new RuleError(rule, "selector must be a non-empty string", { pattern: String(selector) });
  }
  const re = /^\/(.+)\/(i?)$/s.exec(selector);
  if (re) {
    const compiled = compileUserRegex(rule, re[1] ?? "", options.ignoreCase ? "i" : (re[2] ?? ""));
    return (v) => compiled.test(v);
  }
  if (options.ignoreCase) {
    const lower = selector.toLowerCase();
    if (lower.includes("*") || lower.includes("?")) return (v) => globMatch(lower, v.toLowerCase());
    return (v) => v.toLowerCase() === lower;
  }
  if (selector.includes("*") || selector.includes("?")) return (v) => globMatch(selector, v);
  return (v) => v === selector;
}

/** Compiles a list of selectors into one matcher (any of them). An empty list matches nothing. */
export function compileNameMatchers(rule: string, selectors: readonly string[], options: { ignoreCase?: boolean } = {}): NameMatcher {
  if (!Array.isArray(selectors)) throw new RuleError(rule, "expected a list of selectors");
  const ms = selectors.map((s, i) => compileNameMatcher(`${rule}[${i}]`, s, options));
  if (ms.length === 1) return ms[0]!;
  return (v) => ms.some((m) => m(v));
}

/**
 * Glob match (`*` any run, `?` one char) without regex: the classic two-pointer algorithm with one
 * backtrack point, O(pattern × value) worst case and never exponential.
 */
export function globMatch(pattern: string, value: string): boolean {
  let p = 0;
  let v = 0;
  let star = -1;
  let mark = 0;
  while (v < value.length) {
    const pc = pattern[p];
    if (pc === "?" || (pc !== undefined && pc !== "*" && pc === value[v])) {
      p++;
      v++;
    } else if (pc === "*") {
      star = p++;
      mark = v;
    } else if (star >= 0) {
      p = star + 1;
      v = ++mark;
    } else {
      return false;
    }
  }
  while (pattern[p] === "*") p++;
  return p === pattern.length;
}
