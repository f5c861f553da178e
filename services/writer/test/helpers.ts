// Hand-built story entries in the shapes the correlator publishes, a story with two pod instances, and publishing helpers.
import type { JetStreamClient } from "@nats-io/jetstream";
import {
  buildIncidentSubject,
  buildStorySubject,
  encodeIncidentContext,
  encodeStoryEntry,
  orderingKey,
  storyIdFor,
  type Encodable,
  type EntryKind,
  type IncidentContext,
  type PodInstance,
  type StoryEntry,
  type StoryPayloads,
} from "@faro/contracts";

export const TENANT = "acme";
export const CLUSTER = "sim";

export interface StoryScope {
  storyId: string;
  namespace: string;
  subject: string;
  window: number;
}

export function scope(name: string, namespace = "shop", window = 0): StoryScope {
  const storyId = storyIdFor(TENANT, CLUSTER, namespace, "Deployment", name);
  return { storyId, namespace, subject: buildStorySubject(TENANT, CLUSTER, namespace, storyId), window };
}

export interface Built {
  entry: Encodable<StoryEntry>;
  msgId: string;
}

/** Seconds after a fixed base time, RFC3339. */
export const at = (s: number): string => new Date(Date.UTC(2026, 0, 1, 0, 0, 0) + s * 1000).toISOString();

/**
 * One entry of kind `kind` with its typed payload. Fields left out take their proto3 default when encoded
 * (encodeStoryEntry), so a payload can say only what matters to the test.
 */
export function entry<K extends EntryKind>(sc: StoryScope, name: string, kind: K, t: number, seq: number, summary: string, payload: Partial<StoryPayloads[K]>, pod?: PodInstance): Built {
  const timestamp = at(t);
  return {
    msgId: `se:${sc.storyId}:${sc.window}:${kind}:${seq}`,
    entry: {
      storyId: sc.storyId,
      window: sc.window,
      seq,
      orderingKey: orderingKey(timestamp, seq),
      tenant: TENANT,
      cluster: CLUSTER,
      namespace: sc.namespace,
      workload: { apiVersion: "apps/v1", kind: "Deployment", name, uid: `dep-${name}` },
      entryKind: kind,
      timestamp,
      ...(pod ? { pod } : {}),
      summary,
      [kind]: payload,
    } as unknown as Encodable<StoryEntry>,
  };
}

function podObject(name: string, uid: string, rsName: string, t: number, restarts: number): Record<string, unknown> {
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name, uid, namespace: "shop", creationTimestamp: at(t), ownerReferences: [{ apiVersion: "apps/v1", kind: "ReplicaSet", name: rsName, uid: `rs-${rsName}`, controller: true }] },
    spec: { nodeName: "node-1", initContainers: [{ name: "init-db", image: "busybox" }], containers: [{ name: "app", image: "shop/web:1" }] },
    status: { phase: "Pending", containerStatuses: [{ name: "app", restartCount: restarts, state: { waiting: { reason: "ContainerCreating" } } }] },
  };
}

export interface Story {
  sc: StoryScope;
  entries: Built[];
  incident: IncidentContext;
  /** Log lines published per pod/container. */
  logLines: Record<string, number>;
  podUids: string[];
  close: Built;
}

/**
 * A deployment story: open, deployment/replicaset changes, two pod instances (the first crashes OOMKilled and
 * is replaced), lifecycle, events, logs of both pods, an incident, and the close entry (kept apart).
 */
