// Label and field selector parsing and matching for list and watch requests. Label selectors are
// @faro/primitives' (one parser for the simulator and the filter, docs/patterns.md).
import { LabelSelectorError, matchesLabels, parseLabelSelector as parseRequirements } from "@faro/primitives";
import { badRequest } from "../errors.js";
import type { KubeObject } from "../types.js";

export type Matcher = (obj: KubeObject) => boolean;

/** Parses a labelSelector; undefined when the selector is empty (matches everything). */
export function parseLabelSelector(sel: string | null | undefined): Matcher | undefined {
  if (!sel) return undefined;
  let reqs;
  try {
    reqs = parseRequirements(sel);
  } catch (err) {
    if (err instanceof LabelSelectorError) throw badRequest(`unable to parse requirement: ${err.message}`);
    throw err;
  }
  if (reqs.length === 0) return undefined;
  return (obj) => matchesLabels(reqs, obj.metadata.labels);
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
  for (const term of sel.split(",").map((x) => x.trim()).filter((x) => x !== "")) {
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
