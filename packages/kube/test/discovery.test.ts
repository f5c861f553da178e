// Integration tests of discovery (incl. a CRD created at run time) and generic GET against kube-sim.
import { afterEach, describe, expect, it } from "vitest";
import { DiscoveryCache, getObject, ResilientWatch, resolveResourceSpecs, resourceName, UnknownResourceError, type WatchEvent } from "@faro/kube";
import { configMap, simAvailable, startApiServer, until, type Sim } from "./sim.js";

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});
async function sim(): Promise<Sim> {
  const s = await startApiServer();
  cleanups.push(() => s.stop());
  return s;
}

const widgetCrd = {
  apiVersion: "apiextensions.k8s.io/v1",
  kind: "CustomResourceDefinition",
  metadata: { name: "widgets.example.com" },
  spec: {
    group: "example.com",
    scope: "Namespaced",
    names: { plural: "widgets", singular: "widget", kind: "Widget", shortNames: ["wd"] },
    versions: [{ name: "v1", served: true, storage: true, schema: { openAPIV3Schema: { type: "object", "x-kubernetes-preserve-unknown-fields": true } } }],
  },
};

describe.skipIf(!simAvailable)("discovery against kube-sim (simulator API server not exported yet when skipped)", () => {
  it("discovers built-ins without subresources and resolves specs", async () => {
    const s = await sim();
    const cache = new DiscoveryCache(s.kc);
    const first = await cache.refresh();
    expect(cache.ready).toBe(true);
    const pods = first.resources.find((r) => r.resource === "pods")!;
    expect(pods).toMatchObject({ group: "", version: "v1", kind: "Pod", namespaced: true, apiVersion: "v1" });
    expect(pods.verbs).toEqual(expect.arrayContaining(["list", "watch", "get"]));
    expect(first.resources.some((r) => r.resource.includes("/"))).toBe(false);
    expect(first.resources.find((r) => r.resource === "nodes")?.namespaced).toBe(false);
    expect(resolveResourceSpecs(["pods", "deployments.apps", "deploy"], cache.resources).map(resourceName)).toEqual([
      "pods",
      "deployments.apps",
    ]);
    expect(() => resolveResourceSpecs(["widgets.example.com"], cache.resources)).toThrow(UnknownResourceError);
    expect(cache.find("apps/v1", "Deployment")?.resource).toBe("deployments");
  });

  it("reports a CRD created and deleted at run time through refresh()", async () => {
    const s = await sim();
    const cache = new DiscoveryCache(s.kc);
    await cache.refresh();
    const crdType = s.store.typeFor("apiextensions.k8s.io", "customresourcedefinitions")!;
    s.store.create(crdType, widgetCrd);
    const change = await cache.refresh();
    expect(change.added.map(resourceName)).toEqual(["widgets.example.com"]);
    expect(change.removed).toEqual([]);
    expect(change.added[0]).toMatchObject({ kind: "Widget", namespaced: true, apiVersion: "example.com/v1", shortNames: ["wd"] });
    expect(resolveResourceSpecs(["wd"], cache.resources).map(resourceName)).toEqual(["widgets.example.com"]);
    expect((await cache.refresh()).added).toEqual([]);

    s.store.delete(crdType, undefined, "widgets.example.com");
    const gone = await cache.refresh();
    expect(gone.removed.map(resourceName)).toEqual(["widgets.example.com"]);
  });

  it("watches a CRD discovered at run time, and a cluster-scoped type", async () => {
    const s = await sim();
    const cache = new DiscoveryCache(s.kc);
    await cache.refresh();
    s.store.create(s.store.typeFor("apiextensions.k8s.io", "customresourcedefinitions")!, widgetCrd);
    const [widgets] = (await cache.refresh()).added;
    const events: WatchEvent[] = [];
    const w = new ResilientWatch(s.kc, { resource: widgets!, onEvent: (e) => void events.push(e) }).start();
    const nsEvents: WatchEvent[] = [];
    const nsResource = resolveResourceSpecs(["namespaces"], cache.resources)[0]!;
    const nw = new ResilientWatch(s.kc, { resource: nsResource, namespace: "ignored-for-cluster-scope", onEvent: (e) => void nsEvents.push(e) }).start();
    cleanups.push(() => w.stop(), () => nw.stop());
    await Promise.all([w.synced, nw.synced]);
    const wt = s.store.typeFor("example.com", "widgets")!;
    s.store.create(wt, { apiVersion: "example.com/v1", kind: "Widget", metadata: { name: "w1", namespace: "b" }, spec: { size: 3 } });
    s.store.create(s.store.typeFor("", "namespaces")!, { apiVersion: "v1", kind: "Namespace", metadata: { name: "prod-new" } });
    await until(() => events.length >= 1 && nsEvents.some((e) => e.object.metadata.name === "prod-new"), "widget and namespace events");
    expect(events.map((e) => `${e.type} ${e.object.kind} ${e.object.metadata.namespace}/${e.object.metadata.name}`)).toEqual(["ADDED Widget b/w1"]);
    expect(events[0]!.object.spec).toEqual({ size: 3 });
  });

  it("getObject fetches by kind or resource and returns undefined for 404", async () => {
    const s = await sim();
    const cmType = s.store.typeFor("", "configmaps")!;
    const created = s.store.create(cmType, configMap("a", "owner", { k: "v" }));
    const got = await getObject(s.kc, "v1", "ConfigMap", "a", "owner");
    expect(got?.metadata.uid).toBe(created.metadata.uid);
    expect(got?.data).toEqual({ k: "v" });
    expect((await getObject(s.kc, "v1", "configmaps", "a", "owner"))?.metadata.name).toBe("owner");
    expect(await getObject(s.kc, "v1", "ConfigMap", "a", "missing")).toBeUndefined();
    await expect(getObject(s.kc, "nope.example.com/v1", "Thing", "a", "x")).rejects.toThrow(UnknownResourceError);
    const nodeType = s.store.typeFor("", "nodes")!;
    s.store.create(nodeType, { apiVersion: "v1", kind: "Node", metadata: { name: "n1" } });
    expect((await getObject(s.kc, "v1", "Node", undefined, "n1"))?.kind).toBe("Node");
  });
});
