// Builds one StoryFile from the entries of a story window (deduped, ordered) and its incident contexts: pure and deterministic.
// Entries carry typed payloads (StoryEntry is discriminated by entryKind); only what is JSON by nature (a change's
// object or diff) is parsed here, and the timeline's `data` is the payload in the file's JSON form (storyTimelineData).
import { createHash } from "node:crypto";
import {
  storyTimelineData,
  type CloseReason,
  type ContainerTermination,
  type ContainerType,
  type IncidentContext,
  type Insight,
  type LogLine,
  type StoryContainer,
  type StoryContainerInstance,
  type StoryEntry,
  type StoryFile,
  type StoryIncident,
  type StoryLogLine,
  type StoryPod,
  type StoryTimelineEntry,
  type StoryUnreadLog,
  type StoryWorkloadRef,
} from "@faro/contracts";

/** One story entry as read back from the stream. */
export interface ReadEntry {
  /** Stream sequence in FARO_STORY. */
  streamSeq: number;
  /** The Nats-Msg-Id it was published with, if any. */
  msgId: string | undefined;
  entry: StoryEntry;
}

export interface BuildOptions {
  /** Log lines kept per pod container (first half, last half); the rest are elided with counts. */
  maxLogLines: number;
  /** Target size of the file in bytes; the log line bound is halved until it fits. */
  maxBytes: number;
}

export interface BuildResult {
  file: StoryFile;
  /** The file's bytes: deterministic JSON, two-space indented, newline-terminated. */
  json: string;
  /** True when the window's close entry was among the entries (a final file), false for a snapshot. */
  closed: boolean;
  duplicates: number;
  elidedLines: number;
  /** Still above maxBytes with every log line of the timeline elided. */
  oversize: boolean;
}

const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/;

// For Kubernetes objects, which stay JSON (a change's objectJson).
type Json = Record<string, unknown>;

const isObj = (v: unknown): v is Json => typeof v === "object" && v !== null && !Array.isArray(v);
const str = (v: unknown): string | undefined => (typeof v === "string" && v !== "" ? v : undefined);
const int = (v: unknown): number | undefined => (typeof v === "number" && Number.isInteger(v) ? v : undefined);
const ts = (v: unknown): string | undefined => (typeof v === "string" && RFC3339.test(v) ? v : undefined);

const objects = new WeakMap<StoryEntry, Json | undefined>();

/** A change's object: the parsed objectJson when it is a JSON object (parsed once per entry). */
function objectOf(e: StoryEntry<"change">): Json | undefined {
  if (!e.change.objectJson) return undefined;
  if (objects.has(e)) return objects.get(e);
  let obj: Json | undefined;
  try {
    const v = JSON.parse(e.change.objectJson) as unknown;
    obj = isObj(v) ? v : undefined;
  } catch {
    // The timeline keeps the text as it came (storyTimelineData); the pods and owner chain do without.
    obj = undefined;
  }
  objects.set(e, obj);
  return obj;
}

