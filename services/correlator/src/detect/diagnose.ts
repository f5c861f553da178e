// Offline diagnosis: the correlator's detection folded over saved objects (Pods, Lists, watch streams), Events as evidence.
import { detectEvent, detectPod, detectStuck, detectWorkload, eventTimestamp, evidence, type AffectedPod, type Detection, type EventFacts, type Evidence, type Severity } from "../detect.js";
import { isoTime, objectTimestamp, parseTime, podStatus, type ObjectJson } from "../k8s.js";

export interface DiagnoseOptions {
  /** Source time for the time-based checks (stuck Pending/Terminating); default: the newest time in the input. */
  nowMs?: number;
  pendingThresholdMs?: number;
  terminatingThresholdMs?: number;
  unhealthyThreshold?: number;
}

/** One failure found: the detection, its object, and how many times it was seen. */
export interface Finding {
  reason: string;
  severity: Severity;
  namespace: string;
  /** "Pod/web-1", "Node/node-2"… */
  object: string;
  container: string;
  containerType: string;
  /** The newest occurrence's Kubernetes time. */
  time: string;
  firstSeen: string;
  count: number;
  afterTheFact: boolean;
  message: string;
  exitCode?: number;
  restartCount: number;
  evidence: Evidence[];
  affectedPods: AffectedPod[];
}

export interface Diagnosis {
  /** The source time the time-based checks used (RFC3339). */
  now: string;
  /** Object versions read (Events included). */
  versions: number;
  /** Distinct objects, by kind. */
  objects: Record<string, number>;
  findings: Finding[];
}

/** A watch event (`kubectl get -w -o json` prints them with --output-watch-events) or a bare object. */
interface Item {
  type: "ADDED" | "MODIFIED" | "DELETED";
  obj: ObjectJson;
}

const SEVERITY_ORDER: Record<Severity, number> = { critical: 0, high: 1, medium: 2, low: 3, info: 4 };

/**
 * Flattens documents into object versions in input order: a List's items (their kind from the List's
 * when absent), `{type, object}` watch events, and bare objects. Anything else is an error for the caller.
 */
export function flattenDocuments(docs: unknown[]): { items: Item[]; rejected: string[] } {
  const items: Item[] = [];
  const rejected: string[] = [];
  const visit = (d: unknown, where: string, listKind?: string): void => {
    if (d === null || typeof d !== "object" || Array.isArray(d)) {
      rejected.push(`${where}: not a Kubernetes object`);
      return;
    }
    const o = d as Record<string, unknown>;
    if (typeof o["type"] === "string" && o["object"] && typeof o["object"] === "object" && !o["kind"]) {
      const type = o["type"] as string;
      if (type === "ADDED" || type === "MODIFIED" || type === "DELETED") visit1(o["object"] as ObjectJson, type, where);
      else if (type !== "BOOKMARK" && type !== "ERROR") rejected.push(`${where}: unknown watch event type ${type}`);
      return;
    }
    const kind = typeof o["kind"] === "string" ? (o["kind"] as string) : undefined;
    if (Array.isArray(o["items"]) && (kind === undefined || kind.endsWith("List"))) {
      const itemKind = kind && kind !== "List" ? kind.slice(0, -"List".length) : undefined;
      (o["items"] as unknown[]).forEach((it, i) => visit(it, `${where}.items[${i}]`, itemKind));
      return;
    }
    const withKind = kind ? (o as ObjectJson) : listKind ? ({ ...o, kind: listKind } as ObjectJson) : undefined;
    if (!withKind || !(withKind.metadata && typeof withKind.metadata === "object")) {
      rejected.push(`${where}: not a Kubernetes object (no kind or metadata)`);
      return;
    }
    visit1(withKind, "ADDED", where);
  };
  const visit1 = (obj: ObjectJson, type: Item["type"], where: string): void => {
    if (!obj.kind || !obj.metadata) {
      rejected.push(`${where}: watch event without an object kind and metadata`);
      return;
    }
    items.push({ type, obj });
  };
  docs.forEach((d, i) => visit(d, `document ${i + 1}`));
  return { items, rejected };
}

