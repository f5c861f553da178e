// CRUD through @kubernetes/client-node against the simulated API: generateName, conflicts, patches, GC, selectors, paging.
import * as k8s from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { codeOf, pod, startSim, until, type Sim } from "./api-helpers.js";

let sim: Sim;
let core: k8s.CoreV1Api;
let apps: k8s.AppsV1Api;

beforeAll(async () => {
  sim = await startSim();
  core = sim.kc.makeApiClient(k8s.CoreV1Api);
  apps = sim.kc.makeApiClient(k8s.AppsV1Api);
});
afterAll(async () => {
  await sim.stop();
});

function deployment(name: string): k8s.V1Deployment {
  return {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name, namespace: "default" },
    spec: {
      replicas: 1,
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name } },
        spec: {
          containers: [
            { name: "app", image: "nginx:1", env: [{ name: "A", value: "1" }, { name: "B", value: "2" }], ports: [{ containerPort: 80 }] },
            { name: "side", image: "envoy:1" },
          ],
        },
      },
    },
  };
}

describe("create / get / update", () => {
  it("creates with generateName and server-assigned fields", async () => {
    const created = await core.createNamespacedConfigMap({
      namespace: "default",
      body: { metadata: { generateName: "cfg-" }, data: { a: "1" } },
    });
    expect(created.metadata?.name).toMatch(/^cfg-[a-z0-9]{5}$/);
    expect(created.metadata?.uid).toMatch(/^[0-9a-f-]{36}$/);
    expect(Number(created.metadata?.resourceVersion)).toBeGreaterThan(0);
    expect(created.metadata?.creationTimestamp).toBeInstanceOf(Date);
    const got = await core.readNamespacedConfigMap({ name: created.metadata!.name!, namespace: "default" });
    expect(got.data).toEqual({ a: "1" });
  });

  it("rejects a duplicate with 409 AlreadyExists and a missing object with 404", async () => {
    await core.createNamespacedConfigMap({ namespace: "default", body: { metadata: { name: "dup" } } });
    const dup = await core.createNamespacedConfigMap({ namespace: "default", body: { metadata: { name: "dup" } } }).catch((e) => e);
    expect(codeOf(dup)).toBe(409);
    expect(JSON.parse(dup.body).reason).toBe("AlreadyExists");
    const missing = await core.readNamespacedConfigMap({ name: "nope", namespace: "default" }).catch((e) => e);
    expect(codeOf(missing)).toBe(404);
    expect(JSON.parse(missing.body)).toMatchObject({ kind: "Status", reason: "NotFound", code: 404, details: { name: "nope" } });
  });

  it("answers a stale resourceVersion on PUT with 409 Conflict and bumps generation on spec change", async () => {
    const d = await apps.createNamespacedDeployment({ namespace: "default", body: deployment("upd") });
    expect(d.metadata?.generation).toBe(1);
    const stale = structuredClone(d);
    d.spec!.replicas = 3;
    const updated = await apps.replaceNamespacedDeployment({ name: "upd", namespace: "default", body: d });
    expect(updated.metadata?.generation).toBe(2);
    expect(Number(updated.metadata?.resourceVersion)).toBeGreaterThan(Number(stale.metadata?.resourceVersion));
    stale.spec!.replicas = 7;
    const err = await apps.replaceNamespacedDeployment({ name: "upd", namespace: "default", body: stale }).catch((e) => e);
    expect(codeOf(err)).toBe(409);
    expect(JSON.parse(err.body).reason).toBe("Conflict");
  });

  it("keeps status out of the main resource and writes it through /status", async () => {
    const d = await apps.readNamespacedDeployment({ name: "upd", namespace: "default" });
    d.status = { replicas: 9 };
    const main = await apps.replaceNamespacedDeployment({ name: "upd", namespace: "default", body: d });
    expect(main.status?.replicas).toBeUndefined();
    const st = await apps.replaceNamespacedDeploymentStatus({ name: "upd", namespace: "default", body: { ...main, status: { replicas: 4 } } });
    expect(st.status?.replicas).toBe(4);
    expect(st.metadata?.generation).toBe(main.metadata?.generation);
  });

  it("answers bad JSON with 400 BadRequest and an unknown resource with 404", async () => {
    const r = await fetch(`${sim.server.url}/api/v1/namespaces/default/configmaps`, { method: "POST", headers: { "Content-Type": "application/json" }, body: "{nope" });
    expect(r.status).toBe(400);
    expect(await r.json()).toMatchObject({ kind: "Status", reason: "BadRequest", code: 400 });
    const dry = await fetch(`${sim.server.url}/api/v1/namespaces/default/configmaps?dryRun=All`, { method: "POST", headers: { "Content-Type": "application/json" }, body: '{"metadata":{"name":"dry"}}' });
    expect(dry.status).toBe(400);
    expect(sim.store.get(sim.store.typeFor("", "configmaps")!, "default", "dry")).toBeUndefined();
    const u = await fetch(`${sim.server.url}/api/v1/namespaces/default/gizmos`);
    expect(u.status).toBe(404);
    expect(await u.json()).toMatchObject({ kind: "Status", reason: "NotFound" });
  });
});

