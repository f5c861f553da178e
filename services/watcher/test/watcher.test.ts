// The watcher against the simulator, real NATS and Redis: every change and Event on FARO_RAW exactly once
// (compared with the ground truth), Secrets without values, forced watch closes, namespaces and CRDs at run time.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningService } from "@faro/kernel";
import { checkServiceContract } from "@faro/observability";
import type { Watcher } from "../src/index.js";
import { compare, deployment, eventsOf, objectsOf, readRaw, startEnv, startWatcher, UNWATCHED_KINDS, until, watcherReady, type Env } from "./helpers.js";

let env: Env;
let watcher: RunningService<Watcher> | undefined;
let readyRv = 0;

const typeOf = (env: Env, group: string, resource: string) => env.cluster.store.typeFor(group, resource)!;
const skipped = (ns: string | undefined) => (ns ?? "").startsWith("skip-");

/** Object changes and Events of the truth the watcher must publish (selected namespaces, watched kinds). */
function truthNow() {
  const all = env.cluster.truth.changes().filter((c) => !skipped(c.namespace));
  return { objects: all.filter((c) => !UNWATCHED_KINDS.has(c.kind)), events: all.filter((c) => c.kind === "Event") };
}

async function caughtUp(): Promise<ReturnType<typeof compare> & { events: ReturnType<typeof compare> }> {
  return await until(async () => {
    const published = await readRaw(env.nc);
    const t = truthNow();
    const objects = compare(t.objects, objectsOf(published), { sinceRv: readyRv });
    const events = compare(t.events, eventsOf(published), { sinceRv: readyRv });
    return objects.missing.length === 0 && events.missing.length === 0 ? { ...objects, events } : undefined;
  }, "the stream to catch up with the ground truth");
}

beforeAll(async () => {
  env = await startEnv({ speed: 50 });
  // With its health server, as `faro run watcher` serves it: the contract test below reads it.
  const w = await startWatcher(env, { FARO_NAMESPACES_EXCLUDE: "skip-*" }, { http: true });
  watcher = w;
  await until(() => watcherReady(w), "watcher ready");
  readyRv = env.cluster.store.currentRV();
});

afterAll(async () => {
  await watcher?.stop();
  await env?.stop();
});

