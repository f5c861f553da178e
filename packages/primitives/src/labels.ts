// Label selectors in the syntax of `kubectl -l` (docs/patterns.md): `k=v`, `k==v`, `k!=v`,
// `k in (a,b)`, `k notin (a,b)`, `k` (exists), `!k` (does not exist); a comma means AND. The same parser
// serves the simulator's API server (labelSelector=) and the filter's tenant rules.

export type Labels = Readonly<Record<string, string>>;

export type LabelOperator = "=" | "!=" | "in" | "notin" | "exists" | "!exists";

export interface LabelRequirement {
  readonly key: string;
  readonly op: LabelOperator;
  /** One value for = and !=, the set for in/notin, none for exists/!exists. */
  readonly values: readonly string[];
}

/** A predicate over an object's labels (absent labels: no labels). */
export type LabelPredicate = ((labels: Labels | undefined) => boolean) & {
  readonly requirements: readonly LabelRequirement[];
};

/** A selector that cannot be parsed, or a key or value Kubernetes would not accept. */
export class LabelSelectorError extends Error {
  override readonly name = "LabelSelectorError";
  readonly selector: string;
  /** What is wrong, without the selector. */
  readonly reason: string;
  constructor(selector: string, reason: string) {
    super(`invalid label selector ${JSON.stringify(selector)}: ${reason}`);
    this.selector = selector;
    this.reason = reason;
  }
}

// Kubernetes' own limits: an optional DNS-subdomain prefix and a name of at most 63 characters; values
// of at most 63 characters, alphanumeric at both ends (or empty).
const KEY = /^(?:[A-Za-z0-9][-A-Za-z0-9_.]{0,252}\/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;
const VALUE = /^(?:[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$/;

/** Splits on commas outside parentheses; empty terms are dropped (`a=b,` is `a=b`). */
function splitTerms(s: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let cur = "";
  for (const ch of s) {
    if (ch === "(") depth++;
    if (ch === ")") depth--;
    if (ch === "," && depth === 0) {
      parts.push(cur);
      cur = "";
    } else cur += ch;
  }
  parts.push(cur);
  return parts.map((p) => p.trim()).filter((p) => p !== "");
}

/** Parses a selector string into its requirements (all must hold); "" has none and matches everything. */
export function parseLabelSelector(selector: string): LabelRequirement[] {
  if (typeof selector !== "string") throw new LabelSelectorError(String(selector), "a selector must be a string");
  const key = (k: string): string => {
    if (!KEY.test(k)) throw new LabelSelectorError(selector, `invalid label key ${JSON.stringify(k)}`);
    return k;
  };
  const value = (v: string): string => {
    if (!VALUE.test(v)) throw new LabelSelectorError(selector, `invalid label value ${JSON.stringify(v)}`);
    return v;
  };
  return splitTerms(selector).map((term): LabelRequirement => {
    let m = /^!\s*(\S+)$/.exec(term);
    if (m) return { key: key(m[1]!), op: "!exists", values: [] };
    m = /^(\S+?)\s+(in|notin)\s*\(([^()]*)\)$/.exec(term);
    if (m) return { key: key(m[1]!), op: m[2] as "in" | "notin", values: [...new Set(m[3]!.split(",").map((v) => value(v.trim())))] };
    m = /^([^=!\s]+)\s*(==|=|!=)\s*(\S*)$/.exec(term);
    if (m) return { key: key(m[1]!), op: m[2] === "!=" ? "!=" : "=", values: [value(m[3]!)] };
    if (/^[^=!\s()]+$/.test(term)) return { key: key(term), op: "exists", values: [] };
    throw new LabelSelectorError(selector, `cannot parse requirement ${JSON.stringify(term)}`);
  });
}

/** Requirements of a `{key: value}` map (Kubernetes' matchLabels): every label equal. */
export function labelMapRequirements(map: Record<string, string>): LabelRequirement[] {
  if (map === null || typeof map !== "object" || Array.isArray(map)) throw new LabelSelectorError(String(map), "expected a selector string or a map");
  return Object.entries(map).map(([k, v]) => {
    const shown = `${k}=${String(v)}`;
    if (typeof v !== "string") throw new LabelSelectorError(shown, `label ${k}: value must be a string`);
    if (!KEY.test(k)) throw new LabelSelectorError(shown, `invalid label key ${JSON.stringify(k)}`);
    if (!VALUE.test(v)) throw new LabelSelectorError(shown, `invalid label value ${JSON.stringify(v)}`);
    return { key: k, op: "=" as const, values: [v] };
  });
}

/** Whether `labels` satisfy every requirement. */
export function matchesLabels(requirements: readonly LabelRequirement[], labels: Labels | undefined): boolean {
  for (const r of requirements) {
    const has = labels !== undefined && Object.prototype.hasOwnProperty.call(labels, r.key);
    const v = has ? labels![r.key] : undefined;
    let ok: boolean;
    switch (r.op) {
      case "exists":
        ok = has;
        break;
      case "!exists":
        ok = !has;
        break;
      case "=":
        ok = has && v === r.values[0];
        break;
      case "!=":
        ok = !has || v !== r.values[0];
        break;
      case "in":
        ok = has && r.values.includes(v!);
        break;
      case "notin":
        ok = !has || !r.values.includes(v!);
        break;
    }
    if (!ok) return false;
  }
  return true;
}

/** Compiles a selector string or a `{key: value}` map into a predicate; LabelSelectorError when invalid. */
export function compileLabelSelector(selector: string | Record<string, string>): LabelPredicate {
  const requirements = typeof selector === "string" ? parseLabelSelector(selector) : labelMapRequirements(selector);
  return Object.assign((labels: Labels | undefined) => matchesLabels(requirements, labels), { requirements });
}
