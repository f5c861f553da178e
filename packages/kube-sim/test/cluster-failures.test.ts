// Failure modes of the built-in scenarios produce the pod status and Events of KUBE-SIM.md:
// CrashLoopBackOff with doubling back-off, OOMKilled, ImagePullBackOff, eviction, probe failure,
// FailedScheduling.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startCluster, type Cluster } from "../src/index.js";
import { containerStatus, deployment, eventsFor, podsOf, until } from "./cluster-helpers.js";

let c: Cluster;
beforeAll(async () => {
  c = await startCluster({ speed: 50 });
});
afterAll(async () => {
  await c?.stop();
});
const pods = () => c.store.typeFor("", "pods")!;
const deploys = () => c.store.typeFor("apps", "deployments")!;
const fresh = (name: string) => c.store.get(pods(), "default", name);

describe("failure modes", () => {
  it("crashloop: CrashLoopBackOff with back-off doubling 10s → 20s → 40s, one BackOff event counting", async () => {
    const run = c.runScenario("crashloop");
    const pod = await until(() => podsOf(c, "crasher")[0], "crasher pod");
    const name = pod.metadata.name;
    const uid = pod.metadata.uid;
    const seen = new Set<string>();
    await until(() => {
      const m = containerStatus(fresh(name))?.state.waiting?.message as string | undefined;
      if (m) seen.add(m);
      return seen.size >= 3;
    }, "three back-off steps", 40_000);
    const msgs = [...seen];
    expect(msgs[0]).toBe(`back-off 10s restarting failed container=app pod=${name}_default(${uid})`);
    expect(msgs[1]).toBe(`back-off 20s restarting failed container=app pod=${name}_default(${uid})`);
    expect(msgs[2]).toBe(`back-off 40s restarting failed container=app pod=${name}_default(${uid})`);
    const cs = containerStatus(fresh(name))!;
    expect(cs.restartCount).toBeGreaterThanOrEqual(3);
    expect(cs.lastState.terminated).toMatchObject({ exitCode: 1, reason: "Error" });
    const backoffs = eventsFor(c, name, "BackOff");
    expect(backoffs).toHaveLength(1);
    expect(backoffs[0]).toMatchObject({
      type: "Warning",
      message: `Back-off restarting failed container app in pod ${name}_default(${uid})`,
      involvedObject: { kind: "Pod", name, namespace: "default", uid, fieldPath: "spec.containers{app}" },
      source: { component: "kubelet" },
    });
    expect(backoffs[0]!.count).toBeGreaterThanOrEqual(3);
    expect(c.truth.lines({ pod: name, restartCount: 0 }).at(-1)!.line).toBe("fatal: cannot connect to database");
    run.stop();
    c.store.delete(deploys(), "default", "crasher");
  });

  it("oomkill: lastState.terminated exit 137 OOMKilled", async () => {
    c.runScenario("oomkill");
    const pod = await until(() => podsOf(c, "hungry")[0], "hungry pod");
    const cs = await until(() => {
      const s = containerStatus(fresh(pod.metadata.name));
      return s?.lastState.terminated ? s : undefined;
    }, "an OOM kill");
    expect(cs.lastState.terminated).toMatchObject({ exitCode: 137, reason: "OOMKilled" });
    expect(cs.state.waiting?.reason).toBe("CrashLoopBackOff");
  });

  it("imagepull: ErrImagePull then ImagePullBackOff, phase stays Pending", async () => {
    // Record every waiting reason the store ever holds: ErrImagePull is short-lived, polling can miss it.
    const reasons = new Set<string>();
    const unsubscribe = c.store.subscribe((ev) => {
      if (ev.object.kind !== "Pod" || !ev.object.metadata.name.startsWith("broken")) return;
      const r = containerStatus(ev.object)?.state.waiting?.reason as string | undefined;
      if (r) reasons.add(r);
    });
    c.runScenario("imagepull");
    const pod = await until(() => podsOf(c, "broken")[0], "broken pod");
    const img = "registry.example.com/team/broken:does-not-exist";
    const cs = await until(() => {
      const s = containerStatus(fresh(pod.metadata.name));
      return s?.state.waiting?.reason === "ImagePullBackOff" ? s : undefined;
    }, "ImagePullBackOff");
    unsubscribe();
    expect(reasons.has("ErrImagePull")).toBe(true);
    expect(cs.state.waiting!.message).toMatch(new RegExp(`^Back-off pulling image "${img}": ErrImagePull: `));
    expect((fresh(pod.metadata.name)!.status as { phase: string }).phase).toBe("Pending");
    const failed = eventsFor(c, pod.metadata.name, "Failed").map((e) => e.message as string);
    expect(failed.some((m) => m.startsWith(`Failed to pull image "${img}": `))).toBe(true);
    expect(eventsFor(c, pod.metadata.name, "BackOff")[0]).toMatchObject({ type: "Normal", message: `Back-off pulling image "${img}"` });
  });

  it("eviction: phase Failed, reason Evicted, Evicted event, replacement pod", async () => {
    c.store.create(deploys(), deployment("evictee"));
    const pod = await until(() => podsOf(c, "evictee").find((p) => containerStatus(p)?.state.running), "evictee running");
    expect(c.kubelet.evict("default", pod.metadata.name)).toBe(true);
    const p = await until(() => {
      const x = fresh(pod.metadata.name);
      return (x?.status as { phase?: string })?.phase === "Failed" ? x : undefined;
    }, "evicted pod");
    expect(p.status).toMatchObject({ phase: "Failed", reason: "Evicted" });
    expect(eventsFor(c, pod.metadata.name, "Evicted")[0]).toMatchObject({ type: "Warning" });
    await until(() => podsOf(c, "evictee").some((x) => x.metadata.name !== pod.metadata.name), "replacement pod");
    // Deleting the evicted pod removes it (an evicted pod is terminated, not stuck in deletion).
    c.store.delete(pods(), "default", pod.metadata.name);
    await until(() => (fresh(pod.metadata.name) === undefined ? true : undefined), "evicted pod removed");
  });

  it("probe failure: Unhealthy events with a growing count, Ready False", async () => {
    c.store.create(deploys(), deployment("flaky", { annotations: { "sim.faro.dev/probe": "readiness", "sim.faro.dev/probe-fail-after": "2s" } }));
    const pod = await until(() => podsOf(c, "flaky")[0], "flaky pod");
    const ev = await until(() => eventsFor(c, pod.metadata.name, "Unhealthy").find((e) => (e.count as number) >= 2), "Unhealthy x2");
    expect(ev.message).toBe("Readiness probe failed: HTTP probe failed with statuscode: 503");
    expect(containerStatus(fresh(pod.metadata.name))!.ready).toBe(false);
  });

  it("failed scheduling: nodeSelector no node matches → FailedScheduling, PodScheduled False", async () => {
    c.store.create(deploys(), deployment("picky", { podSpec: { nodeSelector: { disktype: "ssd" } } }));
    const pod = await until(() => podsOf(c, "picky")[0], "picky pod");
    const ev = await until(() => eventsFor(c, pod.metadata.name, "FailedScheduling")[0], "FailedScheduling");
    expect(ev.message).toMatch(/^0\/3 nodes are available: 3 node\(s\) didn't match Pod's node affinity\/selector\./);
    expect(ev.source).toMatchObject({ component: "default-scheduler" });
    const p = await until(() => fresh(pod.metadata.name), "pod");
    const cond = (p.status as { conditions: { type: string; status: string; reason?: string }[] }).conditions.find((x) => x.type === "PodScheduled");
    expect(cond).toMatchObject({ status: "False", reason: "Unschedulable" });
  });
});
