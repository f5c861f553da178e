// User redaction rules: their shape, and compilation into RE2 regexes and name matchers.
import type { RE2 } from "re2-wasm";
import { RuleError } from "./errors.js";
import { compileNameMatchers, compileUserRegex, type NameMatcher } from "./matchers.js";

/**
 * A user redaction rule. `pattern` is an RE2 regex run on every text (log lines, messages, string
 * values): the whole match is masked, or only the named group `secret` when the pattern has one.
 * `keys` are case-insensitive name patterns (exact, `glob*`, `/RE2 regex/`, `all`; docs/patterns.md): values under matching object keys, env var
 * names, flags and `key=value` pairs are masked. The mask names the rule: `[REDACTED:<name>]`.
 */
export interface UserRule {
  name: string;
  pattern?: string;
  keys?: string[];
  ignoreCase?: boolean;
}

/** A user rule ready to run. */
export interface CompiledUserRule {
  readonly name: string;
  readonly pattern: RE2 | undefined;
  readonly source: string | undefined;
  readonly ignoreCase: boolean;
  readonly hasSecretGroup: boolean;
  readonly keys: NameMatcher | undefined;
  /** Lower-case literals one of which any matching key contains; undefined when a key selector is a regex. */
  readonly keyLiterals: string[] | undefined;
}

const RULE_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/;
const SECRET_GROUP = /\(\?P?<secret>/;

/** Validates and compiles user rules; throws RuleError naming the first bad rule. */
export function compileUserRules(rules: readonly UserRule[]): CompiledUserRule[] {
  const seen = new Set<string>();
  return rules.map((r, i) => {
    const label = typeof r?.name === "string" && r.name !== "" ? r.name : `#${i}`;
    if (typeof r !== "object" || r === null) throw new RuleError(label, "rule must be an object");
    for (const k of Object.keys(r)) {
      if (!["name", "pattern", "keys", "ignoreCase"].includes(k)) throw new RuleError(label, `unknown field ${JSON.stringify(k)}`);
    }
    if (typeof r.name !== "string" || !RULE_NAME.test(r.name)) {
      throw new RuleError(label, "name must match [A-Za-z0-9][A-Za-z0-9_.-]* (it appears in masks)");
    }
    if (seen.has(r.name)) throw new RuleError(label, "duplicate rule name");
    seen.add(r.name);
    if (r.pattern === undefined && (r.keys === undefined || r.keys.length === 0)) {
      throw new RuleError(label, "rule needs a pattern or keys");
    }
    if (r.keys !== undefined && !Array.isArray(r.keys)) throw new RuleError(label, "keys must be a list of name selectors");
    const pattern = r.pattern === undefined ? undefined : compileUserRegex(label, r.pattern, r.ignoreCase ? "gi" : "g");
    return {
      name: r.name,
      pattern,
      source: r.pattern,
      ignoreCase: r.ignoreCase === true,
      hasSecretGroup: r.pattern !== undefined && SECRET_GROUP.test(r.pattern),
      keyLiterals: r.keys === undefined ? undefined : keyLiterals(r.keys),
      keys: r.keys === undefined || r.keys.length === 0 ? undefined : compileNameMatchers(`${label}.keys`, r.keys, { ignoreCase: true }),
    };
  });
}

/** The longest literal run of each exact/glob selector, for a cheap pre-check of text (none: always look). */
function keyLiterals(selectors: readonly string[]): string[] | undefined {
  const out: string[] = [];
  for (const raw of selectors) {
    const s = raw.trim();
    // A regex, or `all` (every name): no literal must appear.
    if (s.startsWith("/") || s === "all") return undefined;
    const longest = s.split(/[*?]/).reduce((a, b) => (b.length > a.length ? b : a), "");
    if (longest === "") return undefined;
    out.push(longest.toLowerCase());
  }
  return out;
}