describe("watcher", () => {
  it("publishes every object change and Event exactly once, compared with the ground truth", async () => {
    const s = env.cluster.store;
    s.create(typeOf(env, "apps", "deployments"), deployment("web", "default", 2));
    s.create(typeOf(env, "", "configmaps"), { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "cfg", namespace: "default" }, data: { a: "1" } });
    for (let i = 0; i < 5; i++) {
      const cm = s.get(typeOf(env, "", "configmaps"), "default", "cfg")!;
      s.update(typeOf(env, "", "configmaps"), { ...cm, data: { a: String(i + 2) } });
    }
    s.delete(typeOf(env, "", "configmaps"), "default", "cfg");
    // Pods become Running through the kubelet, which also records Events (Scheduled, Pulled, Started ...).
    await until(() => env.cluster.truth.events({ reason: "Started" }).length >= 2, "pods started");
    const result = await caughtUp();
    expect(result.checked).toBeGreaterThan(20);
    expect(result.events.checked).toBeGreaterThan(5);
    expect(result.duplicates).toEqual([]);
    expect(result.invented).toEqual([]);
    expect(result.events.duplicates).toEqual([]);
    expect(result.events.invented).toEqual([]);

    const published = await readRaw(env.nc);
    const objs = objectsOf(published);
    expect(objs.filter((o) => o.kind === "Pod").length).toBeGreaterThan(2);
    // managedFields never travel; Dates are strings; the subject names resource.group and object.
    const dep = published.find((p) => p.category === "obj" && p.msg.kind === "Deployment")!;
    expect(dep.subject).toBe("faro.v1.raw.sim.default.obj.deployments~2Eapps.web");
    expect(dep.msgId).toMatch(/^rc:[^:]+:\d+:[MD]@[a-z0-9-]+$/);
    for (const o of objs) expect(JSON.parse(o.objectJson).metadata.managedFields).toBeUndefined();
    // Events carry their involved object's identity, in the subject too.
    const started = published.find((p) => p.category === "event" && p.msg.reason === "Started")!;
    expect(started.category).toBe("event");
    if (started.category === "event") {
      expect(started.msg.involved.kind).toBe("Pod");
      expect(started.subject).toBe(`faro.v1.raw.sim.default.event.Pod.${started.msg.involved.name}`);
      expect(started.msgId).toMatch(/^ev:/);
    }
    // Cluster-scoped objects use the reserved namespace token.
    expect(published.some((p) => p.subject.startsWith("faro.v1.raw.sim._cluster.obj.nodes."))).toBe(true);
  });

  it("never publishes the values of a Secret, only its keys", async () => {
    const secret = env.cluster.store.create(typeOf(env, "", "secrets"), {
      apiVersion: "v1",
      kind: "Secret",
      metadata: {
        name: "db",
        namespace: "default",
        annotations: { "kubectl.kubernetes.io/last-applied-configuration": '{"data":{"password":"c3VwZXJzZWNyZXQ="}}' },
      },
      data: { password: "c3VwZXJzZWNyZXQ=" },
      stringData: { token: "plain-token-value" },
    });
    const msg = await until(async () => objectsOf(await readRaw(env.nc)).find((o) => o.uid === secret.metadata.uid), "the Secret on the stream");
    expect(msg.objectJson).not.toContain("c3VwZXJzZWNyZXQ");
    expect(msg.objectJson).not.toContain("plain-token-value");
    const obj = JSON.parse(msg.objectJson);
    expect(Object.keys(obj.data)).toEqual(["password"]);
    expect(obj.data.password).toBe("");
  });

  it("loses and repeats nothing across forced watch closes", async () => {
    const s = env.cluster.store;
    const cms = typeOf(env, "", "configmaps");
    for (let round = 0; round < 3; round++) {
      for (let i = 0; i < 10; i++) s.create(cms, { apiVersion: "v1", kind: "ConfigMap", metadata: { name: `fc-${round}-${i}`, namespace: "default" }, data: { v: "0" } });
      env.cluster.server.forceCloseWatches();
      const updated: string[] = [];
      for (let i = 0; i < 10; i++) {
        const cm = s.get(cms, "default", `fc-${round}-${i}`)!;
        updated.push(s.update(cms, { ...cm, data: { v: "1" } }).metadata.resourceVersion);
      }
      // The watch has resumed once the updates made after the close are on the stream: close it again.
      await until(async () => {
        const published = new Set(objectsOf(await readRaw(env.nc)).map((o) => o.resourceVersion));
        return updated.every((rv) => published.has(rv));
      }, `round ${round}'s updates on the stream`);
      env.cluster.server.forceCloseWatches();
      for (let i = 0; i < 5; i++) s.delete(cms, "default", `fc-${round}-${i}`);
    }
    const result = await caughtUp();
    expect(result.duplicates).toEqual([]);
    expect(result.invented).toEqual([]);
  });

  it("covers a prod-* namespace created at run time and never an excluded one", async () => {
    const s = env.cluster.store;
    const watchedNs = s.create(typeOf(env, "", "namespaces"), { apiVersion: "v1", kind: "Namespace", metadata: { name: "prod-late" } });
    s.create(typeOf(env, "", "namespaces"), { apiVersion: "v1", kind: "Namespace", metadata: { name: "skip-late" } });
    const inProd = s.create(typeOf(env, "", "configmaps"), { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "late", namespace: "prod-late" } });
    const inSkip = s.create(typeOf(env, "", "configmaps"), { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "late", namespace: "skip-late" } });
    s.create(typeOf(env, "apps", "deployments"), deployment("hidden", "skip-late", 1));
    await until(async () => objectsOf(await readRaw(env.nc)).some((o) => o.uid === inProd.metadata.uid), "the prod-late ConfigMap on the stream");
    await caughtUp();
    const published = await readRaw(env.nc);
    expect(objectsOf(published).some((o) => o.uid === watchedNs.metadata.uid)).toBe(true);
    expect(objectsOf(published).some((o) => o.uid === inSkip.metadata.uid)).toBe(false);
    expect(published.filter((p) => p.msg.namespace === "skip-late")).toEqual([]);
    // The excluded namespace had activity the watcher saw and dropped (counted).
    const text = await watcher!.handle.metrics.registry.metrics();
    expect(text).toMatch(/faro_watcher_changes_filtered_total\{resource="configmaps",service="watcher"\} [1-9]/);
  });

  it("watches a CRD created at run time within seconds", async () => {
    const s = env.cluster.store;
    s.create(typeOf(env, "apiextensions.k8s.io", "customresourcedefinitions"), {
      apiVersion: "apiextensions.k8s.io/v1",
      kind: "CustomResourceDefinition",
      metadata: { name: "widgets.example.com" },
      spec: {
        group: "example.com",
        scope: "Namespaced",
        names: { plural: "widgets", singular: "widget", kind: "Widget" },
        versions: [{ name: "v1", served: true, storage: true, schema: { openAPIV3Schema: { type: "object", "x-kubernetes-preserve-unknown-fields": true } } }],
      },
    });
    const started = Date.now();
    await until(() => watcher!.instance.status().resources.some((r) => r.resource === "widgets.example.com" && r.synced), "a synced widgets watch", 10_000);
    const widget = s.create(typeOf(env, "example.com", "widgets"), { apiVersion: "example.com/v1", kind: "Widget", metadata: { name: "w1", namespace: "default" }, spec: { size: 3 } });
    const msg = await until(async () => objectsOf(await readRaw(env.nc)).find((o) => o.uid === widget.metadata.uid), "the Widget on the stream", 10_000);
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(msg.resource).toBe("widgets");
    expect(msg.group).toBe("example.com");
    const result = await caughtUp();
    expect(result.duplicates).toEqual([]);

    // Deleting the CRD stops its watch (a CRD deletion is explicit, no second discovery needed).
    s.delete(typeOf(env, "apiextensions.k8s.io", "customresourcedefinitions"), undefined, "widgets.example.com");
    await until(() => !watcher!.instance.status().resources.some((r) => r.resource === "widgets.example.com"), "the widgets watch to stop", 10_000);
    expect(watcherReady(watcher!)).toBe(true);
  });

  it("reports readiness and metrics per the service contract", async () => {
    const report = await checkServiceContract(watcher!.handle.http!.url, { expectReady: true });
    expect(report.metrics).toMatch(/faro_watcher_changes_published_total\{resource="pods",type="ADDED"/);
    expect(report.metrics).toMatch(/faro_kube_relists_total/);
    expect(report.metrics).toMatch(/faro_watcher_resources_watched\{service="watcher"\} [1-9]/);
    expect(report.metrics).toMatch(/faro_queue_capacity\{queue="publish_window_watcher",service="watcher"\} 1024/);
    expect(watcher!.instance.readiness()).toBe(true);
  });

  it("stops once: drains the watches and releases the kernel's connections", async () => {
    const w = watcher!;
    watcher = undefined;
    const [x, y] = [w.stop(), w.stop()];
    expect(x).toBe(y);
    expect((await x).code).toBe(0);
    expect(w.instance.readiness()).toEqual({ ok: false, detail: "stopped" });
    expect(w.instance.status().resources).toEqual([]);
    expect(w.bus.nc.isClosed()).toBe(true);
    expect(await w.handle.metrics.registry.getSingleMetricAsString("faro_watcher_resources_watched")).toMatch(/\} 0$/m);
  });
});
