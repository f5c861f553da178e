// Kubernetes-style label selectors (`app=web,tier in (a,b),!canary`) compiled to predicates.
import { RuleError } from "@faro/redact";

export type Labels = Readonly<Record<string, string>>;
export type LabelPredicate = (labels: Labels | undefined) => boolean;

type Requirement =
  | { op: "exists" | "notexists"; key: string }
  | { op: "in" | "notin"; key: string; values: Set<string> }
  | { op: "eq" | "neq"; key: string; value: string };

const KEY = /^(?:[A-Za-z0-9][-A-Za-z0-9_.]{0,252}\/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;
const VALUE = /^(?:[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$/;

/**
 * Compiles a selector: the string syntax of `kubectl -l` (`k=v`, `k==v`, `k!=v`, `k in (a,b)`,
 * `k notin (a,b)`, `k`, `!k`, comma = AND) or a `{key: value}` map (all must be equal).
 */
export function compileLabelSelector(rule: string, selector: string | Record<string, string>): LabelPredicate {
  const reqs = typeof selector === "string" ? parseSelector(rule, selector) : fromMap(rule, selector);
  return (labels) => reqs.every((r) => satisfies(r, labels ?? {}));
}

function fromMap(rule: string, map: Record<string, string>): Requirement[] {
  if (map === null || typeof map !== "object" || Array.isArray(map)) throw new RuleError(rule, "labels must be a selector string or a map");
  return Object.entries(map).map(([key, value]) => {
    if (typeof value !== "string") throw new RuleError(rule, `label ${key}: value must be a string`);
    return { op: "eq" as const, key: checkKey(rule, key), value };
  });
}

function splitTopLevel(s: string): string[] {
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

function parseSelector(rule: string, s: string): Requirement[] {
  if (typeof s !== "string") throw new RuleError(rule, "labels must be a selector string or a map");
  return splitTopLevel(s).map((part) => {
    let m = /^!\s*(\S+)$/.exec(part);
    if (m) return { op: "notexists", key: checkKey(rule, m[1]!) };
    m = /^(\S+?)\s+(in|notin)\s+\(([^()]*)\)$/.exec(part);
    if (m) {
      const values = m[3]!.split(",").map((v) => v.trim());
      for (const v of values) checkValue(rule, v);
      return { op: m[2] as "in" | "notin", key: checkKey(rule, m[1]!), values: new Set(values) };
    }
    m = /^([^=!\s]+)\s*(==|=|!=)\s*(\S*)$/.exec(part);
    if (m) return { op: m[2] === "!=" ? "neq" : "eq", key: checkKey(rule, m[1]!), value: checkValue(rule, m[3]!) };
    if (/^\S+$/.test(part)) return { op: "exists", key: checkKey(rule, part) };
    throw new RuleError(rule, `cannot parse label selector requirement ${JSON.stringify(part)}`);
  });
}

function checkKey(rule: string, key: string): string {
  if (!KEY.test(key)) throw new RuleError(rule, `invalid label key ${JSON.stringify(key)}`);
  return key;
}
function checkValue(rule: string, value: string): string {
  if (!VALUE.test(value)) throw new RuleError(rule, `invalid label value ${JSON.stringify(value)}`);
  return value;
}

function satisfies(r: Requirement, labels: Labels): boolean {
  const has = Object.prototype.hasOwnProperty.call(labels, r.key);
  const v = labels[r.key];
  switch (r.op) {
    case "exists":
      return has;
    case "notexists":
      return !has;
    case "eq":
      return has && v === r.value;
    case "neq":
      return !has || v !== r.value;
    case "in":
      return has && r.values.has(v!);
    case "notin":
      return !has || !r.values.has(v!);
  }
}