export function story(name: string, opts: { namespace?: string; window?: number; logBatches?: number; linesPerBatch?: number } = {}): Story {
  const sc = scope(name, opts.namespace, opts.window);
  const rs = `${name}-7d9f`;
  const p1: PodInstance = { name: `${rs}-aaaaa`, uid: `pod-${name}-1`, node: "node-1", replacesPodUid: "" };
  const p2: PodInstance = { name: `${rs}-bbbbb`, uid: `pod-${name}-2`, node: "node-2", replacesPodUid: p1.uid };
  const out: Built[] = [];
  let seq = 100;
  const add = <K extends EntryKind>(kind: K, t: number, summary: string, payload: Partial<StoryPayloads[K]>, pod?: PodInstance) => out.push(entry(sc, name, kind, t, (seq += 16), summary, payload, pod));
  const ended = (exitCode: number, reason: string) => ({ exitCode, reason, startedAt: "", finishedAt: "" });
  add("open", 0, `story of Deployment ${name}: window ${sc.window} opened`, {
    window: sc.window,
    ...(sc.window > 0 ? { previousWindow: sc.window - 1 } : {}),
    root: { apiVersion: "apps/v1", kind: "Deployment", name, uid: `dep-${name}` },
    ownerChain: [],
  });
  add("change", 0, `Deployment ${name} created`, { type: "ADDED", resourceVersion: "1", kind: "Deployment", name, objectJson: JSON.stringify({ apiVersion: "apps/v1", kind: "Deployment", metadata: { name, uid: `dep-${name}` } }) });
  add("change", 1, `ReplicaSet ${rs} created`, {
    type: "ADDED",
    resourceVersion: "2",
    kind: "ReplicaSet",
    name: rs,
    objectJson: JSON.stringify({ apiVersion: "apps/v1", kind: "ReplicaSet", metadata: { name: rs, uid: `rs-${rs}`, ownerReferences: [{ apiVersion: "apps/v1", kind: "Deployment", name, uid: `dep-${name}`, controller: true }] } }),
  });
  add("change", 2, `Pod ${p1.name} created`, { type: "ADDED", resourceVersion: "3", kind: "Pod", name: p1.name, objectJson: JSON.stringify(podObject(p1.name, p1.uid, rs, 2, 0)) }, p1);
  add("lifecycle", 3, `pod ${p1.name} scheduled to node-1`, { what: "scheduled", node: "node-1" }, p1);
  add("lifecycle", 4, "container init-db terminated", { what: "terminated", container: "init-db", containerType: "init", restartCount: 0, termination: ended(0, "Completed") }, p1);
  add("lifecycle", 5, "container app started", { what: "started", container: "app", containerType: "regular", restartCount: 0 }, p1);
  const logLines: Record<string, number> = {};
  const batches = opts.logBatches ?? 2;
  const per = opts.linesPerBatch ?? 3;
  const logs = (pod: PodInstance, t0: number, restartCount: number) => {
    for (let b = 0; b < batches; b++) {
      const lines = Array.from({ length: per }, (_, i) => ({ timestamp: `${at(t0 + b).slice(0, 19)}.${String(i).padStart(9, "0")}Z`, line: `${pod.name} line ${b * per + i}`, truncated: false, originalBytes: 10 }));
      add("log", t0 + b, `${per} log lines from ${pod.name}/app`, { container: "app", containerType: "regular", restartCount, source: "follow", seqStart: b * per, lines }, pod);
      const k = `${pod.name}/app`;
      logLines[k] = (logLines[k] ?? 0) + per;
    }
  };
  logs(p1, 6, 0);
  add("event", 10, `Warning BackOff Pod/${p1.name}: Back-off restarting failed container`, { reason: "BackOff", type: "Warning", message: "Back-off restarting failed container", count: 3, source: "kubelet" }, p1);
  add("lifecycle", 11, "container app restarted (restart 1, exit code 137, OOMKilled)", { what: "restarted", container: "app", containerType: "regular", restartCount: 1, termination: ended(137, "OOMKilled") }, p1);
  const incidentId = `i-${name}-oom`;
  add("incident", 11, "incident OOMKilled (high): container app was OOMKilled", { incidentId, reason: "OOMKilled", severity: "high", container: "app", repeatCount: 1, isUpdate: false, exitCode: 137 }, p1);
  add("change", 12, `Pod ${p1.name} deleted`, { type: "DELETED", resourceVersion: "9", kind: "Pod", name: p1.name }, p1);
  add("lifecycle", 12, `pod ${p1.name} deleted`, { what: "deleted" }, p1);
  add("change", 13, `Pod ${p2.name} created`, { type: "ADDED", resourceVersion: "10", kind: "Pod", name: p2.name, objectJson: JSON.stringify(podObject(p2.name, p2.uid, rs, 13, 0)) }, p2);
  add("lifecycle", 13, `pod ${p2.name} replaces pod ${p1.name}`, { what: "replaced", replacesPod: p1.name, replacesPodUid: p1.uid }, p2);
  add("lifecycle", 14, "container app started", { what: "started", container: "app", containerType: "regular", restartCount: 0 }, p2);
  logs(p2, 15, 0);
  add("event", 20, `Normal Pulled Pod/${p2.name}: image pulled`, { reason: "Pulled", type: "Normal", message: "image pulled", count: 1, source: "kubelet" }, p2);
  const close = entry(sc, name, "close", 30, (seq += 16), `window ${sc.window} closed: idle`, { why: "idle", window: sc.window });
  close.msgId = `se:${sc.storyId}:${sc.window}:close`;
  const incident: IncidentContext = {
    schemaVersion: 1,
    incidentId,
    storyId: sc.storyId,
    tenant: TENANT,
    cluster: CLUSTER,
    namespace: sc.namespace,
    reason: "OOMKilled",
    severity: "high",
    detectedAt: "2026-01-01T00:00:11.500Z",
    k8sTimestamp: at(11),
    firstSeen: at(11),
    lastSeen: at(11),
    repeatCount: 1,
    isUpdate: false,
    ownerChain: [
      { apiVersion: "v1", kind: "Pod", name: p1.name, uid: p1.uid },
      { apiVersion: "apps/v1", kind: "ReplicaSet", name: rs, uid: `rs-${rs}` },
      { apiVersion: "apps/v1", kind: "Deployment", name, uid: `dep-${name}` },
    ],
    pod: p1,
    container: "app",
    exitCode: 137,
    restartCount: 1,
    message: "container app was OOMKilled",
    logTail: [{ timestamp: at(7), line: "panic: out of memory", truncated: false, originalBytes: 20 }],
    previousLog: [],
    previousLogSource: "buffer",
    events: [{ reason: "BackOff", type: "Warning", message: "Back-off restarting failed container", count: 3, first: at(9), last: at(10), source: "kubelet" }],
    manifests: [{ kind: "Pod", name: p1.name, json: "{\"kind\":\"Pod\"}" }],
    recentChanges: [],
  };
  return { sc, entries: out, incident, logLines, podUids: [p1.uid, p2.uid], close };
}

/** Publishes entries (awaiting each ack); `msgIds: false` publishes without ids so the server cannot dedupe. */
export async function publishEntries(js: JetStreamClient, sc: StoryScope, entries: readonly Built[], msgIds = true): Promise<void> {
  await Promise.all(entries.map((b) => js.publish(sc.subject, encodeStoryEntry(b.entry), msgIds ? { msgID: b.msgId } : {})));
}

export async function publishIncident(js: JetStreamClient, ctx: IncidentContext): Promise<void> {
  await js.publish(buildIncidentSubject(ctx.tenant, ctx.cluster, ctx.namespace, ctx.reason), encodeIncidentContext(ctx), { msgID: `in:${ctx.incidentId}:${ctx.repeatCount}` });
}

/** Polls `fn` until it returns a truthy value or the deadline passes. */
export async function until<T>(fn: () => T | Promise<T>, timeoutMs = 15_000, what = "condition"): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v as NonNullable<T>;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