/** A core/v1 or events.k8s.io/v1 Event as the detection reads it. */
export function eventFacts(obj: ObjectJson, type: Item["type"] = "ADDED"): EventFacts {
  const o = obj as Record<string, unknown> & ObjectJson;
  const inv = (o["involvedObject"] ?? o["regarding"] ?? {}) as Record<string, string>;
  const series = o["series"] as { count?: number; lastObservedTime?: string } | undefined;
  return {
    type,
    uid: obj.metadata?.uid ?? `${obj.metadata?.namespace ?? ""}/${obj.metadata?.name ?? ""}`,
    reason: String(o["reason"] ?? ""),
    message: String(o["message"] ?? o["note"] ?? ""),
    eventType: String(o["type"] ?? ""),
    count: Number(o["count"] ?? o["deprecatedCount"] ?? series?.count ?? 1) || 1,
    firstTimestamp: String(o["firstTimestamp"] ?? o["deprecatedFirstTimestamp"] ?? ""),
    lastTimestamp: String(o["lastTimestamp"] ?? o["deprecatedLastTimestamp"] ?? series?.lastObservedTime ?? ""),
    eventTime: String(o["eventTime"] ?? ""),
    involved: { kind: inv["kind"] ?? "", name: inv["name"] ?? "", uid: inv["uid"] ?? "", fieldPath: inv["fieldPath"] ?? "" },
  };
}

const isEvent = (obj: ObjectJson) => obj.kind === "Event";
const keyOf = (obj: ObjectJson) => obj.metadata?.uid || `${obj.kind}/${obj.metadata?.namespace ?? ""}/${obj.metadata?.name ?? ""}`;

/**
 * Classifies saved objects with the correlator's detection: each object's versions are folded in input
 * order (a watch stream's changes are seen as changes; a single version is a first sight), Events are
 * detections and evidence, and the stuck checks run at `now` on the last version of each object.
 */
export function diagnose(docs: unknown[], opts: DiagnoseOptions = {}): Diagnosis & { rejected: string[] } {
  const { items, rejected } = flattenDocuments(docs);
  const pendingMs = opts.pendingThresholdMs ?? 10 * 60_000;
  const terminatingMs = opts.terminatingThresholdMs ?? 10 * 60_000;
  const unhealthy = opts.unhealthyThreshold ?? 3;
  const last = new Map<string, ObjectJson>();
  const deleted = new Set<string>();
  const events: EventFacts[] = [];
  const found: { d: Detection; namespace: string }[] = [];
  let newest = 0;
  const kinds = new Map<string, Set<string>>();

  for (const { type, obj } of items) {
    const key = keyOf(obj);
    const kind = obj.kind ?? "";
    if (!kinds.has(kind)) kinds.set(kind, new Set());
    kinds.get(kind)!.add(key);
    const namespace = obj.metadata?.namespace ?? "";
    if (isEvent(obj)) {
      const ev = eventFacts(obj, type);
      newest = Math.max(newest, parseTime(eventTimestamp(ev)) ?? 0);
      if (type === "DELETED") continue;
      events.push(ev);
      const inv = ((obj as Record<string, unknown>)["involvedObject"] ?? (obj as Record<string, unknown>)["regarding"]) as { namespace?: string } | undefined;
      for (const d of detectEvent(ev, unhealthy)) found.push({ d, namespace: inv?.namespace ?? namespace });
      continue;
    }
    newest = Math.max(newest, objectTimestamp(obj) ?? 0);
    const prev = last.get(key);
    if (type === "DELETED") {
      deleted.add(key);
      last.set(key, obj);
      continue;
    }
    deleted.delete(key);
    const ds = kind === "Pod" ? detectPod(prev, obj) : detectWorkload(kind, prev, obj);
    for (const d of ds) found.push({ d, namespace });
    last.set(key, obj);
  }

  const nowMs = opts.nowMs ?? newest;
  for (const [key, obj] of last) {
    if (deleted.has(key)) continue;
    if (obj.kind === "Pod" || obj.kind === "PersistentVolumeClaim") for (const d of detectStuck(obj, nowMs, pendingMs, terminatingMs)) found.push({ d, namespace: obj.metadata?.namespace ?? "" });
  }

  const pods = [...last.entries()].filter(([k, o]) => o.kind === "Pod" && !deleted.has(k)).map(([, o]) => o);
  const findings = merge(found, events, pods);
  return {
    now: isoTime(nowMs),
    versions: items.length,
    objects: Object.fromEntries([...kinds].sort(([a], [b]) => a.localeCompare(b)).map(([k, v]) => [k, v.size])),
    findings,
    rejected,
  };
}

