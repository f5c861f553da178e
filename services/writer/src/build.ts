// Builds one StoryFile from the entries of a story window (deduped, ordered) and its incident contexts: pure and deterministic.
import { createHash } from "node:crypto";
import type {
  CloseReason,
  ContainerType,
  IncidentContext,
  StoryContainer,
  StoryContainerInstance,
  StoryEntry,
  StoryFile,
  StoryIncident,
  StoryLogLine,
  StoryPod,
  StoryTimelineEntry,
  StoryUnreadLog,
  StoryWorkloadRef,
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
const CLOSE_REASONS: readonly string[] = ["root-deleted", "idle", "max-length", "snapshot", "shutdown"];
const CONTAINER_TYPES: readonly string[] = ["init", "regular", "ephemeral"];

type Json = Record<string, unknown>;

const isObj = (v: unknown): v is Json => typeof v === "object" && v !== null && !Array.isArray(v);
const str = (v: unknown): string | undefined => (typeof v === "string" && v !== "" ? v : undefined);
const int = (v: unknown): number | undefined => (typeof v === "number" && Number.isInteger(v) ? v : undefined);
const ts = (v: unknown): string | undefined => (typeof v === "string" && RFC3339.test(v) ? v : undefined);

function parsePayload(e: StoryEntry): Json {
  if (!e.payloadJson) return {};
  try {
    const v = JSON.parse(e.payloadJson) as unknown;
    return isObj(v) ? v : { value: v };
  } catch (err) {
    // Kept visible in the file rather than dropped; kinds with required fields then fail validation (a correlator bug).
    return { unparsedPayload: e.payloadJson, parseError: (err as Error).message };
  }
}

/** Identity of an entry's content: a republish of the same entry without (or with another) msgId still dedupes. */
function contentKey(e: StoryEntry): string {
  return createHash("sha1")
    .update([e.window, e.entryKind, e.orderingKey, e.pod?.uid ?? "", e.summary, e.payloadJson].join("\u0000"))
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

interface Parsed {
  r: ReadEntry;
  e: StoryEntry;
  data: Json;
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

function containerOf(pod: PodAcc, name: string, type: unknown): { instances: Map<number, StoryContainerInstance>; type: ContainerType } {
  let c = pod.containers.get(name);
  const t = typeof type === "string" && CONTAINER_TYPES.includes(type) ? (type as ContainerType) : undefined;
  if (!c) {
    c = { name, type: t ?? "regular", order: pod.containers.size, instances: new Map() };
    pod.containers.set(name, c);
  } else if (t) c.type = t;
  return c;
}

function instanceOf(pod: PodAcc, container: string, type: unknown, restartCount: number): StoryContainerInstance {
  const c = containerOf(pod, container, type);
  let inst = c.instances.get(restartCount);
  if (!inst) c.instances.set(restartCount, (inst = { restartCount }));
  return inst;
}

function terminate(inst: StoryContainerInstance, t: Json | undefined, at?: string): void {
  const finished = ts(t?.["finishedAt"]) ?? at;
  if (finished) inst.finishedAt = finished;
  const started = ts(t?.["startedAt"]);
  if (started && !inst.startedAt) inst.startedAt = started;
  const exit = int(t?.["exitCode"]);
  if (exit !== undefined) inst.exitCode = exit;
  const reason = str(t?.["reason"]);
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
      if (isObj(state["terminated"])) terminate(inst, state["terminated"]);
      if (restarts > 0 && isObj(last["terminated"])) terminate(instanceOf(pod, name, type, restarts - 1), last["terminated"]);
    }
  }
}

function podFor(pods: Map<string, PodAcc>, p: Parsed): PodAcc | undefined {
  const pi = p.e.pod;
  if (!pi || (!pi.uid && !pi.name)) return undefined;
  const key = pi.uid || `name:${pi.name}`;
  let pod = pods.get(key);
  if (!pod) {
    pod = { name: pi.name, uid: pi.uid, node: "", replacesPodUid: "", createdAt: undefined, firstTs: p.e.timestamp, deletedAt: undefined, containers: new Map() };
    pods.set(key, pod);
  }
  if (pi.node) pod.node = pi.node;
  if (pi.replacesPodUid) pod.replacesPodUid = pi.replacesPodUid;
  return pod;
}

function applyToPod(pod: PodAcc, p: Parsed): void {
  const { e, data } = p;
  switch (e.entryKind) {
    case "change": {
      if (data["type"] === "DELETED") pod.deletedAt ??= e.timestamp;
      const diff = Array.isArray(data["diff"]) ? (data["diff"] as unknown[]) : [];
      const first = diff[0];
      if (isObj(first) && first["op"] === "add" && first["path"] === "" && isObj(first["to"])) seedFromObject(pod, first["to"]);
      break;
    }
    case "lifecycle": {
      const what = data["what"];
      const container = str(data["container"]);
      const type = data["containerType"];
      const restarts = int(data["restartCount"]);
      if (what === "replaced" && str(data["replacesPodUid"])) pod.replacesPodUid = data["replacesPodUid"] as string;
      else if (what === "scheduled" && str(data["node"])) pod.node = data["node"] as string;
      else if (what === "deleted") pod.deletedAt ??= e.timestamp;
      else if (container && restarts !== undefined) {
        if (what === "started") {
          const inst = instanceOf(pod, container, type, restarts);
          inst.startedAt ??= e.timestamp;
        } else if (what === "terminated") {
          terminate(instanceOf(pod, container, type, restarts), data, e.timestamp);
        } else if (what === "restarted") {
          if (restarts > 0) terminate(instanceOf(pod, container, type, restarts - 1), data, e.timestamp);
          instanceOf(pod, container, type, restarts);
        }
      }
      break;
    }
    case "log": {
      const container = str(data["container"]);
      const restarts = int(data["restartCount"]);
      if (container && restarts !== undefined) instanceOf(pod, container, data["containerType"], restarts);
      break;
    }
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
function ownerChainOf(parsed: readonly Parsed[], root: StoryWorkloadRef, pods: StoryPod[], incidents: readonly StoryIncident[]): StoryWorkloadRef[] {
  const owners = new Map<string, StoryWorkloadRef | undefined>();
  const self = new Map<string, StoryWorkloadRef>();
  let incidentChain: StoryWorkloadRef[] | undefined;
  let openChain: StoryWorkloadRef[] | undefined;
  for (const { e, data } of parsed) {
    if (e.entryKind === "change") {
      const first = Array.isArray(data["diff"]) ? (data["diff"] as unknown[])[0] : undefined;
      if (isObj(first) && first["op"] === "add" && isObj(first["to"])) {
        const obj = first["to"];
        const meta = isObj(obj["metadata"]) ? obj["metadata"] : {};
        const uid = str(meta["uid"]);
        const me = ref({ apiVersion: obj["apiVersion"] ?? "", kind: obj["kind"] ?? data["kind"], name: meta["name"] ?? data["name"], uid });
        if (uid && me) {
          self.set(uid, me);
          const refs = Array.isArray(meta["ownerReferences"]) ? (meta["ownerReferences"] as unknown[]).filter(isObj) : [];
          const ctrl = refs.find((r) => r["controller"] === true) ?? refs[0];
          owners.set(uid, ctrl ? ref(ctrl) : undefined);
        }
      }
    } else if (e.entryKind === "open" && Array.isArray(data["ownerChain"])) {
      openChain = (data["ownerChain"] as unknown[]).map(ref).filter((r): r is StoryWorkloadRef => r !== undefined);
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

function logLine(l: unknown, fallback: string): StoryLogLine | undefined {
  if (!isObj(l)) return undefined;
  const out: StoryLogLine = { timestamp: ts(l["timestamp"]) ?? fallback, line: typeof l["line"] === "string" ? l["line"] : String(l["line"] ?? "") };
  if (l["truncated"] === true) {
    out.truncated = true;
    const ob = int(l["originalBytes"]);
    if (ob !== undefined) (out as StoryLogLine & { originalBytes?: number }).originalBytes = ob;
  }
  return out;
}

function incidentFrom(entry: Parsed, ctx: IncidentContext | undefined): StoryIncident {
  const d = entry.data;
  const base: StoryIncident = {
    incidentId: String(d["incidentId"] ?? ctx?.incidentId ?? ""),
    reason: String(d["reason"] ?? ctx?.reason ?? ""),
    severity: (ctx?.severity ?? d["severity"]) as StoryIncident["severity"],
    detectedAt: ts(ctx?.detectedAt) ?? entry.e.timestamp,
    repeatCount: ctx?.repeatCount ?? int(d["repeatCount"]) ?? 1,
    ...(str(ctx?.container ?? d["container"]) ? { container: (ctx?.container ?? d["container"]) as string } : {}),
    ...(int(ctx?.exitCode ?? d["exitCode"]) !== undefined ? { exitCode: (ctx?.exitCode ?? d["exitCode"]) as number } : {}),
    logTail: (ctx?.logTail ?? []).map((l) => logLine(l, entry.e.timestamp)!),
    previousLog: (ctx?.previousLog ?? []).map((l) => logLine(l, entry.e.timestamp)!),
    events: (ctx?.events ?? []).map((ev) => ({ reason: ev.reason, type: ev.type, message: ev.message, count: ev.count, first: ev.first, last: ev.last, source: ev.source })),
  };
  if (!ctx) return { ...base, contextMissing: true, message: entry.e.summary };
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

/** The incidents the window tells, each at its latest update within the window, with its context when found. */
function incidentsOf(parsed: readonly Parsed[], contexts: readonly IncidentContext[]): StoryIncident[] {
  const latest = new Map<string, Parsed>();
  for (const p of parsed) {
    if (p.e.entryKind !== "incident") continue;
    const id = str(p.data["incidentId"]);
    if (!id) continue;
    const prev = latest.get(id);
    if (!prev || (int(p.data["repeatCount"]) ?? 1) >= (int(prev.data["repeatCount"]) ?? 1)) latest.set(id, p);
  }
  const byId = new Map<string, IncidentContext[]>();
  for (const c of contexts) {
    const list = byId.get(c.incidentId) ?? [];
    list.push(c);
    byId.set(c.incidentId, list);
  }
  const out: StoryIncident[] = [];
  for (const [id, p] of latest) {
    const want = int(p.data["repeatCount"]) ?? 1;
    // The update the window's entry names; an update published after the window's entries is not this window's news.
    const ctx = (byId.get(id) ?? []).filter((c) => c.repeatCount <= want).sort((a, b) => b.repeatCount - a.repeatCount)[0];
    out.push(incidentFrom(p, ctx));
  }
  return out;
}

/**
 * Instances whose log could not be read: the correlator's log entries without lines that carry
 * `data.unread.reason`. One per instance (the first in story order), sorted by pod, container, restart.
 */
function unreadLogsOf(parsed: readonly Parsed[]): StoryUnreadLog[] {
  const byInstance = new Map<string, StoryUnreadLog>();
  for (const { e, data } of parsed) {
    if (e.entryKind !== "log" || !isObj(data["unread"])) continue;
    const reason = str(data["unread"]["reason"]);
    const container = str(data["container"]);
    const restartCount = int(data["restartCount"]);
    const pod = str(e.pod?.name);
    if (!reason || !container || restartCount === undefined || restartCount < 0 || !pod) continue;
    const podUid = e.pod?.uid ?? "";
    const key = `${podUid || pod}\u0000${container}\u0000${restartCount}`;
    if (!byInstance.has(key)) byInstance.set(key, { pod, podUid, container, restartCount, reason });
  }
  const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
  return [...byInstance.values()].sort((a, b) => cmp(a.pod, b.pod) || cmp(a.podUid, b.podUid) || cmp(a.container, b.container) || a.restartCount - b.restartCount);
}

/** Builds the timeline with at most `bound` log lines per pod container (head and tail halves kept). */
function timelineOf(parsed: readonly Parsed[], bound: number): { timeline: StoryTimelineEntry[]; elided: Record<string, number>; kept: number; total: number } {
  const totals = new Map<string, number>();
  const keyOf = (p: Parsed) => `${p.e.pod?.name ?? ""}/${String(p.data["container"] ?? "")}`;
  for (const p of parsed) {
    if (p.e.entryKind !== "log") continue;
    const n = Array.isArray(p.data["lines"]) ? (p.data["lines"] as unknown[]).length : 0;
    totals.set(keyOf(p), (totals.get(keyOf(p)) ?? 0) + n);
  }
  const head = Math.ceil(bound / 2);
  const tail = bound - head;
  const seen = new Map<string, number>();
  const elided: Record<string, number> = {};
  const timeline: StoryTimelineEntry[] = [];
  let kept = 0;
  let total = 0;
  for (const p of parsed) {
    const { e } = p;
    let data = p.data;
    if (e.entryKind === "log") {
      const k = keyOf(p);
      const all = Array.isArray(data["lines"]) ? (data["lines"] as unknown[]) : [];
      const count = totals.get(k) ?? 0;
      const start = seen.get(k) ?? 0;
      seen.set(k, start + all.length);
      const lines: StoryLogLine[] = [];
      all.forEach((l, i) => {
        const idx = start + i;
        if (count <= bound || idx < head || idx >= count - tail) {
          const line = logLine(l, e.timestamp);
          if (line) lines.push(line);
        }
      });
      const dropped = all.length - lines.length;
      total += all.length;
      kept += lines.length;
      if (dropped > 0) elided[k] = (elided[k] ?? 0) + dropped;
      if (lines.length === 0 && all.length > 0) continue; // fully elided: counted in `elided`, not an empty entry
      data = { ...data, lines, ...(dropped > 0 ? { elidedLines: dropped } : {}) };
    }
    const container = str(data["container"]);
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
export function buildStoryFile(entries: readonly ReadEntry[], contexts: readonly IncidentContext[], opts: BuildOptions): BuildResult {
  const { entries: unique, duplicates } = dedupeAndSort(entries);
  if (unique.length === 0) throw new RangeError("buildStoryFile: no entries");
  const parsed: Parsed[] = unique.map((r) => ({ r, e: r.entry, data: parsePayload(r.entry) }));
  const open = parsed.find((p) => p.e.entryKind === "open");
  const close = parsed.find((p) => p.e.entryKind === "close");
  const first = open ?? parsed[0]!;
  const w = first.e.workload;
  const workload: StoryWorkloadRef = { apiVersion: w.apiVersion, kind: w.kind, name: w.name, uid: w.uid };
  const podAcc = new Map<string, PodAcc>();
  for (const p of parsed) {
    const pod = podFor(podAcc, p);
    if (pod) applyToPod(pod, p);
  }
  const pods = finishPods(podAcc);
  const incidents = incidentsOf(parsed, contexts);
  const unreadLogs = unreadLogsOf(parsed);
  const ownerChain = ownerChainOf(parsed, workload, pods, incidents);
  const prevWindow = open ? int(open.data["previousWindow"]) : undefined;
  const why = close ? String(close.data["why"] ?? "") : "snapshot";
  const closeReason = (CLOSE_REASONS.includes(why) ? why : "shutdown") as CloseReason;
  const maxStreamSeq = Math.max(...unique.map((r) => r.streamSeq));

  const make = (bound: number) => {
    const t = timelineOf(parsed, bound);
    const file: StoryFile = {
      schemaVersion: 1,
      storyId: first.e.storyId,
      window: first.e.window,
      ...(prevWindow !== undefined && prevWindow >= 0 ? { previousWindow: prevWindow } : {}),
      tenant: first.e.tenant,
      cluster: first.e.cluster,
      namespace: first.e.namespace,
      workload,
      ownerChain,
      openedAt: first.e.timestamp,
      ...(close ? { closedAt: close.e.timestamp } : {}),
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
