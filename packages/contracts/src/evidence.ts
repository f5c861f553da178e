// Resolves an insight's EvidenceRef into the IncidentContext it points into (docs/analysis.md): the one
// definition of what `kind`, `index` and `path` mean, shared by the analyzer and every reader of insights.
import type { EvidenceRef, IncidentContext } from "./messages.js";

/** Reads a JSON pointer (RFC 6901) out of a parsed JSON value; undefined when a step is missing. */
export function readJsonPointer(value: unknown, pointer: string): unknown {
  if (pointer === "") return value;
  if (!pointer.startsWith("/")) return undefined;
  let cur: unknown = value;
  for (const raw of pointer.slice(1).split("/")) {
    const key = raw.replaceAll("~1", "/").replaceAll("~0", "~");
    if (Array.isArray(cur)) {
      if (!/^(0|[1-9]\d*)$/.test(key)) return undefined;
      cur = cur[Number(key)];
    } else if (cur !== null && typeof cur === "object") {
      if (!Object.hasOwn(cur, key)) return undefined;
      cur = (cur as Record<string, unknown>)[key];
    } else {
      return undefined;
    }
    if (cur === undefined) return undefined;
  }
  return cur;
}

/** Escapes one key for a JSON pointer. */
export function jsonPointerToken(key: string | number): string {
  return String(key).replaceAll("~", "~0").replaceAll("/", "~1");
}

const asText = (v: unknown): string | undefined => (v === undefined ? undefined : typeof v === "string" ? v : JSON.stringify(v));

/**
 * The text an EvidenceRef points at in the incident, or undefined when it points at nothing:
 * log_tail / previous_log → the line; event → the EventSummary field named by path (default `message`);
 * manifest → the value at the JSON pointer `path` in manifests[index].json (strings as they are, other
 * values as JSON); change → the diff JSON (or the value at `path` in it); evidence → the Evidence field named
 * by path (default `message`); field → the IncidentContext field named by path (camelCase or snake_case).
 */
export function resolveEvidence(incident: IncidentContext, ref: Pick<EvidenceRef, "kind" | "index" | "path">): string | undefined {
  const i = ref.index;
  switch (ref.kind) {
    case "log_tail":
      return incident.logTail[i]?.line;
    case "previous_log":
      return incident.previousLog[i]?.line;
    case "event": {
      const e = incident.events[i] as unknown as Record<string, unknown> | undefined;
      return e ? asText(e[ref.path || "message"]) : undefined;
    }
    case "manifest": {
      const m = incident.manifests[i];
      if (!m) return undefined;
      let obj: unknown;
      try {
        obj = JSON.parse(m.json);
      } catch {
        return undefined;
      }
      return asText(readJsonPointer(obj, ref.path));
    }
    case "change": {
      const c = incident.recentChanges[i];
      if (!c) return undefined;
      if (ref.path === "") return c.diffJson;
      try {
        return asText(readJsonPointer(JSON.parse(c.diffJson), ref.path));
      } catch {
        return undefined;
      }
    }
    case "evidence": {
      const list = (incident as { evidence?: readonly unknown[] }).evidence ?? [];
      const e = list[i] as Record<string, unknown> | undefined;
      return e ? asText(e[ref.path || "message"]) : undefined;
    }
    case "field": {
      if (i !== 0 || ref.path === "") return undefined;
      const name = ref.path.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());
      const v = (incident as unknown as Record<string, unknown>)[name];
      return v === undefined || (typeof v === "object" && v !== null) ? undefined : asText(v);
    }
    default:
      return undefined;
  }
}

/** True when the reference points at something and its quote is exactly what is there. */
export function evidenceResolves(incident: IncidentContext, ref: EvidenceRef): boolean {
  const found = resolveEvidence(incident, ref);
  return found !== undefined && found === ref.quote;
}
