// The detection matrix: every kind the simulator can produce (scenario `detection`) goes from the simulated
// cluster's store through the correlator's processor (real Redis, owners and pods read from the simulator's
// API) and must raise exactly one incident with its evidence; the healthy controls raise none. Then the
// replacement pod (its first crash is an update naming it, at once), deletedAt against the simulator's
// truth, and a StuckPending that is not republished while nothing changes.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Redis } from "ioredis";
import { decodeStoryEntry, encodeStoryEntry, type Encodable, type IncidentContext, type KubeEvent, type ResourceChange, type StoryEntry } from "@faro/contracts";
import { CorrelatorState, DEFAULT_SETTINGS, Processor, podsOn, type Sink } from "@faro/correlator";
import { getObject, loadKubeConfig, requestJson } from "@faro/kube";
import { startCluster, type Cluster, type StoreEvent } from "@faro/kube-sim";
import { startRedis, type ManagedServer } from "@faro/test-harness";
import { until } from "../e2e/helpers.js";

const SPEED = 50;
const NS = "matrix";

/** Every message the processor published, in order, with its message id (JetStream dedupes on it). */
class Recorder implements Sink {
  readonly entries: { msgId: string; entry: StoryEntry }[] = [];
  readonly incidents: { msgId: string; incident: Encodable<IncidentContext>; wallMs: number }[] = [];
  async publishEntry(_subject: string, entry: Encodable<StoryEntry>, msgId: string): Promise<void> {
    this.entries.push({ msgId, entry: decodeStoryEntry(encodeStoryEntry(entry)) });
  }
  async publishIncident(_subject: string, incident: Encodable<IncidentContext>, msgId: string): Promise<void> {
    this.incidents.push({ msgId, incident, wallMs: Date.now() });
  }
}

let cluster: Cluster;
let redis: ManagedServer;
let client: Redis;
let sink: Recorder;
let processor: Processor;
let chain: Promise<void> = Promise.resolve();
let failures = 0;
let unsubscribe: () => void = () => undefined;
let dir: string;

// The watcher's and filter's encoding of a store change, as the correlator's clean stream carries it.
function toInput(ev: StoreEvent): { kind: "change"; x: ResourceChange } | { kind: "event"; x: KubeEvent } {
  const o = ev.object as unknown as Record<string, any>;
  if (ev.resource.resource === "events" && ev.resource.group === "") {
    const inv = o["involvedObject"] ?? {};
    return {
      kind: "event",
      x: {
        schemaVersion: 1, cluster: "sim", type: ev.type, uid: o.metadata.uid, resourceVersion: o.metadata.resourceVersion, namespace: o.metadata.namespace ?? "", name: o.metadata.name,
        reason: o["reason"] ?? "", message: o["message"] ?? "", eventType: o["type"] ?? "", sourceComponent: o["source"]?.component ?? "", sourceHost: o["source"]?.host ?? "", reportingController: o["reportingComponent"] ?? "",
        involved: { apiVersion: inv.apiVersion ?? "", kind: inv.kind ?? "", namespace: inv.namespace ?? "", name: inv.name ?? "", uid: inv.uid ?? "", fieldPath: inv.fieldPath ?? "" },
        count: o["count"] ?? 1, firstTimestamp: o["firstTimestamp"] ?? "", lastTimestamp: o["lastTimestamp"] ?? "", eventTime: o["eventTime"] ?? "", observedAtMs: Date.now(), objectJson: JSON.stringify(o),
      },
    };
  }
  return {
    kind: "change",
    x: {
      schemaVersion: 1, cluster: "sim", type: ev.type, group: ev.resource.group, version: ev.resource.version, resource: ev.resource.resource, kind: o.kind ?? ev.resource.kind,
      namespace: o.metadata.namespace ?? "", name: o.metadata.name, uid: o.metadata.uid, resourceVersion: o.metadata.resourceVersion, observedAtMs: Date.now(),
      ownerRefs: (o.metadata.ownerReferences ?? []).map((r: any) => ({ ...r, controller: Boolean(r.controller) })), labels: o.metadata.labels ?? {}, objectJson: JSON.stringify(o),
    },
  };
}

