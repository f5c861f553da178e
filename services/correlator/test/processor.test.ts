// The processor against a real Redis: a crash-looping Deployment pod, debounce, stories across recreations, two replicas.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Redis } from "ioredis";
import { startRedis, type ManagedServer } from "@faro/test-harness";
import { createRedactor } from "@faro/redact";
import { Processor } from "../src/processor.js";
import { DEFAULT_SETTINGS, type CorrelatorSettings } from "../src/settings.js";
import { CorrelatorState } from "../src/state.js";
import { pod } from "../src/fixtures.test-util.js";
import { change, event, logs, RecordingSink, TENANT, workload } from "./helpers.js";

let server: ManagedServer;
let redis: Redis;
let n = 0;

beforeAll(async () => {
  server = await startRedis();
  redis = new Redis(server.url, { maxRetriesPerRequest: 2 });
});
afterAll(async () => {
  redis?.disconnect();
  await server?.stop();
});

const settings: CorrelatorSettings = { ...DEFAULT_SETTINGS, settleMs: 200 };

function processor(prefix = `p${++n}:`, over: Partial<CorrelatorSettings> = {}, sink = new RecordingSink()) {
  const state = new CorrelatorState(redis, prefix);
  const p = new Processor({ state, sink, settings: { ...settings, ...over }, redactor: createRedactor() });
  return { p, sink, state, prefix };
}

/** Resolves `settling` when a harvest starts waiting for a crashed instance's last lines (its first logComplete check). */
class SettleProbe extends CorrelatorState {
  private started!: () => void;
  readonly settling = new Promise<void>((resolve) => (this.started = resolve));
  override async logComplete(cluster: string, key: string): Promise<boolean> {
    this.started();
    return super.logComplete(cluster, key);
  }
}

const DEP = { kind: "Deployment", name: "web", uid: "dep-1" };
const RS = { kind: "ReplicaSet", name: "web-7d4b9c", uid: "rs-1" };
const ts = (min: number, sec = 0) => new Date(Date.UTC(2026, 0, 1, 0, min, sec)).toISOString().replace(".000Z", "Z");

function crashingPod(restarts: number, finishedAt: string, rv: string) {
  return pod({ name: "web-7d4b9c-x2x9k", uid: "pod-1", rv, owner: RS, restartCount: restarts, waiting: { reason: "CrashLoopBackOff", message: "back-off 10s restarting failed container=app" }, last: { exitCode: 1, reason: "Error", finishedAt } });
}