/** One finding per (object, container, reason): repeats counted, occurrences seen twice (status and Event) once. */
function merge(found: { d: Detection; namespace: string }[], events: EventFacts[], pods: ObjectJson[]): Finding[] {
  const byKey = new Map<string, { f: Finding; occurrences: Set<string> }>();
  for (const { d, namespace } of found) {
    const object = d.object ?? (d.podName ? `Pod/${d.podName}` : "");
    const key = `${namespace}|${object}|${d.container}|${d.reason}`;
    const cur = byKey.get(key);
    if (cur) {
      if (cur.occurrences.has(d.occurrenceId)) continue;
      cur.occurrences.add(d.occurrenceId);
      cur.f.count++;
      if ((parseTime(d.k8sTimestamp) ?? 0) >= (parseTime(cur.f.time) ?? 0)) {
        Object.assign(cur.f, { time: d.k8sTimestamp, message: d.message, restartCount: d.restartCount, afterTheFact: cur.f.afterTheFact && Boolean(d.afterTheFact) });
        if (d.exitCode !== undefined) cur.f.exitCode = d.exitCode;
      }
      for (const e of d.evidence) if (!cur.f.evidence.some((x) => same(x, e))) cur.f.evidence.push(e);
      continue;
    }
    const f: Finding = {
      reason: d.reason,
      severity: d.severity,
      namespace,
      object,
      container: d.container,
      containerType: d.containerType ?? "",
      time: d.k8sTimestamp,
      firstSeen: d.k8sTimestamp,
      count: 1,
      afterTheFact: Boolean(d.afterTheFact),
      message: d.message,
      ...(d.exitCode !== undefined ? { exitCode: d.exitCode } : {}),
      restartCount: d.restartCount,
      evidence: [...d.evidence],
      affectedPods: [],
    };
    byKey.set(key, { f, occurrences: new Set([d.occurrenceId]) });
  }
  // A pod Pending because of what an Event names (a mount, the sandbox) is reported as that, not also as stuck.
  const explained = new Set([...byKey.values()].filter((v) => v.f.reason !== "StuckPending").map((v) => `${v.f.namespace}|${v.f.object}`));
  const out = [...byKey.values()].map((v) => v.f).filter((f) => f.reason !== "StuckPending" || !explained.has(`${f.namespace}|${f.object}`));
  for (const f of out) {
    const [kind, name] = f.object.split("/") as [string, string];
    // The Warning Events about the same object are evidence too.
    for (const ev of events) {
      if (ev.eventType !== "Warning" || ev.involved.kind !== kind || ev.involved.name !== name) continue;
      const e = evidence("event", f.object, ev.involved.fieldPath, { reason: ev.reason, message: ev.message, time: eventTimestamp(ev), value: `count=${ev.count}` });
      if (!f.evidence.some((x) => same(x, e))) f.evidence.push(e);
    }
    if (kind === "Node") f.affectedPods = podsOn(name, pods);
  }
  return out.sort((a, b) => SEVERITY_ORDER[a.severity] - SEVERITY_ORDER[b.severity] || a.namespace.localeCompare(b.namespace) || a.object.localeCompare(b.object) || a.reason.localeCompare(b.reason));
}

function same(a: Evidence, b: Evidence): boolean {
  return a.source === b.source && a.object === b.object && a.field === b.field && a.reason === b.reason && a.message === b.message && a.time === b.time;
}

/** The pods bound to `node` that have not finished. */
export function podsOn(node: string, pods: readonly ObjectJson[]): AffectedPod[] {
  return pods
    .filter((p) => p.spec?.["nodeName"] === node && !["Succeeded", "Failed"].includes(podStatus(p).phase ?? ""))
    .map((p) => ({ namespace: p.metadata?.namespace ?? "", name: p.metadata?.name ?? "", uid: p.metadata?.uid ?? "", node }))
    .sort((a, b) => a.namespace.localeCompare(b.namespace) || a.name.localeCompare(b.name));
}
