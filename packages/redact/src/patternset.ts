// A set of user regexes (RE2) that answers "which pattern matches this line?" for a batch of lines
// with as few RE2 calls as possible: re2-wasm calls cost microseconds each (the text is copied into
// wasm memory), so literal pre-checks in JS and joined-line scans keep most lines away from RE2.
import type { RE2 } from "re2-wasm";
import { RuleError } from "./errors.js";
import { exactMatch, exactPattern, literalPrecheck, requiredLiterals } from "./literals.js";
import { compileUserRegex } from "./matchers.js";

/** Lines joined per RE2 call: bounds the text re-copied after each match. */
const CHUNK = 16;

export interface PatternEntry {
  /** Named in errors: "tenant a exclude[2].log". */
  rule: string;
  pattern: string;
  ignoreCase?: boolean;
}

/** Which entries take part (index → true); undefined: all. */
export type Active = readonly boolean[] | undefined;

/**
 * Compiled set of patterns; results are indexes into the entries it was built from (-1: none).
 * `active` restricts a call to some entries, so one set serves every subset of its rules: re2-wasm
 * never frees a compiled regex (no finalizer), so sets are built once per configuration, not per call.
 */
export interface PatternSet {
  readonly size: number;
  /** Index of an active pattern matching `line` (not necessarily the first in order), or -1. */
  matchLine(line: string, active?: Active): number;
  /** For each line, the index of a pattern matching it, or -1. Whether a line matches is always the
   * same as with matchLine; which index is reported may differ when several patterns match. */
  matchLines(lines: readonly string[], active?: Active): Int32Array;
}