describe("processor", () => {
  it("crash-looping deployment pod: one CrashLoopBackOff incident with log tail, events, manifests, owner chain", async () => {
    const state = new SettleProbe(redis, `p${++n}:`);
    const sink = new RecordingSink();
    const p = new Processor({ state, sink, settings, redactor: createRedactor() });
    // The pod arrives before its owners (watch order is arbitrary); the graph fills in either way.
    const pod0 = pod({ name: "web-7d4b9c-x2x9k", uid: "pod-1", rv: "10", owner: RS, running: ts(0, 5) });
    await p.handleChange(TENANT, change(workload("Deployment", "web", "dep-1"), "ADDED"));
    await p.handleChange(TENANT, change(workload("ReplicaSet", "web-7d4b9c", "rs-1", DEP), "ADDED"));
    await p.handleChange(TENANT, change(pod0, "ADDED"));
    await p.handleLogs(TENANT, logs("web-7d4b9c-x2x9k", "pod-1", 0, 0, [[`${ts(0, 6).slice(0, -1)}.000000001Z`, "starting"], [`${ts(0, 9).slice(0, -1)}.5Z`, "password=hunter2 connecting to db"]], RS));
    await p.handleEvent(TENANT, event("BackOff", { kind: "Pod", name: "web-7d4b9c-x2x9k", uid: "pod-1" }, ts(0, 11), { message: "Back-off restarting failed container app" }));
    // the status change first, the last log line a moment later: the settle waits for it
    const detecting = p.handleChange(TENANT, change(crashingPod(1, ts(0, 10), "20")));
    await state.settling;
    // the rest of the crashed instance arrives as a `previous` read ending its stream
    await p.handleLogs(TENANT, { ...logs("web-7d4b9c-x2x9k", "pod-1", 0, 0, [[`${ts(0, 10).slice(0, -1)}.0Z`, "panic: cannot connect"]], RS, true), source: "previous" });
    await detecting;

    const incidents = [...sink.incidents.values()];
    expect(incidents).toHaveLength(1);
    const inc = incidents[0]!.incident;
    expect(incidents[0]!.subject).toBe("faro.v1.incident.acme.sim.shop.CrashLoopBackOff");
    expect(inc).toMatchObject({ reason: "CrashLoopBackOff", severity: "high", container: "app", exitCode: 1, restartCount: 1, k8sTimestamp: ts(0, 10), repeatCount: 1, isUpdate: false });
    expect(inc.ownerChain.map((l) => `${l.kind}/${l.name}`)).toEqual(["Pod/web-7d4b9c-x2x9k", "ReplicaSet/web-7d4b9c", "Deployment/web"]);
    expect(inc.logTail.map((l) => l.line)).toEqual(["starting", "password=hunter2 connecting to db", "panic: cannot connect"]);
    expect(inc.events.map((e) => e.reason)).toEqual(["BackOff"]);
    expect(inc.manifests.map((m) => m.kind)).toEqual(["Pod", "ReplicaSet", "Deployment"]);
    expect(inc.pod).toMatchObject({ name: "web-7d4b9c-x2x9k", uid: "pod-1" });

    const entries = [...sink.entries.values()].map((e) => e.entry);
    expect(new Set(entries.map((e) => e.storyId)).size).toBe(1);
    expect(entries.filter((e) => e.entryKind === "open")).toHaveLength(1);
    expect(entries.map((e) => e.entryKind)).toEqual(expect.arrayContaining(["change", "lifecycle", "log", "event", "incident"]));
    const restarted = entries.find((e) => e.entryKind === "lifecycle" && e.summary.includes("restarted"));
    expect(restarted!.lifecycle).toMatchObject({ what: "restarted", container: "app", termination: { exitCode: 1, reason: "Error" } });
  });

  it("ten crashes in five simulated minutes: one incident, then one update counting ten", async () => {
    const { p, sink } = processor(undefined, { settleMs: 0 });
    await p.handleChange(TENANT, change(pod({ name: "web-7d4b9c-x2x9k", uid: "pod-1", rv: "10", owner: RS }), "ADDED"));
    for (let i = 1; i <= 10; i++) await p.handleChange(TENANT, change(crashingPod(i, ts(0, 0 + i * 28), String(10 + i))));
    expect([...sink.incidents.values()]).toHaveLength(1);
    // the cluster's clock moves past the window's end (any input with a later Kubernetes time)
    await p.handleEvent(TENANT, event("Pulled", { kind: "Pod", name: "web-7d4b9c-x2x9k", uid: "pod-1" }, ts(6), { type: "Normal" }));
    await p.tick();
    const all = [...sink.incidents.values()].map((i) => i.incident);
    expect(all).toHaveLength(2);
    expect(all[1]).toMatchObject({ isUpdate: true, repeatCount: 10, reason: "CrashLoopBackOff", incidentId: all[0]!.incidentId });
    await p.tick();
    expect(sink.incidents.size).toBe(2);
  });

  it("pods deleted and recreated, then a rollout: one story, replacements named", async () => {
    const { p, sink } = processor();
    const RS2 = { kind: "ReplicaSet", name: "web-5f6a7b", uid: "rs-2" };
    await p.handleChange(TENANT, change(workload("Deployment", "web", "dep-1"), "ADDED"));
    await p.handleChange(TENANT, change(workload("ReplicaSet", "web-7d4b9c", "rs-1", DEP), "ADDED"));
    const a = pod({ name: "web-7d4b9c-aaaaa", uid: "pa", rv: "10", owner: RS });
    await p.handleChange(TENANT, change(a, "ADDED"));
    await p.handleChange(TENANT, change(pod({ name: "web-7d4b9c-aaaaa", uid: "pa", rv: "11", owner: RS, deletionTimestamp: ts(1) })));
    await p.handleChange(TENANT, change(pod({ name: "web-7d4b9c-bbbbb", uid: "pb", rv: "12", owner: RS }), "ADDED"));
    await p.handleChange(TENANT, change(pod({ name: "web-7d4b9c-aaaaa", uid: "pa", rv: "13", owner: RS, deletionTimestamp: ts(1) }), "DELETED"));
    // rollout: a new ReplicaSet, its pod replaces the old one
    await p.handleChange(TENANT, change(workload("ReplicaSet", "web-5f6a7b", "rs-2", DEP), "ADDED"));
    await p.handleChange(TENANT, change(pod({ name: "web-7d4b9c-bbbbb", uid: "pb", rv: "14", owner: RS, deletionTimestamp: ts(2) })));
    await p.handleChange(TENANT, change(pod({ name: "web-5f6a7b-ccccc", uid: "pc", rv: "15", owner: RS2 }), "ADDED"));
    await p.handleLogs(TENANT, logs("web-5f6a7b-ccccc", "pc", 0, 0, [[ts(3), "hello"]], RS2));
    const entries = [...sink.entries.values()].map((e) => e.entry);
    expect(new Set(entries.map((e) => e.storyId)).size).toBe(1);
    expect(entries.every((e) => e.workload.kind === "Deployment" && e.workload.name === "web")).toBe(true);
    const replaced = entries.filter((e) => e.lifecycle?.what === "replaced").map((e) => e.summary);
    expect(replaced).toEqual(["pod web-7d4b9c-bbbbb replaces pod web-7d4b9c-aaaaa", "pod web-5f6a7b-ccccc replaces pod web-7d4b9c-bbbbb"]);
    // a bare pod recreated with the same name continues its story
    const bare1 = pod({ name: "debug", uid: "d1", rv: "20" });
    await p.handleChange(TENANT, change(bare1, "ADDED"));
    await p.handleChange(TENANT, change(pod({ name: "debug", uid: "d1", rv: "21" }), "DELETED"));
    await p.handleChange(TENANT, change(pod({ name: "debug", uid: "d2", rv: "22" }), "ADDED"));
    const bare = [...sink.entries.values()].map((e) => e.entry).filter((e) => e.workload.name === "debug");
    expect(new Set(bare.map((e) => e.storyId)).size).toBe(1);
    expect(bare.some((e) => e.summary === "pod debug replaces pod debug")).toBe(true);
  });

  it("two replicas with interleaved and redelivered inputs publish what one replica publishes", async () => {
    const inputs = [
      () => change(workload("Deployment", "web", "dep-1"), "ADDED"),
      () => change(workload("ReplicaSet", "web-7d4b9c", "rs-1", DEP), "ADDED"),
      () => change(pod({ name: "web-7d4b9c-x2x9k", uid: "pod-1", rv: "10", owner: RS }), "ADDED"),
      ...Array.from({ length: 6 }, (_, i) => () => change(crashingPod(i + 1, ts(0, 10 + i * 20), String(11 + i)))),
      () => logs("web-7d4b9c-x2x9k", "pod-1", 0, 0, [[ts(0, 9), "boom"]], RS),
      () => event("BackOff", { kind: "Pod", name: "web-7d4b9c-x2x9k", uid: "pod-1" }, ts(0, 30), { uid: "ev-b" }),
    ];
    const feed = async (p: Processor, x: ReturnType<(typeof inputs)[number]>) =>
      "lines" in x ? p.handleLogs(TENANT, x) : "involved" in x ? p.handleEvent(TENANT, x) : p.handleChange(TENANT, x);
    const built = inputs.map((f) => f());

    const one = processor(undefined, { settleMs: 0 });
    for (const x of built) await feed(one.p, x);

    const sink = new RecordingSink();
    const prefix = `p${++n}:`;
    const r1 = processor(prefix, { settleMs: 0 }, sink);
    const r2 = processor(prefix, { settleMs: 0 }, sink);
    // in order per object (as one subject is delivered), replicas alternate, and everything is redelivered
    for (let i = 0; i < built.length; i++) await feed(i % 2 ? r1.p : r2.p, built[i]!);
    await Promise.all(built.map((x, i) => feed(i % 2 ? r2.p : r1.p, x)));

    const strip = (m: Map<string, { entry: any }>) => [...m.keys()].sort();
    expect(strip(sink.entries)).toEqual(strip(one.sink.entries));
    expect([...sink.incidents.keys()].sort()).toEqual([...one.sink.incidents.keys()].sort());
    expect(sink.incidents.size).toBe(1);
  });

  it("windows close when the root is deleted (after the grace) or idle, and roll over at the maximum length", async () => {
    const { p, sink } = processor(undefined, { rootDeletedGraceMs: 60_000, idleCloseMs: 3600_000, maxEntriesPerWindow: 3 });
    const dep = workload("Deployment", "web", "dep-1");
    await p.handleChange(TENANT, change(dep, "ADDED"));
    await p.handleChange(TENANT, change({ ...dep, metadata: { ...dep.metadata, resourceVersion: undefined, labels: { v: "2" } } }));
    await p.handleChange(TENANT, change({ ...dep, metadata: { ...dep.metadata, resourceVersion: undefined, labels: { v: "3" } } }));
    // the fourth entry does not fit: window 0 closes (max-length), window 1 opens
    await p.handleChange(TENANT, change({ ...dep, metadata: { ...dep.metadata, resourceVersion: undefined, labels: { v: "4" }, deletionTimestamp: ts(1) } }, "DELETED"));
    const kinds = () => [...sink.entries.values()].map((e) => `${e.entry.window}:${e.entry.entryKind}`);
    expect(kinds()).toEqual(["0:open", "0:change", "0:change", "0:change", "0:close", "1:open", "1:change"]);
    const close0 = [...sink.entries.values()].find((e) => e.entry.entryKind === "close")!.entry;
    expect(close0.close).toMatchObject({ why: "max-length", window: 0 });
    // the cluster clock passes the grace period: the deleted root's window closes, once
    await p.handleEvent(TENANT, event("Other", { kind: "Pod", name: "x", uid: "px" }, ts(3), { type: "Normal" }));
    await p.tick();
    await p.tick();
    const closes = [...sink.entries.values()].filter((e) => e.entry.entryKind === "close" && e.entry.workload.name === "web").map((e) => e.entry.close);
    expect(closes).toEqual([{ why: "max-length", window: 0, next: 1 }, { why: "root-deleted", window: 1 }]);
  });

  it("a pod pending past the threshold is a StuckPending incident, once", async () => {
    const { p, sink } = processor(undefined, { pendingThresholdMs: 120_000 });
    await p.handleChange(TENANT, change(pod({ name: "web-7d4b9c-ppppp", uid: "pp", rv: "10", owner: RS, phase: "Pending", waiting: { reason: "ContainerCreating" } }), "ADDED"));
    await p.tick();
    expect(sink.incidents.size).toBe(0);
    await p.handleEvent(TENANT, event("Other", { kind: "Pod", name: "x", uid: "px" }, ts(5), { type: "Normal" }));
    await p.tick();
    await p.tick();
    const incidents = [...sink.incidents.values()].map((i) => i.incident);
    expect(incidents.map((i) => [i.reason, i.pod?.name])).toEqual([["StuckPending", "web-7d4b9c-ppppp"]]);
    expect(incidents[0]!.ownerChain.map((l) => l.kind)).toEqual(["Pod", "ReplicaSet", "Deployment"]);
  });
});
