// Extracts, from a regex source, literal strings one of which every match must contain: a cheap
// JS `includes`-style pre-check that lets most lines skip the RE2 call (re2-wasm calls cost micro-
// seconds each, mostly copying the text into wasm memory).

/** Alternatives: a match contains at least one of these strings. null: nothing known. */
type Req = string[] | null;

export interface RequiredLiterals {
  literals: string[];
  /** The pattern (or part of it) is case-insensitive: compare ignoring case. */
  ignoreCase: boolean;
}

class Unknown extends Error {}

/**
 * Returns literals one of which every match of `source` contains, or undefined when the pattern is
 * too complex to tell (the caller then always runs the regex). Conservative by construction: any
 * construct not understood makes its part "unknown", never "required".
 */
export function requiredLiterals(source: string, ignoreCase = false): RequiredLiterals | undefined {
  const p = new Parser(source);
  try {
    const req = p.alternation();
    if (p.i !== source.length || req === null || req.length === 0) return undefined;
    return { literals: req, ignoreCase: ignoreCase || p.ignoreCase };
  } catch (err) {
    if (err instanceof Unknown) return undefined;
    throw err;
  }
}

const isQuantStart = (c: string | undefined) => c === "*" || c === "+" || c === "?" || c === "{";

class Parser {
  i = 0;
  ignoreCase = false;
  constructor(private readonly s: string) {}

  alternation(): Req {
    const branches: Req[] = [this.concat()];
    while (this.s[this.i] === "|") {
      this.i++;
      branches.push(this.concat());
    }
    if (branches.some((b) => b === null)) return null;
    return [...new Set(branches.flatMap((b) => b!))];
  }

  concat(): Req {
    const factors: string[][] = [];
    let run = "";
    const flush = () => {
      if (run !== "") factors.push([run]);
      run = "";
    };
    for (;;) {
      const c = this.s[this.i];
      if (c === undefined || c === "|" || c === ")") break;
      if (c === "(") {
        flush();
        const inner = this.group();
        const q = this.quantifier();
        if (inner !== null && q !== "optional") factors.push(inner);
        continue;
      }
      if (c === "[") {
        flush();
        this.skipClass();
        this.quantifier();
        continue;
      }
      if (c === "." || c === "^" || c === "$") {
        flush();
        this.i++;
        this.quantifier();
        continue;
      }
      let ch: string;
      if (c === "\\") {
        const d = this.s[this.i + 1];
        if (d === undefined) throw new Unknown();
        if (/[A-Za-z0-9]/.test(d)) {
          // \d \w \s \b \pL \x41 \Q…: not a plain literal; skip its argument if it has one.
          if (d === "Q" || d === "C") throw new Unknown();
          this.i += 2;
          if ((d === "p" || d === "P" || d === "x") && this.s[this.i] === "{") {
            const end = this.s.indexOf("}", this.i);
            if (end < 0) throw new Unknown();
            this.i = end + 1;
          } else if (d === "p" || d === "P") this.i++;
          else if (d === "x") this.i += 2;
          flush();
          this.quantifier();
          continue;
        }
        ch = d;
        this.i += 2;
      } else {
        if (isQuantStart(c)) throw new Unknown();
        ch = String.fromCodePoint(this.s.codePointAt(this.i)!);
        this.i += ch.length;
      }
      const q = this.quantifier();
      if (q === "optional") flush();
      else if (q === "repeat") {
        run += ch;
        flush();
      } else run += ch;
    }
    flush();
    if (factors.length === 0) return null;
    // The factor whose shortest alternative is longest filters best.
    let best = factors[0]!;
    const score = (f: string[]) => Math.min(...f.map((x) => x.length));
    for (const f of factors) if (score(f) >= score(best)) best = f;
    return best;
  }

  group(): Req {
    // At "(": capturing, (?:…), (?P<n>…), (?<n>…), (?flags:…) or a bare (?flags).
    this.i++;
    if (this.s[this.i] === "?") {
      const rest = this.s.slice(this.i);
      const named = /^\?P?<[A-Za-z_][A-Za-z0-9_]*>/.exec(rest);
      const flags = /^\?([imsU-]*)(:|\))/.exec(rest);
      if (named) this.i += named[0].length;
      else if (flags) {
        if (flags[1]!.includes("i")) this.ignoreCase = true;
        this.i += flags[0].length;
        // `(?i)` is not a group: it changes flags for the rest; nothing to return.
        if (flags[2] === ")") return null;
      } else throw new Unknown();
    }
    const inner = this.alternation();
    if (this.s[this.i] !== ")") throw new Unknown();
    this.i++;
    return inner;
  }

  skipClass(): void {
    this.i++;
    if (this.s[this.i] === "^") this.i++;
    if (this.s[this.i] === "]") this.i++;
    while (this.i < this.s.length && this.s[this.i] !== "]") {
      if (this.s[this.i] === "\\") this.i += 2;
      else if (this.s.startsWith("[:", this.i)) {
        const end = this.s.indexOf(":]", this.i + 2);
        if (end < 0) throw new Unknown();
        this.i = end + 2;
      } else this.i++;
    }
    if (this.s[this.i] !== "]") throw new Unknown();
    this.i++;
  }

  /** Consumes a quantifier if present: "optional" (may match zero times), "repeat" (≥1), or "none". */
  quantifier(): "optional" | "repeat" | "none" {
    const c = this.s[this.i];
    let kind: "optional" | "repeat" | "none" = "none";
    if (c === "*" || c === "?") {
      kind = "optional";
      this.i++;
    } else if (c === "+") {
      kind = "repeat";
      this.i++;
    } else if (c === "{") {
      const m = /^\{(\d+)(,\d*)?\}/.exec(this.s.slice(this.i));
      if (!m) return "none"; // RE2 treats a malformed {…} as literal; RE2 compilation decides.
      kind = Number(m[1]) === 0 ? "optional" : m[2] === undefined && Number(m[1]) === 1 ? "none" : "repeat";
      this.i += m[0].length;
    } else return "none";
    if (this.s[this.i] === "?") this.i++;
    if (isQuantStart(this.s[this.i])) throw new Unknown();
    return kind;
  }
}

