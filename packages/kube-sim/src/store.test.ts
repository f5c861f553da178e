// Unit tests of the object store: resourceVersions, history bounds, generation, deletion and GC, CRD types.
import { describe, expect, it } from "vitest";
import { ApiError } from "./errors.js";
import { createStore } from "./store.js";
import type { KubeObject, StoreEvent } from "./types.js";

function setup(historySize = 100) {
  const store = createStore({ historySize, now: () => "2026-01-01T00:00:00Z" });
  const t = (g: string, r: string) => store.typeFor(g, r)!;
  const events: StoreEvent[] = [];
  store.subscribe((e) => events.push(e));
  store.create(t("", "namespaces"), { apiVersion: "v1", kind: "Namespace", metadata: { name: "default" } });
  return { store, t, events };
}

const podIn = (name: string, ns = "default", extra: Partial<KubeObject> = {}) => ({
  apiVersion: "v1",
  kind: "Pod",
  metadata: { name, namespace: ns },
  spec: { containers: [{ name: "c", image: "x" }] },
  ...extra,
});

describe("store", () => {
  it("bumps one global resourceVersion per change and replays history after an RV", () => {
    const { store, t } = setup();
    const a = store.create(t("", "configmaps"), { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "a", namespace: "default" } });
    const rv = Number(a.metadata.resourceVersion);
    expect(rv).toBe(store.currentRV());
    store.update(t("", "configmaps"), { ...a, data: { x: "1" } });
    store.delete(t("", "configmaps"), "default", "a");
    expect(store.eventsSince(rv)!.map((e) => e.type)).toEqual(["MODIFIED", "DELETED"]);
    expect(store.eventsSince(store.currentRV())).toEqual([]);
    expect(store.eventsSince(1)!.length).toBe(store.currentRV() - 1); // rv starts at 1: every change since is retained
  });

  it("does not bump the resourceVersion for a no-op update", () => {
    const { store, t } = setup();
    const a = store.create(t("", "configmaps"), { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "a", namespace: "default" }, data: { k: "v" } });
    const same = store.update(t("", "configmaps"), a);
    expect(same.metadata.resourceVersion).toBe(a.metadata.resourceVersion);
  });

  it("reports an RV older than the bounded history as expired", () => {
    const { store, t } = setup(5);
    for (let i = 0; i < 10; i++) store.create(t("", "configmaps"), { apiVersion: "v1", kind: "ConfigMap", metadata: { name: `c${i}`, namespace: "default" } });
    const cur = store.currentRV();
    expect(store.eventsSince(cur - 5)!.length).toBe(5);
    expect(store.eventsSince(cur - 6)).toBeUndefined();
  });

  it("returns copies: mutating a result does not change the store", () => {
    const { store, t } = setup();
    const a = store.create(t("", "configmaps"), { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "a", namespace: "default" }, data: { k: "v" } });
    (a.data as Record<string, string>).k = "changed";
    expect(store.get(t("", "configmaps"), "default", "a")!.data).toEqual({ k: "v" });
  });

  it("bumps generation only on spec changes and keeps it for status updates", () => {
    const { store, t } = setup();
    const d = store.create(t("apps", "deployments"), { apiVersion: "apps/v1", kind: "Deployment", metadata: { name: "d", namespace: "default" }, spec: { replicas: 1 } });
    expect(d.metadata.generation).toBe(1);
    const labelled = store.update(t("apps", "deployments"), { ...d, metadata: { ...d.metadata, labels: { a: "b" } } });
    expect(labelled.metadata.generation).toBe(1);
    const scaled = store.update(t("apps", "deployments"), { ...labelled, spec: { replicas: 2 } });
    expect(scaled.metadata.generation).toBe(2);
    const st = store.updateStatus(t("apps", "deployments"), { ...scaled, status: { replicas: 2 } });
    expect(st.metadata.generation).toBe(2);
    expect(st.status).toEqual({ replicas: 2 });
  });

  it("throws ApiErrors with Status bodies", () => {
    const { store, t } = setup();
    const a = store.create(t("", "configmaps"), { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "a", namespace: "default" } });
    const err = (() => {
      try {
        store.create(t("", "configmaps"), { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "a", namespace: "default" } });
      } catch (e) {
        return e;
      }
    })() as ApiError;
    expect(err).toBeInstanceOf(ApiError);
    expect(err.status()).toMatchObject({ kind: "Status", code: 409, reason: "AlreadyExists", details: { name: "a", kind: "configmaps" } });
    store.update(t("", "configmaps"), { ...a, data: { x: "1" } });
    expect(() => store.update(t("", "configmaps"), { ...a, data: { x: "2" } })).toThrow(/has been modified/);
    expect(() => store.delete(t("", "configmaps"), "default", "zzz")).toThrow(/not found/);
  });

  it("deletes a scheduled pod gracefully and keeps it while finalizers remain", () => {
    const { store, t, events } = setup();
    const pods = t("", "pods");
    store.create(pods, { ...podIn("p"), metadata: { name: "p", namespace: "default", finalizers: ["x/y"] }, spec: { nodeName: "n1", containers: [] } });
    const del = store.delete(pods, "default", "p", { gracePeriodSeconds: 30 });
    expect(del.metadata.deletionTimestamp).toBe("2026-01-01T00:00:30Z");
    expect(store.finalizeDelete(pods, "default", "p")).toBeDefined();
    expect(store.get(pods, "default", "p")).toBeDefined(); // finalizer still there
    const cur = store.get(pods, "default", "p")!;
    store.update(pods, { ...cur, metadata: { ...cur.metadata, finalizers: [] } });
    expect(store.get(pods, "default", "p")).toBeUndefined();
    expect(events[events.length - 1]!.type).toBe("DELETED");
  });

  it("deletes a namespace after its contents, including pods in graceful deletion", () => {
    const { store, t } = setup();
    store.create(t("", "namespaces"), { apiVersion: "v1", kind: "Namespace", metadata: { name: "x" } });
    store.create(t("", "pods"), { ...podIn("p", "x"), spec: { nodeName: "n1", containers: [] } });
    store.create(t("", "configmaps"), { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "c", namespace: "x" } });
    const ns = store.delete(t("", "namespaces"), undefined, "x");
    expect((ns.status as { phase: string }).phase).toBe("Terminating");
    expect(store.get(t("", "configmaps"), "x", "c")).toBeUndefined();
    expect(store.get(t("", "pods"), "x", "p")!.metadata.deletionTimestamp).toBeDefined();
    expect(() => store.create(t("", "configmaps"), { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "n", namespace: "x" } })).toThrow(/being terminated/);
    store.finalizeDelete(t("", "pods"), "x", "p");
    expect(store.get(t("", "namespaces"), undefined, "x")).toBeUndefined();
  });

  it("does not collect a dependent that still has a living owner", () => {
    const { store, t } = setup();
    const cm = t("", "configmaps");
    const o1 = store.create(cm, { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "o1", namespace: "default" } });
    const o2 = store.create(cm, { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "o2", namespace: "default" } });
    const ref = (o: KubeObject) => ({ apiVersion: "v1", kind: "ConfigMap", name: o.metadata.name, uid: o.metadata.uid });
    store.create(cm, { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "dep", namespace: "default", ownerReferences: [ref(o1), ref(o2)] } });
    store.delete(cm, "default", "o1");
    expect(store.get(cm, "default", "dep")).toBeDefined();
    store.delete(cm, "default", "o2");
    expect(store.get(cm, "default", "dep")).toBeUndefined();
  });

  it("registers CRD versions as types and removes them with their objects", () => {
    const { store, t } = setup();
    store.create(t("apiextensions.k8s.io", "customresourcedefinitions"), {
      apiVersion: "apiextensions.k8s.io/v1",
      kind: "CustomResourceDefinition",
      metadata: { name: "things.ex.io" },
      spec: {
        group: "ex.io",
        scope: "Cluster",
        names: { plural: "things", kind: "Thing" },
        versions: [
          { name: "v1beta1", served: true, storage: false },
          { name: "v1", served: true, storage: true, subresources: { status: {} } },
        ],
      },
    });
    const thing = store.typeFor("ex.io", "things")!;
    expect(thing).toMatchObject({ version: "v1", namespaced: false, subresources: ["status"], listKind: "ThingList" });
    expect((store as ReturnType<typeof createStore>).typeForVersion("ex.io", "v1beta1", "things")).toBeDefined();
    store.create(thing, { apiVersion: "ex.io/v1", kind: "Thing", metadata: { name: "a" } });
    store.delete(t("apiextensions.k8s.io", "customresourcedefinitions"), undefined, "things.ex.io");
    expect(store.typeFor("ex.io", "things")).toBeUndefined();
  });
});
