// Workload controllers: Deployment rollout and scaling, graceful deletion with GC, Job, CronJob,
// StatefulSet, DaemonSet, and the ground truth of what happened.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startCluster, type Cluster, type KubeObject } from "../src/index.js";
import { containerStatus, deployment, eventsFor, podsOf, until } from "./cluster-helpers.js";

let c: Cluster;
beforeAll(async () => {
  c = await startCluster({ speed: 50 });
});
afterAll(async () => {
  await c?.stop();
});
const T = (g: string, r: string) => c.store.typeFor(g, r)!;
const status = (o: KubeObject | undefined) => (o?.status ?? {}) as Record<string, unknown>;

describe("workloads", () => {
  it("deployment: ReplicaSet <deploy>-<hash>, pods <rs>-<5>, rollout to a new ReplicaSet, scaling", async () => {
    c.store.create(T("apps", "deployments"), deployment("web", { replicas: 3 }));
    const done = (gen: number) => () => {
      const d = c.store.get(T("apps", "deployments"), "default", "web");
      const s = status(d) as { observedGeneration?: number; updatedReplicas?: number; availableReplicas?: number; replicas?: number; conditions?: { type: string; reason: string }[] };
      return s.observedGeneration === gen && s.updatedReplicas === 3 && s.availableReplicas === 3 && s.replicas === 3 && s.conditions?.some((x) => x.reason === "NewReplicaSetAvailable") ? d : undefined;
    };
    await until(done(1), "first rollout complete");
    const rs1 = c.store.list(T("apps", "replicasets"), "default").filter((r) => r.metadata.name.startsWith("web-"));
    expect(rs1).toHaveLength(1);
    expect(rs1[0]!.metadata.name).toMatch(/^web-[bcdfghjklmnpqrstvwxz2456789]{10}$/);
    const p = podsOf(c, rs1[0]!.metadata.name)[0]!;
    expect(p.metadata.name).toMatch(new RegExp(`^${rs1[0]!.metadata.name}-[a-z0-9]{5}$`));
    expect(p.metadata.ownerReferences![0]).toMatchObject({ kind: "ReplicaSet", controller: true, blockOwnerDeletion: true, uid: rs1[0]!.metadata.uid });
    expect(eventsFor(c, rs1[0]!.metadata.name, "SuccessfulCreate")).toHaveLength(3);

    const d = c.store.get(T("apps", "deployments"), "default", "web")!;
    const spec = structuredClone(d.spec) as { template: { spec: { containers: { image: string }[] } } };
    spec.template.spec.containers[0]!.image = "sim/app:2.0";
    c.store.update(T("apps", "deployments"), { ...d, spec });
    await until(done(2), "second rollout complete");
    const rs = c.store.list(T("apps", "replicasets"), "default").filter((r) => r.metadata.name.startsWith("web-"));
    expect(rs).toHaveLength(2);
    const old = rs.find((r) => r.metadata.uid === rs1[0]!.metadata.uid)!;
    expect((old.spec as { replicas: number }).replicas).toBe(0);
    const scaling = eventsFor(c, "web", "ScalingReplicaSet").map((e) => e.message as string);
    expect(scaling.some((m) => /^Scaled down replica set web-\w+ from \d to \d$/.test(m))).toBe(true);
    await until(() => podsOf(c, "web").length === 3 && podsOf(c, "web").every((x) => x.metadata.labels?.["pod-template-hash"] !== old.metadata.labels?.["pod-template-hash"]), "old pods gone");

    // a deleted pod is replaced and its deletion is graceful (Killing event)
    const victim = podsOf(c, "web")[0]!;
    c.store.delete(T("", "pods"), "default", victim.metadata.name);
    await until(() => !c.store.get(T("", "pods"), "default", victim.metadata.name), "victim removed");
    expect(eventsFor(c, victim.metadata.name, "Killing")[0]!.message).toBe("Stopping container app");
    await until(() => podsOf(c, "web").filter((x) => !x.metadata.deletionTimestamp).length === 3, "replacement");

    const ground = c.truth.changes({ kind: "Pod", name: victim.metadata.name });
    expect(ground.map((x) => x.type)).toContain("ADDED");
    expect(ground.at(-1)!.type).toBe("DELETED");
    expect(c.truth.lines({ pod: victim.metadata.name }).length).toBeGreaterThan(0);
    expect(c.truth.events({ reason: "Scheduled", involvedName: victim.metadata.name })[0]!.message).toBe(`Successfully assigned default/${victim.metadata.name} to ${(victim.spec as { nodeName: string }).nodeName}`);
    const dump = JSON.parse(JSON.stringify(c.truth.toJSON()));
    expect(dump.changes.length).toBeGreaterThan(10);
  });

  it("job runs to completion; backoffLimit fails it with BackoffLimitExceeded", async () => {
    const job = (name: string, ann: Record<string, string>, backoffLimit?: number) => ({
      apiVersion: "batch/v1",
      kind: "Job",
      metadata: { name, namespace: "default" },
      spec: { completions: 2, backoffLimit, template: { metadata: { annotations: ann }, spec: { restartPolicy: "Never", containers: [{ name: "task", image: "sim/task:1" }] } } },
    });
    c.store.create(T("batch", "jobs"), job("ok", {}));
    c.store.create(T("batch", "jobs"), job("bad", { "sim.faro.dev/crash-after": "1s", "sim.faro.dev/exit-code": "3" }, 1));
    const cond = (n: string, type: string) => () => {
      const s = status(c.store.get(T("batch", "jobs"), "default", n)) as { conditions?: { type: string; status: string; reason?: string }[] };
      return s.conditions?.find((x) => x.type === type && x.status === "True");
    };
    await until(cond("ok", "Complete"), "job complete");
    expect(status(c.store.get(T("batch", "jobs"), "default", "ok")).succeeded).toBe(2);
    const failed = await until(cond("bad", "Failed"), "job failed");
    expect(failed.reason).toBe("BackoffLimitExceeded");
  });

  it("cronjob creates jobs on schedule; statefulset names pods -0..N-1; daemonset one pod per node", async () => {
    c.store.create(T("batch", "cronjobs"), {
      apiVersion: "batch/v1",
      kind: "CronJob",
      metadata: { name: "tick", namespace: "default" },
      spec: { schedule: "*/1 * * * *", jobTemplate: { spec: { template: { spec: { restartPolicy: "OnFailure", containers: [{ name: "t", image: "sim/t:1" }] } } } } },
    });
    c.store.create(T("apps", "statefulsets"), {
      apiVersion: "apps/v1",
      kind: "StatefulSet",
      metadata: { name: "db", namespace: "default" },
      spec: { replicas: 3, serviceName: "db", selector: { matchLabels: { app: "db" } }, template: { metadata: { labels: { app: "db" } }, spec: { containers: [{ name: "pg", image: "sim/pg:16" }] } } },
    });
    c.store.create(T("apps", "daemonsets"), {
      apiVersion: "apps/v1",
      kind: "DaemonSet",
      metadata: { name: "agent", namespace: "default" },
      spec: { selector: { matchLabels: { app: "agent" } }, template: { metadata: { labels: { app: "agent" } }, spec: { containers: [{ name: "a", image: "sim/agent:1" }] } } },
    });
    await until(() => c.store.list(T("batch", "jobs"), "default").some((j) => /^tick-\d+$/.test(j.metadata.name)), "a cron job", 20_000);
    await until(() => (status(c.store.get(T("apps", "statefulsets"), "default", "db")).readyReplicas as number) === 3, "statefulset ready");
    expect(podsOf(c, "db").map((p) => p.metadata.name).sort()).toEqual(["db-0", "db-1", "db-2"]);
    const uid1 = c.store.get(T("", "pods"), "default", "db-1")!.metadata.uid;
    c.store.delete(T("", "pods"), "default", "db-1");
    await until(() => {
      const p = c.store.get(T("", "pods"), "default", "db-1");
      return p && p.metadata.uid !== uid1;
    }, "db-1 recreated");
    const agents = await until(() => (podsOf(c, "agent").filter((p) => containerStatus(p, "a")?.state.running).length === 3 ? podsOf(c, "agent") : undefined), "3 agents");
    expect(new Set(agents.map((p) => (p.spec as { nodeName: string }).nodeName))).toEqual(new Set(["sim-node-1", "sim-node-2", "sim-node-3"]));
  });
});