describe("patch", () => {
  it("applies a merge patch", async () => {
    await apps.createNamespacedDeployment({ namespace: "default", body: deployment("mp") });
    const out = await apps.patchNamespacedDeployment(
      { name: "mp", namespace: "default", body: { metadata: { labels: { tier: "web" } }, spec: { replicas: 2 } } },
      k8s.setHeaderOptions("Content-Type", k8s.PatchStrategy.MergePatch),
    );
    expect(out.metadata?.labels).toEqual({ tier: "web" });
    expect(out.spec?.replicas).toBe(2);
    // A merge patch replaces lists wholesale.
    const out2 = await apps.patchNamespacedDeployment(
      { name: "mp", namespace: "default", body: { spec: { template: { spec: { containers: [{ name: "only", image: "x" }] } } } } },
      k8s.setHeaderOptions("Content-Type", k8s.PatchStrategy.MergePatch),
    );
    expect(out2.spec?.template.spec?.containers.map((c) => c.name)).toEqual(["only"]);
  });

  it("applies a JSON patch and rejects a failing test op", async () => {
    const out = await apps.patchNamespacedDeployment(
      {
        name: "mp",
        namespace: "default",
        body: [
          { op: "replace", path: "/spec/replicas", value: 5 },
          { op: "add", path: "/metadata/labels/extra", value: "yes" },
        ],
      },
      k8s.setHeaderOptions("Content-Type", k8s.PatchStrategy.JsonPatch),
    );
    expect(out.spec?.replicas).toBe(5);
    expect(out.metadata?.labels?.extra).toBe("yes");
    const err = await apps
      .patchNamespacedDeployment(
        { name: "mp", namespace: "default", body: [{ op: "test", path: "/spec/replicas", value: 1 }] },
        k8s.setHeaderOptions("Content-Type", k8s.PatchStrategy.JsonPatch),
      )
      .catch((e) => e);
    expect(codeOf(err)).toBe(422);
  });

  it("applies a strategic merge patch merging containers and env by name", async () => {
    await apps.createNamespacedDeployment({ namespace: "default", body: deployment("smp") });
    const out = await apps.patchNamespacedDeployment(
      {
        name: "smp",
        namespace: "default",
        body: {
          spec: {
            template: {
              spec: {
                containers: [
                  { name: "app", image: "nginx:2", env: [{ name: "B", value: "20" }, { name: "C", value: "3" }] },
                  { name: "side", $patch: "delete" },
                  { name: "new", image: "busybox" },
                ],
              },
            },
          },
        },
      },
      k8s.setHeaderOptions("Content-Type", k8s.PatchStrategy.StrategicMergePatch),
    );
    const cs = out.spec!.template.spec!.containers;
    expect(cs.map((c) => c.name)).toEqual(["app", "new"]);
    expect(cs[0]!.image).toBe("nginx:2");
    expect(cs[0]!.ports).toEqual([{ containerPort: 80 }]);
    expect(cs[0]!.env).toEqual([
      { name: "A", value: "1" },
      { name: "B", value: "20" },
      { name: "C", value: "3" },
    ]);
    expect(out.metadata?.generation).toBe(2);
  });

  it("server-side apply creates when missing, then updates", async () => {
    const objects = k8s.KubernetesObjectApi.makeApiClient(sim.kc);
    const spec: k8s.V1ConfigMap = {
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: { name: "ssa", namespace: "default" },
      data: { k: "v1" },
    };
    const created = await objects.patch(spec, undefined, undefined, "test", true, k8s.PatchStrategy.ServerSideApply);
    expect(created.metadata?.uid).toBeTruthy();
    const updated = await objects.patch({ ...spec, data: { k: "v2" } }, undefined, undefined, "test", true, k8s.PatchStrategy.ServerSideApply);
    expect((updated as k8s.V1ConfigMap).data).toEqual({ k: "v2" });
    expect(updated.metadata?.uid).toBe(created.metadata?.uid);
  });

  it("scales through the /scale subresource", async () => {
    const s = await apps.readNamespacedDeploymentScale({ name: "smp", namespace: "default" });
    expect(s.spec?.replicas).toBe(1);
    await apps.patchNamespacedDeploymentScale(
      { name: "smp", namespace: "default", body: { spec: { replicas: 4 } } },
      k8s.setHeaderOptions("Content-Type", k8s.PatchStrategy.MergePatch),
    );
    expect((await apps.readNamespacedDeployment({ name: "smp", namespace: "default" })).spec?.replicas).toBe(4);
  });
});

