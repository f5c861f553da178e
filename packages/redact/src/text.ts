// Redacts free text (log lines, Event messages, string values) with built-ins and user rules.
import { BUILTINS, BUILTIN_QUICK, FLAG_VALUE_RE, KEY_VALUE_RE, SECRET_WORD_QUICK, mask } from "./builtins.js";
import { isSecretName, ruleForSecretName } from "./names.js";
import { compilePatternSet, type PatternSet } from "./patternset.js";
import type { CompiledUserRule } from "./rules.js";

/** Where a mask was applied: the rule, and for objects the path of the value. */
export interface RuleHit {
  rule: string;
  path?: string;
}

/** Text redaction with a fixed rule set; `hit` is told about every mask it applies. */
export class TextRedactor {
  private readonly userKeyRules: CompiledUserRule[];
  private readonly userPatternRules: CompiledUserRule[];
  /** Matches text that may hold a user key; undefined = always look (some key selector is a regex). */
  private readonly userKeyQuick: RegExp | undefined;
  /** All user patterns as one set, to find the lines of a batch they match in one RE2 scan. */
  private readonly patternSet: PatternSet | undefined;

  constructor(
    private readonly builtins: boolean,
    userRules: readonly CompiledUserRule[],
  ) {
    this.userKeyRules = userRules.filter((r) => r.keys !== undefined);
    this.userPatternRules = userRules.filter((r) => r.pattern !== undefined);
    const literals = this.userKeyRules.map((r) => r.keyLiterals);
    // Escaped literals only: linear on V8.
    this.userKeyQuick = literals.some((l) => l === undefined)
      ? undefined
      : new RegExp(literals.flat().map((l) => l!.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")).join("|") || "(?!)", "i");
    this.patternSet =
      this.userPatternRules.length === 0
        ? undefined
        : compilePatternSet(this.userPatternRules.map((r) => ({ rule: r.name, pattern: r.source!, ignoreCase: r.ignoreCase })));
  }

  /** Which rule (if any) makes the value under `name` secret. */
  ruleForName(name: string, fallback: string): string | undefined {
    for (const r of this.userKeyRules) if (r.keys!(name)) return r.name;
    if (this.builtins && isSecretName(name)) return ruleForSecretName(name, fallback);
    return undefined;
  }

  redact(s: string, hit: (rule: string) => void): string {
    return this.redactUserPatterns(this.redactFixed(s, hit), hit);
  }

  /**
   * Redacts a batch of lines. User patterns (RE2, where each call costs) first scan the whole batch
   * once; only lines with a candidate match get the per-rule pass.
   */
  redactLines(lines: readonly string[], hit: (rule: string) => void): string[] {
    const out = lines.map((l) => this.redactFixed(l, hit));
    if (this.userPatternRules.length === 0) return out;
    const candidates = this.patternSet!.matchLines(out);
    for (let i = 0; i < out.length; i++) {
      if (candidates[i]! >= 0) out[i] = this.redactUserPatterns(out[i]!, hit);
    }
    return out;
  }

  /** Built-ins and key rules: JS regexes, cheap, run on every text. */
  private redactFixed(s: string, hit: (rule: string) => void): string {
    if (s.length === 0) return s;
    let out = s;
    if (this.builtins && BUILTIN_QUICK.test(out)) {
      for (const b of BUILTINS) {
        if (!b.quick(out)) continue;
        b.re.lastIndex = 0;
        out = out.replace(b.re, (...args: unknown[]) => {
          const groups = args[args.length - 1] as Record<string, string | undefined> | undefined;
          // Already masked by an earlier, more specific rule (e.g. a JWT inside an Authorization header).
          if (groups && typeof groups === "object" && groups.secret?.startsWith("[REDACTED")) return args[0] as string;
          hit(b.rule);
          if (groups && typeof groups === "object" && groups.secret !== undefined) {
            return (groups.pre ?? "") + mask(b.rule) + (groups.post ?? "");
          }
          return mask(b.rule);
        });
      }
    }
    const userKeys = this.userKeyRules.length > 0 && (this.userKeyQuick === undefined || this.userKeyQuick.test(out));
    if (userKeys || (this.builtins && SECRET_WORD_QUICK.test(out))) out = this.redactPairs(out, hit);
    return out;
  }

  private redactUserPatterns(s: string, hit: (rule: string) => void): string {
    let out = s;    for (const r of this.userPatternRules) {
      const re = r.pattern!;
      re.lastIndex = 0;
      out = re.replace(out, (m: string, ...args: unknown[]) => {
        hit(r.name);
        const groups = args[args.length - 1] as Record<string, string | undefined> | undefined;
        const secret = groups && typeof groups === "object" ? groups.secret : undefined;
        if (r.hasSecretGroup && secret !== undefined && secret !== "") {
          // RE2 does not report group offsets; masking the first occurrence of the group's text inside
          // the match hides the same characters either way.
          const at = m.indexOf(secret);
          return m.slice(0, at) + mask(r.name) + m.slice(at + secret.length);
        }
        return mask(r.name);
      });
    }
    return out;
  }

  /** `key=value` pairs and `--flag value` arguments whose key names a secret. */
  private redactPairs(s: string, hit: (rule: string) => void): string {
    let out = s.replace(KEY_VALUE_RE, (m: string, ...args: unknown[]) => this.maskPair(m, args, "secret-field", hit));
    if (out.includes("-")) {
      out = out.replace(FLAG_VALUE_RE, (m: string, ...args: unknown[]) => this.maskPair(m, args, "secret-arg", hit));
    }
    return out;
  }

  private maskPair(m: string, args: unknown[], fallback: string, hit: (rule: string) => void): string {
    const g = args[args.length - 1] as Record<string, string | undefined>;
    const key = g.key ?? "";
    const value = g.edq ?? g.dq ?? g.sq ?? g.bare ?? "";
    if (value === "" || value.startsWith("[REDACTED")) return m;
    const pre = g.pre ?? "";
    const q = g.eq !== undefined ? '\\"' : g.dq !== undefined ? '"' : g.sq !== undefined ? "'" : "";
    const rule = this.ruleForName(key, fallback);
    if (rule === undefined) {
      // The value may itself hold pairs: JSON inside a JSON string, or a bare `password=x` after a
      // `word: ` prefix ("pull failed: password=x" matches key "failed" first). The inner text is
      // strictly shorter, so this recursion ends.
      if (SECRET_WORD_QUICK.test(value)) return pre + q + this.redactPairs(value, hit) + q;
      return m;
    }
    hit(rule);
    return pre + q + mask(rule) + q;
  }
}