/**
 * A JS RegExp testing whether a text contains any of the literals (escaped, so linear on V8), or
 * undefined when some pattern gives no useful literal (then every text must go to RE2).
 */
export function literalPrecheck(reqs: readonly (RequiredLiterals | undefined)[], minLength = 3): RegExp | undefined {
  if (reqs.length === 0) return undefined;
  const lits: string[] = [];
  let ignoreCase = false;
  for (const r of reqs) {
    if (r === undefined || r.literals.some((l) => l.length < minLength)) return undefined;
    lits.push(...r.literals);
    ignoreCase ||= r.ignoreCase;
  }
  const src = [...new Set(lits)].map((l) => l.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&")).join("|");
  // `u`: Unicode case folding, closest to RE2's (?i).
  return new RegExp(src, ignoreCase ? "iu" : "u");
}

/**
 * When `source` is nothing but literal text (with groups and `|` alternation, no classes, anchors,
 * quantifiers or special escapes), returns every string it matches (at most `max`); else undefined.
 * Such a pattern is decided exactly by substring search, without a regex engine at all.
 */
export function exactLiterals(source: string, max = 64): string[] | undefined {
  let i = 0;
  const s = source;
  const fail = (): never => {
    throw new Unknown();
  };
  const alternation = (): string[] => {
    const out = [...concat()];
    while (s[i] === "|") {
      i++;
      out.push(...concat());
    }
    if (out.length > max) fail();
    return out;
  };
  const concat = (): string[] => {
    let acc = [""];
    for (;;) {
      const c = s[i];
      if (c === undefined || c === "|" || c === ")") break;
      let parts: string[];
      if (c === "(") {
        i++;
        if (s[i] === "?") {
          const named = /^\?(?:P?<[A-Za-z_][A-Za-z0-9_]*>|:)/.exec(s.slice(i));
          if (!named) fail();
          i += named![0].length;
        }
        parts = alternation();
        if (s[i] !== ")") fail();
        i++;
      } else if (c === "\\") {
        const d = s[i + 1];
        if (d === undefined || /[A-Za-z0-9]/.test(d)) fail();
        parts = [d!];
        i += 2;
      } else if ("[].^$*+?{}".includes(c)) {
        return fail();
      } else {
        const ch = String.fromCodePoint(s.codePointAt(i)!);
        parts = [ch];
        i += ch.length;
      }
      const q = s[i];
      if (q === "*" || q === "+" || q === "?" || q === "{") fail();
      acc = acc.flatMap((a) => parts.map((p) => a + p));
      if (acc.length > max) fail();
    }
    return acc;
  };
  try {
    const out = alternation();
    if (i !== s.length || out.some((x) => x === "")) return undefined;
    return [...new Set(out)];
  } catch (err) {
    if (err instanceof Unknown) return undefined;
    throw err;
  }
}

/** A pure-literal pattern, optionally wrapped in `\\b…\\b`: decided by substring search alone. */
export interface ExactPattern {
  literals: string[];
  boundaryStart: boolean;
  boundaryEnd: boolean;
}

/** exactLiterals, also accepting a leading and/or trailing `\\b` (ASCII word boundary, as in RE2). */
export function exactPattern(source: string, max = 64): ExactPattern | undefined {
  let src = source;
  const boundaryStart = src.startsWith("\\b");
  if (boundaryStart) src = src.slice(2);
  const boundaryEnd = src.endsWith("\\b") && !src.endsWith("\\\\b");
  if (boundaryEnd) src = src.slice(0, -2);
  // A top-level `|` would bind the boundaries to the outer branches only.
  if ((boundaryStart || boundaryEnd) && hasTopLevelBar(src)) return undefined;
  const literals = exactLiterals(src, max);
  return literals === undefined ? undefined : { literals, boundaryStart, boundaryEnd };
}

function hasTopLevelBar(s: string): boolean {
  let depth = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (c === "\\") i++;
    else if (c === "(") depth++;
    else if (c === ")") depth--;
    else if (c === "|" && depth === 0) return true;
  }
  return false;
}

const isWordCode = (c: number) => (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95;
const wordAt = (s: string, i: number) => i >= 0 && i < s.length && isWordCode(s.charCodeAt(i));

/** Whether `hay` contains one of the pattern's literals with the required word boundaries. */
export function exactMatch(p: ExactPattern, hay: string): boolean {
  for (const lit of p.literals) {
    let from = 0;
    for (;;) {
      const at = hay.indexOf(lit, from);
      if (at < 0) break;
      const end = at + lit.length;
      const okStart = !p.boundaryStart || wordAt(hay, at - 1) !== wordAt(hay, at);
      const okEnd = !p.boundaryEnd || wordAt(hay, end - 1) !== wordAt(hay, end);
      if (okStart && okEnd) return true;
      from = at + 1;
    }
  }
  return false;
}
