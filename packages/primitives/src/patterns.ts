// Name and namespace patterns (docs/patterns.md), one syntax everywhere: an exact name, a glob (`prod-*`,
// `web-?`), an RE2 regex between slashes (`/^team-\d+$/`, `/^web/i`), or `all` / `*` for everything.
// User regexes only ever run on RE2 (linear time, no lookaround or backreferences).
import { createRequire } from "node:module";
import type { RE2 } from "re2-wasm";

/** A pattern (or a user regex) that cannot be compiled; callers name the setting it came from. */
export class PatternError extends Error {
  override readonly name = "PatternError";
  /** The pattern as written. */
  readonly pattern: string;
  /** What is wrong with it, without the pattern. */
  readonly reason: string;
  /** Its position when it came from a list (compileNamePatterns). */
  readonly index: number | undefined;
  constructor(pattern: string, reason: string, options: { cause?: unknown; index?: number } = {}) {
    super(`invalid pattern ${JSON.stringify(pattern)}: ${reason}`, { cause: options.cause });
    this.pattern = pattern;
    this.reason = reason;
    this.index = options.index;
  }
}

// re2-wasm costs ~9 MB of memory once loaded: only a process that compiles a regex pays for it (the
// simulator and a watcher configured with names and globs never do).
let RE2Ctor: typeof RE2 | undefined;
function re2(): typeof RE2 {
  RE2Ctor ??= (createRequire(import.meta.url)("re2-wasm") as { RE2: typeof RE2 }).RE2;
  return RE2Ctor;
}

/**
 * Compiles a user regex with RE2 (re2-wasm requires the `u` flag; `flags` may add `i`, `m`, `s`, `g`).
 * Throws PatternError when RE2 rejects it (backreferences, lookaround, syntax) or it is empty.
 * re2-wasm never frees a compiled regex: compile once per configuration, not per call.
 */
export function compileRe2(source: string, flags = ""): RE2 {
  if (typeof source !== "string" || source === "") throw new PatternError(String(source), "a regex must be a non-empty string");
  const f = [...new Set(("u" + flags).split(""))].join("");
  const Ctor = re2();
  try {
    return new Ctor(source, f);
  } catch (cause) {
    throw new PatternError(source, `not valid RE2: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
  }
}

/** Tells whether a name matches; `matchesAll` is true when it matches every name (`all`, `*`). */
export type NamePattern = ((name: string) => boolean) & { readonly matchesAll: boolean };

export interface NamePatternOptions {
  /** Compare without case: exact names and globs lower-cased, regexes with the `i` flag. */
  ignoreCase?: boolean;
}

const REGEX = /^\/(.*)\/(i?)$/s;

function named(test: (name: string) => boolean, matchesAll = false): NamePattern {
  return Object.assign(test, { matchesAll });
}

/**
 * Compiles one pattern (surrounding white space is ignored):
 * - `all` or `*`: every name, the empty one (cluster-scoped objects) included;
 * - `/regex/` or `/regex/i`: RE2, searched in the name (anchor it with `^…$` to match whole names);
 * - with `*` (any run, also empty) or `?` (one character): a glob over the whole name;
 * - anything else: exactly that name.
 */
export function compileNamePattern(pattern: string, options: NamePatternOptions = {}): NamePattern {
  if (typeof pattern !== "string") throw new PatternError(String(pattern), "a pattern must be a string");
  const p = pattern.trim();
  if (p === "") throw new PatternError(pattern, "empty pattern");
  if (p === "all" || p === "*") return named(() => true, true);
  const re = REGEX.exec(p);
  if (re) {
    if (re[1] === "") throw new PatternError(pattern, "empty regex");
    let compiled: RE2;
    try {
      compiled = compileRe2(re[1]!, options.ignoreCase || re[2] === "i" ? "i" : "");
    } catch (err) {
      // Name the pattern as written (with its slashes), not the regex inside it.
      if (err instanceof PatternError) throw new PatternError(pattern, err.reason, { cause: err.cause });
      throw err;
    }
    return named((name) => compiled.test(name));
  }
  const fold = options.ignoreCase === true;
  const want = fold ? p.toLowerCase() : p;
  if (want.includes("*") || want.includes("?")) return named((name) => globMatch(want, fold ? name.toLowerCase() : name));
  return named(fold ? (name) => name.toLowerCase() === want : (name) => name === want);
}

/** Any of the patterns (an empty list matches nothing). PatternError names the first bad one and its index. */
export function compileNamePatterns(patterns: readonly string[], options: NamePatternOptions = {}): NamePattern {
  if (!Array.isArray(patterns)) throw new PatternError(String(patterns), "expected a list of patterns");
  const ps = patterns.map((p, index) => {
    try {
      return compileNamePattern(p, options);
    } catch (err) {
      if (err instanceof PatternError) throw new PatternError(err.pattern, err.reason, { cause: err.cause, index });
      throw err;
    }
  });
  if (ps.some((p) => p.matchesAll)) return named(() => true, true);
  if (ps.length === 1) return ps[0]!;
  return named((name) => ps.some((p) => p(name)));
}

/**
 * Glob match (`*` any run, `?` one character) without regex: the two-pointer algorithm with one
 * backtrack point, O(pattern × value) at worst and never exponential.
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