beforeAll(async () => {
  [cluster, redis] = await Promise.all([startCluster({ speed: SPEED }), startRedis()]);
  client = new Redis(redis.url, { maxRetriesPerRequest: 2 });
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "faro-matrix-"));
  const file = path.join(dir, "kubeconfig");
  cluster.writeKubeconfig(file);
  const kc = loadKubeConfig({ kubeconfig: file });
  sink = new Recorder();
  processor = new Processor({
    state: new CorrelatorState(client, "matrix:"),
    sink,
    // A long debounce window: on a loaded machine the simulated clock (×50) can pass the default 5 minutes
    // while the test waits, and a second episode is not what this test is about.
    settings: { ...DEFAULT_SETTINGS, settleMs: 0, debounceWindowMs: 3_600_000 },
    fetchOwner: async (ref) => (await getObject(kc, ref.apiVersion, ref.kind, ref.namespace || undefined, ref.name)) as never,
    listPodsOnNode: async (node) => podsOn(node, (await requestJson<{ items?: never[] }>(kc, { path: "/api/v1/pods", query: { fieldSelector: `spec.nodeName=${node}` } })).items ?? []),
  });
  unsubscribe = cluster.store.subscribe((ev) => {
    const input = toInput(ev);
    chain = chain
      .then(() => (input.kind === "event" ? processor.handleEvent("t", input.x) : processor.handleChange("t", input.x)))
      .catch((err: unknown) => {
        failures++;
        console.error("processing failed", err);
      });
  });
});