/** JSON with object keys sorted: the same value gives the same text whatever order its keys were set in. */
function stableJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(stableJson).join(",")}]`;
  if (v !== null && typeof v === "object") {
    const o = v as Record<string, unknown>;
    return `{${Object.keys(o)
      .sort()
      .filter((k) => o[k] !== undefined)
      .map((k) => `${JSON.stringify(k)}:${stableJson(o[k])}`)
      .join(",")}}`;
  }
  return JSON.stringify(v) ?? "null";
}

/**
 * Identity of an entry's content: a republish of the same entry without (or with another) msgId still dedupes,
 * also when one copy is schema version 1 (payload_json) and the other version 2.
 */
function contentKey(e: StoryEntry): string {
  return createHash("sha1")
    .update([e.window, e.entryKind, e.orderingKey, e.pod?.uid ?? "", e.summary, stableJson(e[e.entryKind])].join("\u0000"))
    .digest("base64");
}

/** Drops repeated entries (same msgId or same content) and sorts by ordering key, then stream sequence. */
export function dedupeAndSort(entries: readonly ReadEntry[]): { entries: ReadEntry[]; duplicates: number } {
  const ids = new Set<string>();
  const contents = new Set<string>();
  const out: ReadEntry[] = [];
  let duplicates = 0;
  for (const r of [...entries].sort((a, b) => a.streamSeq - b.streamSeq)) {
    const c = contentKey(r.entry);
    if ((r.msgId && ids.has(r.msgId)) || contents.has(c)) {
      duplicates++;
      continue;
    }
    if (r.msgId) ids.add(r.msgId);
    contents.add(c);
    out.push(r);
  }
  out.sort((a, b) => (a.entry.orderingKey < b.entry.orderingKey ? -1 : a.entry.orderingKey > b.entry.orderingKey ? 1 : a.streamSeq - b.streamSeq));
  return { entries: out, duplicates };
}

interface PodAcc {
  name: string;
  uid: string;
  node: string;
  replacesPodUid: string;
  createdAt: string | undefined;
  firstTs: string;
  deletedAt: string | undefined;
  containers: Map<string, { name: string; type: ContainerType; order: number; instances: Map<number, StoryContainerInstance> }>;
}

/** `type` "" when the entry does not say (a lifecycle entry without container type). */
function containerOf(pod: PodAcc, name: string, type: ContainerType | ""): { instances: Map<number, StoryContainerInstance>; type: ContainerType } {
  let c = pod.containers.get(name);
  const t = type || undefined;
  if (!c) {
    c = { name, type: t ?? "regular", order: pod.containers.size, instances: new Map() };
    pod.containers.set(name, c);
  } else if (t) c.type = t;
  return c;
}

function instanceOf(pod: PodAcc, container: string, type: ContainerType | "", restartCount: number): StoryContainerInstance {
  const c = containerOf(pod, container, type);
  let inst = c.instances.get(restartCount);
  if (!inst) c.instances.set(restartCount, (inst = { restartCount }));
  return inst;
}

/** How an instance ended, from a lifecycle entry's termination (`at`: the entry's time, when it has no finish time). */
function terminate(inst: StoryContainerInstance, t: ContainerTermination | undefined, at: string): void {
  const finished = ts(t?.finishedAt) ?? at;
  if (finished) inst.finishedAt = finished;
  const started = ts(t?.startedAt);
  if (started && !inst.startedAt) inst.startedAt = started;
  if (t?.exitCode !== undefined) inst.exitCode = t.exitCode;
  if (t?.reason) inst.reason = t.reason;
}

/** The same, from a container status' terminated state in a Kubernetes object (JSON). */
function terminateFromStatus(inst: StoryContainerInstance, t: Json): void {
  const finished = ts(t["finishedAt"]);
  if (finished) inst.finishedAt = finished;
  const started = ts(t["startedAt"]);
  if (started && !inst.startedAt) inst.startedAt = started;
  const exit = int(t["exitCode"]);
  if (exit !== undefined) inst.exitCode = exit;
  const reason = str(t["reason"]);
  if (reason) inst.reason = reason;
}

/** Seeds a pod's containers and instances from the full object of its first-seen change. */
function seedFromObject(pod: PodAcc, obj: Json): void {
  const meta = isObj(obj["metadata"]) ? obj["metadata"] : {};
  const spec = isObj(obj["spec"]) ? obj["spec"] : {};
  const status = isObj(obj["status"]) ? obj["status"] : {};
  pod.createdAt ??= ts(meta["creationTimestamp"]);
  if (str(spec["nodeName"])) pod.node = spec["nodeName"] as string;
  const groups: Array<[string, string, ContainerType]> = [
    ["initContainers", "initContainerStatuses", "init"],
    ["containers", "containerStatuses", "regular"],
    ["ephemeralContainers", "ephemeralContainerStatuses", "ephemeral"],
  ];
  for (const [specKey, statusKey, type] of groups) {
    for (const c of Array.isArray(spec[specKey]) ? (spec[specKey] as unknown[]) : []) {
      if (isObj(c) && str(c["name"])) containerOf(pod, c["name"] as string, type);
    }
    for (const cs of Array.isArray(status[statusKey]) ? (status[statusKey] as unknown[]) : []) {
      if (!isObj(cs) || !str(cs["name"])) continue;
      const name = cs["name"] as string;
      const restarts = int(cs["restartCount"]) ?? 0;
      const state = isObj(cs["state"]) ? cs["state"] : {};
      const last = isObj(cs["lastState"]) ? cs["lastState"] : {};
      const inst = instanceOf(pod, name, type, restarts);
      const running = isObj(state["running"]) ? state["running"] : undefined;
      if (running && ts(running["startedAt"])) inst.startedAt = running["startedAt"] as string;
      if (isObj(state["terminated"])) terminateFromStatus(inst, state["terminated"]);
      if (restarts > 0 && isObj(last["terminated"])) terminateFromStatus(instanceOf(pod, name, type, restarts - 1), last["terminated"]);
    }
  }
}

function podFor(pods: Map<string, PodAcc>, e: StoryEntry): PodAcc | undefined {
  const pi = e.pod;
  if (!pi || (!pi.uid && !pi.name)) return undefined;
  const key = pi.uid || `name:${pi.name}`;
  let pod = pods.get(key);
  if (!pod) {
    pod = { name: pi.name, uid: pi.uid, node: "", replacesPodUid: "", createdAt: undefined, firstTs: e.timestamp, deletedAt: undefined, containers: new Map() };
    pods.set(key, pod);
  }
  if (pi.node) pod.node = pi.node;
  if (pi.replacesPodUid) pod.replacesPodUid = pi.replacesPodUid;
  return pod;
}

function applyToPod(pod: PodAcc, e: StoryEntry): void {
  switch (e.entryKind) {
    case "change": {
      if (e.change.type === "DELETED") pod.deletedAt ??= e.timestamp;
      const obj = objectOf(e);
      if (obj) seedFromObject(pod, obj);
      break;
    }
    case "lifecycle": {
      const { what, container, containerType: type, restartCount: restarts, termination } = e.lifecycle;
      if (what === "replaced" && e.lifecycle.replacesPodUid) pod.replacesPodUid = e.lifecycle.replacesPodUid;
      else if (what === "scheduled" && e.lifecycle.node) pod.node = e.lifecycle.node;
      else if (what === "deleted") pod.deletedAt ??= e.timestamp;
      else if (container) {
        if (what === "started") {
          const inst = instanceOf(pod, container, type, restarts);
          inst.startedAt ??= e.timestamp;
        } else if (what === "terminated") {
          terminate(instanceOf(pod, container, type, restarts), termination, e.timestamp);
        } else if (what === "restarted") {
          // The termination is the previous instance's (only the latest restart the status reported has one).
          if (restarts > 0) terminate(instanceOf(pod, container, type, restarts - 1), termination, e.timestamp);
          instanceOf(pod, container, type, restarts);
        }
      }
      break;
    }
    case "log":
      if (e.log.container) instanceOf(pod, e.log.container, e.log.containerType, e.log.restartCount);
      break;
    default:
      break;
  }
}

function finishPods(pods: Map<string, PodAcc>): StoryPod[] {
  const list = [...pods.values()];
  const created = (p: PodAcc) => p.createdAt ?? p.firstTs;
  // Creation time first; the uid breaks ties so every replica orders alike.
  list.sort((a, b) => (created(a) < created(b) ? -1 : created(a) > created(b) ? 1 : a.uid < b.uid ? -1 : a.uid > b.uid ? 1 : 0));
  const typeRank: Record<ContainerType, number> = { init: 0, regular: 1, ephemeral: 2 };
  return list.map((p) => {
    const containers: StoryContainer[] = [...p.containers.values()]
      .sort((a, b) => typeRank[a.type] - typeRank[b.type] || a.order - b.order)
      .map((c) => ({ name: c.name, type: c.type, instances: [...c.instances.values()].sort((x, y) => x.restartCount - y.restartCount).map(orderInstance) }));
    return {
      name: p.name,
      uid: p.uid,
      node: p.node,
      ...(p.replacesPodUid ? { replacesPodUid: p.replacesPodUid } : {}),
      createdAt: created(p),
      ...(p.deletedAt ? { deletedAt: p.deletedAt } : {}),
      containers,
    };
  });
}

/** Fixed key order, so equal instances serialise identically whatever order their fields were learnt in. */
function orderInstance(i: StoryContainerInstance): StoryContainerInstance {
  return {
    restartCount: i.restartCount,
    ...(i.startedAt ? { startedAt: i.startedAt } : {}),
    ...(i.finishedAt ? { finishedAt: i.finishedAt } : {}),
    ...(i.exitCode !== undefined ? { exitCode: i.exitCode } : {}),
    ...(i.reason ? { reason: i.reason } : {}),
  };
}

function ref(v: unknown): StoryWorkloadRef | undefined {
  if (!isObj(v) || !str(v["kind"]) || !str(v["name"])) return undefined;
  return { apiVersion: String(v["apiVersion"] ?? ""), kind: v["kind"] as string, name: v["name"] as string, uid: String(v["uid"] ?? "") };
}

/**
 * Pod's owner first, root last. Prefers the owner chain of the newest pod (walked through the objects the
 * story saw), then the newest incident's chain, then the chain the window opened with; the root always ends it.
 */
function ownerChainOf(entries: readonly StoryEntry[], root: StoryWorkloadRef, pods: StoryPod[], incidents: readonly StoryIncident[]): StoryWorkloadRef[] {
  const owners = new Map<string, StoryWorkloadRef | undefined>();
  const self = new Map<string, StoryWorkloadRef>();
  let incidentChain: StoryWorkloadRef[] | undefined;
  let openChain: StoryWorkloadRef[] | undefined;
  for (const e of entries) {
    if (e.entryKind === "change") {
      const obj = objectOf(e);
      if (obj) {
        const meta = isObj(obj["metadata"]) ? obj["metadata"] : {};
        const uid = str(meta["uid"]);
        const me = ref({ apiVersion: obj["apiVersion"] ?? "", kind: obj["kind"] ?? e.change.kind, name: meta["name"] ?? e.change.name, uid });
        if (uid && me) {
          self.set(uid, me);
          const refs = Array.isArray(meta["ownerReferences"]) ? (meta["ownerReferences"] as unknown[]).filter(isObj) : [];
          const ctrl = refs.find((r) => r["controller"] === true) ?? refs[0];
          owners.set(uid, ctrl ? ref(ctrl) : undefined);
        }
      }
    } else if (e.entryKind === "open") {
      openChain = e.open.ownerChain.filter((r) => r.kind && r.name).map((r) => ({ apiVersion: r.apiVersion, kind: r.kind, name: r.name, uid: r.uid }));
    }
  }
  for (const inc of incidents) {
    if (!Array.isArray(inc["ownerChain"])) continue;
    incidentChain = (inc["ownerChain"] as unknown[]).map(ref).filter((r): r is StoryWorkloadRef => r !== undefined && r.kind !== "Pod");
  }
  const same = (a: StoryWorkloadRef, b: StoryWorkloadRef) => a.kind === b.kind && a.name === b.name;
  let walked: StoryWorkloadRef[] | undefined;
  const newest = pods[pods.length - 1];
  if (newest && owners.has(newest.uid)) {
    walked = [];
    const seen = new Set<string>();
    let next = owners.get(newest.uid);
    while (next && !seen.has(next.uid || `${next.kind}/${next.name}`)) {
      seen.add(next.uid || `${next.kind}/${next.name}`);
      walked.push(self.get(next.uid) ?? next);
      if (same(next, root)) break;
      next = next.uid ? owners.get(next.uid) : undefined;
    }
  }
  const chain = [walked, incidentChain, openChain].find((c) => c !== undefined && c.length > 0) ?? [];
  const last = chain[chain.length - 1];
  if (!last || !same(last, root)) chain.push(root);
  else if (!last.uid && root.uid) chain[chain.length - 1] = root;
  return chain;
}

/** A line as story files have it: `originalBytes` only with `truncated`; a timestamp that is not RFC3339 becomes the entry's. */
function logLine(l: LogLine, fallback: string): StoryLogLine {
  const out: StoryLogLine = { timestamp: ts(l.timestamp) ?? fallback, line: l.line };
  if (l.truncated) {
    out.truncated = true;
    (out as StoryLogLine & { originalBytes?: number }).originalBytes = l.originalBytes;
  }
  return out;
}

/** An incident entry's repeat count (1 when it does not say). */
const repeatOf = (e: StoryEntry<"incident">): number => e.incident.repeatCount || 1;

function incidentFrom(entry: StoryEntry<"incident">, ctx: IncidentContext | undefined): StoryIncident {
  const d = entry.incident;
  const container = ctx?.container ?? d.container;
  const exitCode = ctx?.exitCode ?? d.exitCode;
  const base: StoryIncident = {
    incidentId: d.incidentId,
    reason: d.reason,
    severity: ctx?.severity ?? d.severity,
    detectedAt: ts(ctx?.detectedAt) ?? entry.timestamp,
    repeatCount: ctx?.repeatCount ?? repeatOf(entry),
    ...(container ? { container } : {}),
    ...(exitCode !== undefined ? { exitCode } : {}),
    logTail: (ctx?.logTail ?? []).map((l) => logLine(l, entry.timestamp)),
    previousLog: (ctx?.previousLog ?? []).map((l) => logLine(l, entry.timestamp)),
    events: (ctx?.events ?? []).map((ev) => ({ reason: ev.reason, type: ev.type, message: ev.message, count: ev.count, first: ev.first, last: ev.last, source: ev.source })),
  };
  if (!ctx) return { ...base, contextMissing: true, message: entry.summary };
  return {
    ...base,
    message: ctx.message,
    k8sTimestamp: ctx.k8sTimestamp,
    firstSeen: ctx.firstSeen,
    lastSeen: ctx.lastSeen,
    isUpdate: ctx.isUpdate,
    restartCount: ctx.restartCount,
    ...(ctx.pod ? { pod: { name: ctx.pod.name, uid: ctx.pod.uid, node: ctx.pod.node } } : {}),
    ownerChain: ctx.ownerChain.map((o) => ({ apiVersion: o.apiVersion, kind: o.kind, name: o.name, uid: o.uid })),
    previousLogSource: ctx.previousLogSource,
    recentChanges: ctx.recentChanges.map((c) => ({ timestamp: c.timestamp, kind: c.kind, name: c.name, diff: safeJson(c.diffJson) })),
    manifests: ctx.manifests.map((m) => ({ kind: m.kind, name: m.name, object: safeJson(m.json) })),
  };
}

function safeJson(s: string): unknown {
  try {
    return JSON.parse(s) as unknown;
  } catch {
    // Kept as the string it was: the file shows what the correlator sent rather than dropping it.
    return s;
  }
}

/**
 * The analyzer's insights an incident of the file carries (docs/analysis.md): per source (built-in, LLM), the
 * insight about the revision the file shows, else the latest one before it. `repeatCount` names the revision
 * its evidence references point into; the prompt and answer of LLM insights stay on the bus.
 */
function insightsFor(inc: StoryIncident, insights: readonly Insight[]): Record<string, unknown>[] {
  const best = new Map<string, Insight>();
  for (const s of insights) {
    if (s.incidentId !== inc.incidentId || s.repeatCount > inc.repeatCount) continue;
    const source = s.analyzer.startsWith("llm:") ? "llm" : "builtin";
    const prev = best.get(source);
    if (!prev || s.repeatCount > prev.repeatCount) best.set(source, s);
  }
  return [...best.entries()]
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([, s]) => ({
      repeatCount: s.repeatCount,
      analyzer: s.analyzer,
      probableCause: s.probableCause,
      evidence: s.evidence.map((e) => ({ kind: e.kind, index: e.index, path: e.path, quote: e.quote })),
      nextSteps: [...s.nextSteps],
      confidence: s.confidence,
      ...(s.otherFindings.length ? { otherFindings: s.otherFindings.map((f) => ({ analyzer: f.analyzer, probableCause: f.probableCause, confidence: f.confidence })) } : {}),
      ...(s.model ? { model: s.model } : {}),
      createdAt: s.createdAt,
    }));
}

/** The incidents the window tells, each at its latest update within the window, with its context when found. */
function incidentsOf(entries: readonly StoryEntry[], contexts: readonly IncidentContext[]): StoryIncident[] {
  const latest = new Map<string, StoryEntry<"incident">>();
  for (const e of entries) {
    if (e.entryKind !== "incident" || !e.incident.incidentId) continue;
    const prev = latest.get(e.incident.incidentId);
    if (!prev || repeatOf(e) >= repeatOf(prev)) latest.set(e.incident.incidentId, e);
  }
  const byId = new Map<string, IncidentContext[]>();
  for (const c of contexts) {
    const list = byId.get(c.incidentId) ?? [];
    list.push(c);
    byId.set(c.incidentId, list);
  }
  const out: StoryIncident[] = [];
  for (const [id, p] of latest) {
    const want = repeatOf(p);
    // The update the window's entry names; an update published after the window's entries is not this window's news.
    const ctx = (byId.get(id) ?? []).filter((c) => c.repeatCount <= want).sort((a, b) => b.repeatCount - a.repeatCount)[0];
    out.push(incidentFrom(p, ctx));
  }
  return out;
}

/**
 * Instances whose log could not be read: the correlator's log entries without lines that carry an
 * unreadReason. One per instance (the first in story order), sorted by pod, container, restart.
 */
function unreadLogsOf(entries: readonly StoryEntry[]): StoryUnreadLog[] {
  const byInstance = new Map<string, StoryUnreadLog>();
  for (const e of entries) {
    if (e.entryKind !== "log" || !e.log.unreadReason) continue;
    const { unreadReason: reason, container, restartCount } = e.log;
    const pod = e.pod?.name;
    if (!container || !pod) continue;
    const podUid = e.pod?.uid ?? "";
    const key = `${podUid || pod}\u0000${container}\u0000${restartCount}`;
    if (!byInstance.has(key)) byInstance.set(key, { pod, podUid, container, restartCount, reason });
  }
  const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
  return [...byInstance.values()].sort((a, b) => cmp(a.pod, b.pod) || cmp(a.podUid, b.podUid) || cmp(a.container, b.container) || a.restartCount - b.restartCount);
}

/** The container an entry is about, if any (the timeline entry's `container`). */
function containerNamed(e: StoryEntry): string | undefined {
  const name = e.entryKind === "log" ? e.log.container : e.entryKind === "lifecycle" ? e.lifecycle.container : e.entryKind === "incident" ? e.incident.container : "";
  return name || undefined;
}

/** Builds the timeline with at most `bound` log lines per pod container (head and tail halves kept). */
function timelineOf(entries: readonly StoryEntry[], datas: readonly Record<string, unknown>[], bound: number): { timeline: StoryTimelineEntry[]; elided: Record<string, number>; kept: number; total: number } {
  const totals = new Map<string, number>();
  const keyOf = (e: StoryEntry<"log">) => `${e.pod?.name ?? ""}/${e.log.container}`;
  for (const e of entries) {
    if (e.entryKind !== "log") continue;
    totals.set(keyOf(e), (totals.get(keyOf(e)) ?? 0) + e.log.lines.length);
  }
  const head = Math.ceil(bound / 2);
  const tail = bound - head;
  const seen = new Map<string, number>();
  const elided: Record<string, number> = {};
  const timeline: StoryTimelineEntry[] = [];
  let kept = 0;
  let total = 0;
  for (const [n, e] of entries.entries()) {
    let data = datas[n]!;
    if (e.entryKind === "log") {
      const k = keyOf(e);
      const all = e.log.lines;
      const count = totals.get(k) ?? 0;
      const start = seen.get(k) ?? 0;
      seen.set(k, start + all.length);
      const lines: StoryLogLine[] = [];
      all.forEach((l, i) => {
        const idx = start + i;
        if (count <= bound || idx < head || idx >= count - tail) lines.push(logLine(l, e.timestamp));
      });
      const dropped = all.length - lines.length;
      total += all.length;
      kept += lines.length;
      if (dropped > 0) elided[k] = (elided[k] ?? 0) + dropped;
      if (lines.length === 0 && all.length > 0) continue; // fully elided: counted in `elided`, not an empty entry
      data = { ...data, lines, ...(dropped > 0 ? { elidedLines: dropped } : {}) };
    }
    const container = containerNamed(e);
    timeline.push({
      seq: timeline.length,
      timestamp: e.timestamp,
      kind: e.entryKind,
      summary: e.summary,
      ...(e.pod?.name ? { pod: e.pod.name } : {}),
      ...(container ? { container } : {}),
      data,
    });
  }
  return { timeline, elided, kept, total };
}

/**
 * The story file of one window. `entries` are every entry read back for the window (duplicates allowed),
 * `contexts` the IncidentContexts of its incidents. Entries past the window's close entry must not be passed.
 */
export function buildStoryFile(entries: readonly ReadEntry[], contexts: readonly IncidentContext[], opts: BuildOptions, insights: readonly Insight[] = []): BuildResult {
  const { entries: unique, duplicates } = dedupeAndSort(entries);
  if (unique.length === 0) throw new RangeError("buildStoryFile: no entries");
  const all = unique.map((r) => r.entry);
  const open = all.find((e): e is StoryEntry<"open"> => e.entryKind === "open");
  const close = all.find((e): e is StoryEntry<"close"> => e.entryKind === "close");
  const first = open ?? all[0]!;
  const w = first.workload;
  const workload: StoryWorkloadRef = { apiVersion: w.apiVersion, kind: w.kind, name: w.name, uid: w.uid };
  const podAcc = new Map<string, PodAcc>();
  for (const e of all) {
    const pod = podFor(podAcc, e);
    if (pod) applyToPod(pod, e);
  }
  const pods = finishPods(podAcc);
  const incidents = incidentsOf(all, contexts);
  for (const inc of incidents) {
    const found = insightsFor(inc, insights);
    if (found.length) inc["insights"] = found;
  }
  const unreadLogs = unreadLogsOf(all);
  const ownerChain = ownerChainOf(all, workload, pods, incidents);
  const prevWindow = open?.open.previousWindow;
  const closeReason: CloseReason = close ? close.close.why : "snapshot";
  // Each entry's `data` in the file's JSON form, once (the line bound only replaces a log entry's lines).
  const datas = all.map(storyTimelineData);
  const maxStreamSeq = Math.max(...unique.map((r) => r.streamSeq));

  const make = (bound: number) => {
    const t = timelineOf(all, datas, bound);
    const file: StoryFile = {
      schemaVersion: 1,
      storyId: first.storyId,
      window: first.window,
      ...(prevWindow !== undefined && prevWindow >= 0 ? { previousWindow: prevWindow } : {}),
      tenant: first.tenant,
      cluster: first.cluster,
      namespace: first.namespace,
      workload,
      ownerChain,
      openedAt: first.timestamp,
      ...(close ? { closedAt: close.timestamp } : {}),
      closeReason,
      pods,
      timeline: t.timeline,
      incidents,
      ...(unreadLogs.length ? { unreadLogs } : {}),
      elided: Object.keys(t.elided).length ? { logLines: t.elided } : {},
      stats: {
        entries: unique.length,
        duplicates,
        pods: pods.length,
        incidents: incidents.length,
        logLines: t.kept,
        logLinesTotal: t.total,
        throughStreamSeq: maxStreamSeq,
      },
    };
    const json = `${JSON.stringify(file, null, 2)}\n`;
    return { file, json, elidedLines: t.total - t.kept };
  };

  let bound = Math.max(0, Math.floor(opts.maxLogLines));
  let built = make(bound);
  while (Buffer.byteLength(built.json) > opts.maxBytes && bound > 0) {
    bound = Math.floor(bound / 2);
    built = make(bound);
  }
  return { ...built, closed: close !== undefined, duplicates, oversize: Buffer.byteLength(built.json) > opts.maxBytes };
}