describe("delete", () => {
  function owned(name: string, owner: k8s.V1ObjectMeta, kind = "Deployment", apiVersion = "apps/v1") {
    return {
      metadata: { name, namespace: "default", ownerReferences: [{ apiVersion, kind, name: owner.name!, uid: owner.uid!, controller: true }] },
    };
  }

  it("garbage-collects dependents in the background", async () => {
    const d = await apps.createNamespacedDeployment({ namespace: "default", body: deployment("gc") });
    const rs = await apps.createNamespacedReplicaSet({
      namespace: "default",
      body: { ...owned("gc-rs", d.metadata!), spec: { selector: { matchLabels: { app: "gc" } } } },
    });
    // An unscheduled pod has no kubelet to wait for: it goes at once.
    await core.createNamespacedPod({ namespace: "default", body: { ...pod("gc-pod"), ...owned("gc-pod", rs.metadata!, "ReplicaSet") } });
    const res = await apps.deleteNamespacedDeployment({ name: "gc", namespace: "default", body: { propagationPolicy: "Background" } });
    expect(res.status).toBe("Success");
    expect(res.details?.uid).toBe(d.metadata?.uid);
    expect(codeOf(await apps.readNamespacedReplicaSet({ name: "gc-rs", namespace: "default" }).catch((e) => e))).toBe(404);
    expect(codeOf(await core.readNamespacedPod({ name: "gc-pod", namespace: "default" }).catch((e) => e))).toBe(404);
  });

  it("orphans dependents with propagationPolicy=Orphan", async () => {
    const d = await apps.createNamespacedDeployment({ namespace: "default", body: deployment("orph") });
    await core.createNamespacedConfigMap({ namespace: "default", body: owned("orph-cm", d.metadata!) });
    await apps.deleteNamespacedDeployment({ name: "orph", namespace: "default", propagationPolicy: "Orphan" });
    const cm = await core.readNamespacedConfigMap({ name: "orph-cm", namespace: "default" });
    expect(cm.metadata?.ownerReferences).toBeUndefined();
  });

  it("deletes a scheduled pod gracefully: deletionTimestamp first, gone after finalizeDelete", async () => {
    await core.createNamespacedPod({ namespace: "default", body: pod("graceful", {}, { spec: { nodeName: "n1", containers: [{ name: "app", image: "x" }] } }) });
    const res = (await core.deleteNamespacedPod({ name: "graceful", namespace: "default", gracePeriodSeconds: 5 })) as k8s.V1Pod;
    expect(res.metadata?.deletionTimestamp).toBeInstanceOf(Date);
    expect(res.metadata?.deletionGracePeriodSeconds).toBe(5);
    const still = await core.readNamespacedPod({ name: "graceful", namespace: "default" });
    expect(still.metadata?.deletionTimestamp).toBeInstanceOf(Date);
    sim.store.finalizeDelete(sim.store.typeFor("", "pods")!, "default", "graceful");
    expect(codeOf(await core.readNamespacedPod({ name: "graceful", namespace: "default" }).catch((e) => e))).toBe(404);
  });

  it("deletes dependents first with Foreground and honours finalizers", async () => {
    const d = await apps.createNamespacedDeployment({ namespace: "default", body: deployment("fg") });
    await core.createNamespacedConfigMap({
      namespace: "default",
      body: { metadata: { ...owned("fg-cm", d.metadata!).metadata, finalizers: ["example.com/hold"] } },
    });
    await apps.deleteNamespacedDeployment({ name: "fg", namespace: "default", propagationPolicy: "Foreground" });
    const owner = await apps.readNamespacedDeployment({ name: "fg", namespace: "default" });
    expect(owner.metadata?.finalizers).toContain("foregroundDeletion");
    const cm = await core.readNamespacedConfigMap({ name: "fg-cm", namespace: "default" });
    expect(cm.metadata?.deletionTimestamp).toBeInstanceOf(Date);
    await core.patchNamespacedConfigMap(
      { name: "fg-cm", namespace: "default", body: { metadata: { finalizers: null } } },
      k8s.setHeaderOptions("Content-Type", k8s.PatchStrategy.MergePatch),
    );
    expect(codeOf(await core.readNamespacedConfigMap({ name: "fg-cm", namespace: "default" }).catch((e) => e))).toBe(404);
    expect(codeOf(await apps.readNamespacedDeployment({ name: "fg", namespace: "default" }).catch((e) => e))).toBe(404);
  });

  it("removes a namespace's objects with the namespace", async () => {
    await core.createNamespace({ body: { metadata: { name: "doomed" } } });
    await core.createNamespacedConfigMap({ namespace: "doomed", body: { metadata: { name: "c" } } });
    await core.deleteNamespace({ name: "doomed" });
    await until(async () => codeOf(await core.readNamespace({ name: "doomed" }).catch((e) => e)) === 404, "namespace gone");
    expect((await core.listNamespacedConfigMap({ namespace: "doomed" })).items).toHaveLength(0);
  });
});

