// Label and field selector parsing and matching for list and watch requests.
import { badRequest } from "../errors.js";
import type { KubeObject } from "../types.js";

export type Matcher = (obj: KubeObject) => boolean;

interface Req {
  key: string;
  op: "=" | "!=" | "in" | "notin" | "exists" | "!exists";
  values: string[];
}

/** Splits on commas that are not inside parentheses. */
function splitTerms(s: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let cur = "";
  for (const ch of s) {
    if (ch === "(") depth++;
    if (ch === ")") depth--;
    if (ch === "," && depth === 0) {
      out.push(cur);
      cur = "";
    } else cur += ch;
  }
  out.push(cur);
  return out.map((x) => x.trim()).filter((x) => x.length > 0);
}

function parseLabelReqs(sel: string): Req[] {
  const reqs: Req[] = [];
  for (const term of splitTerms(sel)) {
    let m = /^(\S+)\s+(in|notin)\s*\(([^)]*)\)$/.exec(term);
    if (m) {
      reqs.push({ key: m[1]!, op: m[2] as "in" | "notin", values: m[3]!.split(",").map((v) => v.trim()) });
      continue;
    }
    m = /^([^=!\s]+)\s*(==|=|!=)\s*(\S*)$/.exec(term);
    if (m) {
      reqs.push({ key: m[1]!, op: m[2] === "!=" ? "!=" : "=", values: [m[3]!] });
      continue;
    }
    m = /^(!?)\s*([^=!\s()]+)$/.exec(term);
    if (m) {
      reqs.push({ key: m[2]!, op: m[1] ? "!exists" : "exists", values: [] });
      continue;
    }
    throw badRequest(`unable to parse requirement: invalid label selector "${sel}"`);
  }
  return reqs;
}

function test(r: Req, v: string | undefined): boolean {
  switch (r.op) {
    case "=":
      return v === r.values[0];
    case "!=":
      return v !== r.values[0];
    case "in":
      return v !== undefined && r.values.includes(v);
    case "notin":
      return v === undefined || !r.values.includes(v);
    case "exists":
      return v !== undefined;
    case "!exists":
      return v === undefined;
  }
}

/** Parses a labelSelector; undefined when the selector is empty (matches everything). */
export function parseLabelSelector(sel: string | null | undefined): Matcher | undefined {
  if (!sel) return undefined;
  const reqs = parseLabelReqs(sel);
  if (reqs.length === 0) return undefined;
  return (obj) => {
    const labels = obj.metadata.labels ?? {};
    return reqs.every((r) => test(r, Object.prototype.hasOwnProperty.call(labels, r.key) ? labels[r.key] : undefined));
  };
}

const FIELD_PATHS = new Set([
  "metadata.name",
  "metadata.namespace",
  "status.phase",
  "spec.nodeName",
  "spec.schedulerName",
  "spec.restartPolicy",
  "status.podIP",
  "involvedObject.kind",
  "involvedObject.name",
  "involvedObject.namespace",
  "involvedObject.uid",
  "involvedObject.apiVersion",
  "involvedObject.resourceVersion",
  "involvedObject.fieldPath",
  "type",
  "reason",
  "source",
  "reportingComponent",
  "regarding.kind",
  "regarding.name",
  "regarding.namespace",
  "regarding.uid",
  "spec.unschedulable",
]);

function fieldValue(obj: KubeObject, path: string): string {
  let cur: unknown = obj;
  for (const part of path.split(".")) {
    if (cur === null || typeof cur !== "object") return "";
    cur = (cur as Record<string, unknown>)[part];
  }
  if (path === "source" && cur && typeof cur === "object") return String((cur as { component?: string }).component ?? "");
  return cur === undefined || cur === null ? "" : String(cur);
}

/** Parses a fieldSelector (=, ==, != on the supported fields); undefined when empty. */
export function parseFieldSelector(sel: string | null | undefined): Matcher | undefined {
  if (!sel) return undefined;
  const reqs: { path: string; neg: boolean; value: string }[] = [];
  for (const term of splitTerms(sel)) {
    const m = /^([^=!\s]+)\s*(==|=|!=)\s*(.*)$/.exec(term);
    if (!m) throw badRequest(`invalid selector: '${sel}'; can't understand '${term}'`);
    const path = m[1]!;
    if (!FIELD_PATHS.has(path)) {
      throw badRequest(`field label not supported: ${path}`);
    }
    reqs.push({ path, neg: m[2] === "!=", value: m[3]!.trim() });
  }
  if (reqs.length === 0) return undefined;
  return (obj) => reqs.every((r) => (fieldValue(obj, r.path) === r.value) !== r.neg);
}

/** Combines optional matchers. */
export function both(a: Matcher | undefined, b: Matcher | undefined): Matcher | undefined {
  if (a && b) return (o) => a(o) && b(o);
  return a ?? b;
}