const NAMED_GROUP = /\(\?P?<[A-Za-z_][A-Za-z0-9_]*>/g;
// `\A` / `\z` anchor on the whole text and would mean something else on joined lines.
const WHOLE_TEXT_ANCHOR = /\\[Az]/;

/**
 * Compiles each pattern with RE2 (RuleError names the bad one). Patterns with a required literal
 * are tested line by line, and only on lines holding that literal (cheap JS check first, then one
 * RE2 `test`). Patterns without one are combined into one alternation scanned over joined lines.
 */
export function compilePatternSet(entries: readonly PatternEntry[]): PatternSet {
  const singles = entries.map((e) => compileUserRegex(e.rule, e.pattern, e.ignoreCase ? "i" : ""));
  const prechecks = entries.map((e) => literalPrecheck([requiredLiterals(e.pattern, e.ignoreCase)]));
  // Pure-literal patterns (`connection reset by peer`, `GET /(healthz|readyz)`) are decided exactly
  // by substring search; RE2 still validated them above. Case-insensitive ones only when ASCII, so
  // lower-casing agrees with RE2's case folding.
  const exact = entries.map((e) => {
    const p = exactPattern(e.pattern);
    if (p === undefined || !e.ignoreCase) return p;
    return p.literals.every((l) => /^[\x20-\x7e]*$/.test(l)) ? { ...p, literals: p.literals.map((l) => l.toLowerCase()) } : undefined;
  });
  const withLiteral = entries.map((_, i) => i).filter((i) => prechecks[i] !== undefined);
  const without = entries.map((_, i) => i).filter((i) => prechecks[i] === undefined);
  let combined: RE2 | undefined;
  if (without.length > 1 && !without.some((i) => WHOLE_TEXT_ANCHOR.test(entries[i]!.pattern))) {
    const src = without
      .map((i) => {
        const e = entries[i]!;
        return `(?P<p${i}>${e.ignoreCase ? "(?i)" : ""}${e.pattern.replace(NAMED_GROUP, "(")})`;
      })
      .join("|");
    try {
      combined = compileUserRegex("combined patterns", src, "m");
    } catch (err) {
      if (!(err instanceof RuleError)) throw err;
      // Every pattern compiled alone; the combination is an optimisation we can skip, loudly.
      process.emitWarning(`pattern set: cannot combine ${without.length} patterns, testing one by one: ${err.message}`);
    }
  } else if (without.length === 1 && !WHOLE_TEXT_ANCHOR.test(entries[without[0]!]!.pattern)) {
    const i = without[0]!;
    combined = compileUserRegex("combined patterns", `(?P<p${i}>${entries[i]!.pattern.replace(NAMED_GROUP, "(")})`, entries[i]!.ignoreCase ? "im" : "m");
  }

  const on = (active: Active, i: number) => active === undefined || active[i] === true;

  const matchWithLiteral = (line: string, active: Active): number => {
    let lower: string | undefined;
    for (const i of withLiteral) {
      if (!on(active, i)) continue;
      const ex = exact[i];
      if (ex !== undefined) {
        if (exactMatch(ex, entries[i]!.ignoreCase ? (lower ??= line.toLowerCase()) : line)) return i;
        continue;
      }
      if (prechecks[i]!.test(line) && singles[i]!.test(line)) return i;
    }
    return -1;
  };
  const matchWithout = (line: string, active: Active): number => {
    for (const i of without) if (on(active, i) && singles[i]!.test(line)) return i;
    return -1;
  };
  const matchLine = (line: string, active?: Active): number => {
    const i = matchWithLiteral(line, active);
    return i >= 0 ? i : matchWithout(line, active);
  };

  const matchLines = (lines: readonly string[], active?: Active): Int32Array => {
    const result = new Int32Array(lines.length).fill(-1);
    if (singles.length === 0 || lines.length === 0) return result;
    const undecided: number[] = [];
    for (let i = 0; i < lines.length; i++) {
      const r = withLiteral.length === 0 ? -1 : matchWithLiteral(lines[i]!, active);
      if (r >= 0) result[i] = r;
      else undecided.push(i);
    }
    const activeWithout = without.filter((i) => on(active, i));
    if (activeWithout.length === 0) return result;
    // The combined alternation covers all patterns without literals; with only some of them active
    // it could report an inactive one, so those batches test the active ones line by line.
    if (combined === undefined || activeWithout.length !== without.length) {
      for (const i of undecided) result[i] = matchWithout(lines[i]!, active);
      return result;
    }
    const alone = (l: string) => matchWithout(l, undefined);
    for (let c = 0; c < undecided.length; c += CHUNK) scanChunk(combined, lines, undecided.slice(c, c + CHUNK), result, alone);
    return result;
  };

  return { size: entries.length, matchLine, matchLines };
}

/**
 * Decides a chunk of lines with as few RE2 calls as possible: scan the joined chunk, and after a
 * match continue with the lines after the matched one. re2-wasm copies the whole text on every
 * call (lastIndex does not avoid that), hence bounded chunks and restarting on the remainder.
 */
function scanChunk(re: RE2, lines: readonly string[], idx: number[], result: Int32Array, matchLine: (l: string) => number): void {
  let rest = idx;
  while (rest.length > 0) {
    const text = rest.length === 1 ? lines[rest[0]!]! : rest.map((i) => lines[i]!).join("\n");
    const m = re.exec(text);
    if (m === null) return;
    let line = 0;
    let start = 0;
    while (line + 1 < rest.length && start + lines[rest[line]!]!.length + 1 <= m.index) {
      start += lines[rest[line]!]!.length + 1;
      line++;
    }
    const lineEnd = start + lines[rest[line]!]!.length;
    const end = m.index + (m[0]?.length ?? 0);
    const g = end > lineEnd ? -1 : whichGroup(m.groups);
    // A match that ran past its line (e.g. `[^x]+` ate the newline) is decided on the line alone.
    result[rest[line]!] = g >= 0 ? g : matchLine(lines[rest[line]!]!);
    rest = rest.slice(line + 1);
  }
}

function whichGroup(groups: Record<string, string> | undefined): number {
  if (groups !== undefined) {
    for (const k of Object.keys(groups)) if (k.startsWith("p") && groups[k] !== undefined) return Number(k.slice(1));
  }
  return -1;
}