describe("selectors and paging", () => {
  beforeAll(async () => {
    await core.createNamespace({ body: { metadata: { name: "sel" } } });
    for (let i = 0; i < 7; i++) {
      await core.createNamespacedPod({
        namespace: "sel",
        body: { ...pod(`p${i}`, { app: i % 2 ? "odd" : "even", ...(i < 3 ? { low: "y" } : {}) }), metadata: { name: `p${i}`, namespace: "sel", labels: { app: i % 2 ? "odd" : "even", ...(i < 3 ? { low: "y" } : {}) } }, spec: { nodeName: i < 2 ? "n1" : "n2", containers: [{ name: "app", image: "x" }] } },
      });
    }
  });

  const names = (l: k8s.V1PodList) => l.items.map((p) => p.metadata!.name).sort();

  it("filters by label selector operators", async () => {
    expect(names(await core.listNamespacedPod({ namespace: "sel", labelSelector: "app=odd" }))).toEqual(["p1", "p3", "p5"]);
    expect(names(await core.listNamespacedPod({ namespace: "sel", labelSelector: "app!=odd,low" }))).toEqual(["p0", "p2"]);
    expect(names(await core.listNamespacedPod({ namespace: "sel", labelSelector: "app in (odd),!low" }))).toEqual(["p3", "p5"]);
    expect(names(await core.listNamespacedPod({ namespace: "sel", labelSelector: "app notin (odd)" }))).toEqual(["p0", "p2", "p4", "p6"]);
  });

  it("filters by field selector", async () => {
    expect(names(await core.listNamespacedPod({ namespace: "sel", fieldSelector: "spec.nodeName=n1" }))).toEqual(["p0", "p1"]);
    expect(names(await core.listPodForAllNamespaces({ fieldSelector: "metadata.name=p4,metadata.namespace=sel" }))).toEqual(["p4"]);
    await core.createNamespacedEvent({
      namespace: "sel",
      body: { metadata: { name: "e1" }, involvedObject: { kind: "Pod", name: "p1", namespace: "sel" }, reason: "Started", type: "Normal" },
    });
    const evs = await core.listNamespacedEvent({ namespace: "sel", fieldSelector: "involvedObject.name=p1,involvedObject.kind=Pod,reason=Started" });
    expect(evs.items.map((e) => e.metadata.name)).toEqual(["e1"]);
    const bad = await core.listNamespacedPod({ namespace: "sel", fieldSelector: "spec.bogus=1" }).catch((e) => e);
    expect(codeOf(bad)).toBe(400);
  });

  it("pages with limit/continue at a constant resourceVersion", async () => {
    const seen: string[] = [];
    let cont: string | undefined;
    let rv: string | undefined;
    let pages = 0;
    do {
      const page = await core.listNamespacedPod({ namespace: "sel", limit: 3, _continue: cont });
      pages++;
      seen.push(...page.items.map((p) => p.metadata!.name!));
      rv ??= page.metadata?.resourceVersion;
      expect(page.metadata?.resourceVersion).toBe(rv);
      // A write between pages does not change the paged resourceVersion.
      if (pages === 1) await core.createNamespacedConfigMap({ namespace: "sel", body: { metadata: { name: "between" } } });
      cont = page.metadata?._continue || undefined;
    } while (cont);
    expect(pages).toBe(3);
    expect(seen).toEqual(["p0", "p1", "p2", "p3", "p4", "p5", "p6"]);
  });
});