afterAll(async () => {
  unsubscribe();
  await chain;
  client?.disconnect();
  await Promise.all([cluster?.stop(), redis?.stop()]);
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

const rootOf = (i: Encodable<IncidentContext>) => i.ownerChain.at(-1)!;
const firsts = () => sink.incidents.map((r) => r.incident).filter((i) => !i.isUpdate);

/** reason → the root of the story it must be raised in (and what else it must carry). */
const MATRIX: { reason: string; root: string; kind: string; container?: string; containerType?: string; affected?: boolean }[] = [
  { reason: "ErrImageNeverPull", root: "neverpull", kind: "Deployment", container: "app", containerType: "regular" },
  { reason: "PreStartHookError", root: "hooked", kind: "Deployment", container: "app" },
  { reason: "ImageInspectError", root: "inspect", kind: "Deployment", container: "app" },
  { reason: "FailedMount", root: "mounter", kind: "Deployment" },
  { reason: "FailedCreatePodSandBox", root: "sandboxed", kind: "Deployment" },
  { reason: "LivenessProbeFailed", root: "alive", kind: "Deployment", container: "app", containerType: "regular" },
  { reason: "ReadinessProbeFailed", root: "ready", kind: "Deployment", container: "app" },
  { reason: "CrashLoopBackOff", root: "initcrash", kind: "Deployment", container: "migrate", containerType: "init" },
  { reason: "ProvisioningFailed", root: "data", kind: "PersistentVolumeClaim" },
  { reason: "BackoffLimitExceeded", root: "nightly", kind: "CronJob" },
  { reason: "HPAMaxReplicas", root: "busy", kind: "HorizontalPodAutoscaler" },
  { reason: "NodeMemoryPressure", root: "sim-node-3", kind: "Node", affected: true },
  { reason: "NodeNotReady", root: "sim-node-3", kind: "Node", affected: true },
];
const HEALTHY = ["steady", "doomed", "once", "logs", "calm"];

describe("detection matrix (simulator → correlator)", () => {
  it("each kind is detected once with its evidence; the rollout, drain, scale-down, deletion and completed Job raise nothing", { timeout: 60_000 }, async () => {
    const run = cluster.runScenario("detection");
    const seen = (m: (typeof MATRIX)[number]) => firsts().some((i) => i.reason === m.reason && rootOf(i).name === m.root);
    await until("every kind of the matrix", () => MATRIX.every(seen) || failures > 0, 45_000, 100);
    // Every step ran (the last at 55 s), then 15 s more: repeats and late changes have happened.
    await run.done;
    const after = cluster.clock.now();
    await until("15 simulated seconds more", () => cluster.clock.now() - after > 15_000, 10_000, 50);
    run.stop();
    expect(run.log.filter((l) => l.error)).toEqual([]);
    await chain;
    expect(failures).toBe(0);
    for (const m of MATRIX) {
      const mine = firsts().filter((i) => i.reason === m.reason && rootOf(i).name === m.root);
      expect(mine.length, `${m.reason} in ${m.root}: once`).toBe(1);
      const inc = mine[0]!;
      expect(rootOf(inc).kind, m.reason).toBe(m.kind);
      expect(inc.evidence?.length, `${m.reason} has evidence`).toBeGreaterThan(0);
      if (m.container) expect(inc.container, m.reason).toBe(m.container);
      if (m.containerType) expect(inc.containerType, m.reason).toBe(m.containerType);
      if (m.affected) expect(inc.affectedPods?.length, `${m.reason} names the pods on the node`).toBeGreaterThan(0);
      // One clock: detectedAt is the cluster's time, never before what it reacts to; receipt time apart.
      expect(Date.parse(inc.detectedAt), m.reason).toBeGreaterThanOrEqual(Date.parse(inc.k8sTimestamp));
      // (The simulated clock runs 50× ahead of the wall clock: a wall-clock detectedAt would be before k8sTimestamp.)
      expect(Date.parse(inc.detectedAt), `${m.reason} detectedAt on the cluster clock`).toBeLessThanOrEqual(cluster.clock.now());
      expect(inc.receivedAt, m.reason).toBeTruthy();
    }
    if (process.env.FARO_MATRIX_PRINT) for (const r of sink.incidents) console.log(r.incident.isUpdate ? "update" : "new", r.incident.reason, rootOf(r.incident).name, r.incident.container, r.incident.containerType, r.incident.repeatCount, r.incident.pod?.name, JSON.stringify(r.incident.evidence?.[0]), (r.incident.affectedPods ?? []).length);
    // The node incidents name pods that are on that node.
    const nodeInc = firsts().find((i) => i.reason === "NodeNotReady")!;
    for (const p of nodeInc.affectedPods ?? []) expect(p.node).toBe("sim-node-3");
    // The CronJob's story: Job → CronJob owner chain.
    expect(firsts().find((i) => i.reason === "BackoffLimitExceeded")!.ownerChain.map((l) => l.kind)).toEqual(["Job", "CronJob"]);
    // Healthy controls: no incident at all in their stories.
    for (const h of HEALTHY) expect(sink.incidents.filter((r) => rootOf(r.incident).name === h).map((r) => r.incident.reason), h).toEqual([]);
    // No message was published twice under the same id.
    const ids = sink.incidents.map((r) => r.msgId);
    expect(new Set(ids).size).toBe(ids.length);
  });
});

describe("replacement pods, deletion times, no republish", () => {
  it("a replacement pod's first crash is an incident update naming it at once; deletedAt is the simulator's", { timeout: 60_000 }, async () => {
    const run = cluster.runScenario("crashloop");
    const crasher = () => sink.incidents.filter((r) => r.incident.reason === "CrashLoopBackOff" && rootOf(r.incident).name === "crasher");
    await until("the first CrashLoopBackOff of crasher", () => crasher().length > 0, 30_000, 50);
    const first = crasher()[0]!.incident;
    const podA = first.pod!;
    // The pod is deleted (a person, a drain): its ReplicaSet makes another, which crashes in turn.
    let crashedAtWall = 0;
    let podB = "";
    const off = cluster.store.subscribe((ev) => {
      const o = ev.object as unknown as { kind: string; metadata: { name: string; uid: string }; status?: { containerStatuses?: { restartCount?: number }[] } };
      if (o.kind === "Pod" && o.metadata.name.startsWith("crasher-") && o.metadata.uid !== podA.uid && !crashedAtWall && (o.status?.containerStatuses?.[0]?.restartCount ?? 0) > 0) {
        crashedAtWall = Date.now();
        podB = o.metadata.name;
      }
    });
    cluster.store.delete(cluster.store.typeFor("", "pods")!, "default", podA.name);
    try {
      await until("the update about the replacement pod", () => crasher().some((r) => r.incident.isUpdate && r.incident.pod?.name === podB && podB !== ""), 30_000, 20);
    } finally {
      off();
    }
    run.stop();
    await chain;
    const update = crasher().find((r) => r.incident.isUpdate && r.incident.pod?.name === podB)!;
    // Within the incident latency bound of the crash reaching the processor, not at the window's end.
    expect(update.wallMs - crashedAtWall).toBeLessThan(2000);
    expect(update.incident.incidentId).toBe(first.incidentId);
    expect(update.incident.repeatCount).toBeGreaterThanOrEqual(2);
    expect(update.incident.restartCount).toBeGreaterThanOrEqual(1);
    expect(update.incident.pod?.uid).not.toBe(podA.uid);
    expect(update.incident.debounceWindowMs).toBe(3_600_000);
    // deletedAt of pod A in its story: the DELETED change's time as the simulator recorded it.
    const truth = cluster.truth.changes({ uid: podA.uid, type: "DELETED" })[0]!;
    const deleted = sink.entries.find((e) => e.entry.entryKind === "lifecycle" && e.entry.lifecycle.what === "deleted" && e.entry.pod?.uid === podA.uid)!;
    expect(deleted).toBeDefined();
    const diff = Date.parse(deleted.entry.timestamp) - truth.at;
    // Kubernetes times have whole seconds; the story's time is never before the deletion and at most the
    // processing delay (simulated at ×50) after it.
    expect(diff).toBeGreaterThanOrEqual(-1000);
    expect(diff).toBeLessThanOrEqual(2000);
    const terminating = sink.entries.find((e) => e.entry.entryKind === "lifecycle" && e.entry.lifecycle.what === "terminating" && e.entry.pod?.uid === podA.uid)!;
    const requested = cluster.truth.changes({ uid: podA.uid }).find((c) => c.type === "MODIFIED" && c.at <= truth.at && c.at >= truth.at - 31_000);
    expect(requested).toBeDefined();
    expect(Date.parse(terminating.entry.timestamp)).toBeLessThanOrEqual(truth.at);
  });

  it("a StuckPending incident is published once while nothing changes, however often the check runs", { timeout: 30_000 }, async () => {
    const state = new CorrelatorState(client, "stuck:");
    const stuckSink = new Recorder();
    const p = new Processor({ state, sink: stuckSink, settings: { ...DEFAULT_SETTINGS, pendingThresholdMs: 60_000 } });
    const created = "2026-01-01T00:00:00Z";
    const pod = { apiVersion: "v1", kind: "Pod", metadata: { name: "lonely", namespace: "shop", uid: "stuck-1", resourceVersion: "5", creationTimestamp: created }, spec: {}, status: { phase: "Pending", conditions: [{ type: "PodScheduled", status: "False", reason: "SchedulerError", lastTransitionTime: created }] } };
    await p.handleChange("t", {
      schemaVersion: 1, cluster: "c1", type: "ADDED", group: "", version: "v1", resource: "pods", kind: "Pod", namespace: "shop", name: "lonely", uid: "stuck-1", resourceVersion: "5",
      observedAtMs: Date.now(), ownerRefs: [], labels: {}, objectJson: JSON.stringify(pod),
    });
    // The cluster's clock moves on (an unrelated object) past the threshold; the check runs many times.
    const later = { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "tick", namespace: "shop", uid: "cm-1", resourceVersion: "6", creationTimestamp: "2026-01-01T00:05:00Z" } };
    await p.handleChange("t", { schemaVersion: 1, cluster: "c1", type: "ADDED", group: "", version: "v1", resource: "configmaps", kind: "ConfigMap", namespace: "shop", name: "tick", uid: "cm-1", resourceVersion: "6", observedAtMs: Date.now(), ownerRefs: [], labels: {}, objectJson: JSON.stringify(later) });
    for (let i = 0; i < 10; i++) await p.tick();
    // Its debounce state expires (20 min later in a real run): still nothing new to publish.
    const expiring = [...(await client.keys("stuck:occ:*")), ...(await client.keys("stuck:deb:*"))];
    expect(expiring.length).toBeGreaterThan(0);
    await client.del(...expiring);
    for (let i = 0; i < 3; i++) await p.tick();
    const stuck = stuckSink.incidents.filter((r) => r.incident.reason === "StuckPending");
    expect(stuck.length).toBe(1);
    expect(stuck[0]!.incident.detectedAt >= "2026-01-01T00:05:00").toBe(true);
    // Its story entry too: once.
    expect(stuckSink.entries.filter((e) => e.entry.entryKind === "incident" && e.entry.incident.reason === "StuckPending").length).toBe(1);
  });
});
