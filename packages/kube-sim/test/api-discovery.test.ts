// Discovery (aggregated v2/v2beta1 and legacy), version/health endpoints, OpenAPI v3 and CRD registration at run time.
import * as k8s from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { codeOf, startSim, until, type Sim } from "./api-helpers.js";

let sim: Sim;

beforeAll(async () => {
  sim = await startSim();
});
afterAll(async () => {
  await sim.stop();
});

const AGG = (v: string) => `application/json;g=apidiscovery.k8s.io;v=${v};as=APIGroupDiscoveryList,application/json`;

async function getJson(path: string, accept = "application/json"): Promise<{ status: number; ct: string; body: any }> {
  const r = await fetch(`${sim.server.url}${path}`, { headers: { Accept: accept } });
  return { status: r.status, ct: r.headers.get("content-type") ?? "", body: await r.json() };
}

describe("discovery", () => {
  it("serves /version and health endpoints", async () => {
    const version = await sim.kc.makeApiClient(k8s.VersionApi).getCode();
    expect(version.gitVersion).toMatch(/^v1\.\d+/);
    for (const p of ["/healthz", "/readyz", "/livez"]) expect((await fetch(`${sim.server.url}${p}`)).status).toBe(200);
  });

  it("answers aggregated discovery in the version asked for", async () => {
    for (const v of ["v2", "v2beta1"]) {
      const apis = await getJson("/apis", AGG(v));
      expect(apis.ct).toContain(`v=${v};as=APIGroupDiscoveryList`);
      expect(apis.body.apiVersion).toBe(`apidiscovery.k8s.io/${v}`);
      const appsGroup = apis.body.items.find((g: any) => g.metadata.name === "apps");
      const deploy = appsGroup.versions[0].resources.find((r: any) => r.resource === "deployments");
      expect(deploy).toMatchObject({ scope: "Namespaced", singularResource: "deployment", shortNames: ["deploy"], responseKind: { kind: "Deployment" } });
      expect(deploy.subresources.map((s: any) => s.subresource).sort()).toEqual(["scale", "status"]);
      const core = await getJson("/api", AGG(v));
      expect(core.ct).toContain(`v=${v};as=APIGroupDiscoveryList`);
      const pods = core.body.items[0].versions[0].resources.find((r: any) => r.resource === "pods");
      expect(pods.subresources.map((s: any) => s.subresource).sort()).toEqual(["log", "status"]);
      expect(pods.categories).toEqual(["all"]);
    }
  });

  it("answers legacy discovery", async () => {
    expect((await getJson("/api")).body).toMatchObject({ kind: "APIVersions", versions: ["v1"] });
    const groups = (await getJson("/apis")).body;
    expect(groups.kind).toBe("APIGroupList");
    expect(groups.groups.map((g: any) => g.name)).toEqual(
      expect.arrayContaining(["apps", "batch", "events.k8s.io", "apiextensions.k8s.io", "coordination.k8s.io"]),
    );
    const v1 = (await getJson("/api/v1")).body;
    const names = v1.resources.map((r: any) => r.name);
    for (const n of ["pods", "pods/log", "pods/status", "namespaces", "nodes", "services", "configmaps", "secrets", "events", "serviceaccounts", "endpoints", "persistentvolumeclaims"]) {
      expect(names).toContain(n);
    }
    const appsV1 = (await getJson("/apis/apps/v1")).body;
    const scale = appsV1.resources.find((r: any) => r.name === "deployments/scale");
    expect(scale).toMatchObject({ kind: "Scale", group: "autoscaling", version: "v1" });
    expect((await getJson("/apis/batch")).body).toMatchObject({ kind: "APIGroup", name: "batch", preferredVersion: { version: "v1" } });
    expect((await getJson("/apis/nope/v1")).status).toBe(404);
  });

  it("serves an OpenAPI v3 index whose documents declare fieldValidation on PATCH", async () => {
    const index = (await getJson("/openapi/v3")).body;
    const ref = index.paths["apis/apps/v1"].serverRelativeURL as string;
    expect(ref).toMatch(/^\/openapi\/v3\/apis\/apps\/v1\?hash=/);
    const doc = (await getJson(ref)).body;
    const op = doc.paths["/apis/apps/v1/namespaces/{namespace}/deployments/{name}"].patch;
    expect(op["x-kubernetes-group-version-kind"]).toEqual({ group: "apps", version: "v1", kind: "Deployment" });
    expect(op.parameters.map((p: any) => p.name)).toContain("fieldValidation");
  });
});

describe("CustomResourceDefinitions", () => {
  const crd: k8s.V1CustomResourceDefinition = {
    apiVersion: "apiextensions.k8s.io/v1",
    kind: "CustomResourceDefinition",
    metadata: { name: "widgets.example.com" },
    spec: {
      group: "example.com",
      scope: "Namespaced",
      names: { plural: "widgets", singular: "widget", kind: "Widget", shortNames: ["wd"] },
      versions: [{ name: "v1", served: true, storage: true, schema: { openAPIV3Schema: { type: "object", x_kubernetes_preserve_unknown_fields: true } } }],
    },
  };

  it("registers a CRD at run time: discovery, list, watch; deleting it unregisters", async () => {
    const ext = sim.kc.makeApiClient(k8s.ApiextensionsV1Api);
    const custom = sim.kc.makeApiClient(k8s.CustomObjectsApi);
    const created = await ext.createCustomResourceDefinition({ body: crd });
    expect(created.status?.conditions?.find((c) => c.type === "Established")?.status).toBe("True");

    const agg = (await getJson("/apis", AGG("v2"))).body;
    const group = agg.items.find((g: any) => g.metadata.name === "example.com");
    expect(group.versions[0].resources[0]).toMatchObject({ resource: "widgets", shortNames: ["wd"], scope: "Namespaced" });

    const seen: string[] = [];
    const watch = new k8s.Watch(sim.kc);
    const req = await watch.watch(
      "/apis/example.com/v1/namespaces/default/widgets",
      {},
      (type, obj) => seen.push(`${type}:${obj.metadata.name}`),
      () => {},
    );
    try {
      await custom.createNamespacedCustomObject({
        group: "example.com",
        version: "v1",
        namespace: "default",
        plural: "widgets",
        body: { apiVersion: "example.com/v1", kind: "Widget", metadata: { name: "w1" }, spec: { size: 3 } },
      });
      const list = (await custom.listNamespacedCustomObject({ group: "example.com", version: "v1", namespace: "default", plural: "widgets" })) as any;
      expect(list.kind).toBe("WidgetList");
      expect(list.items.map((i: any) => i.metadata.name)).toEqual(["w1"]);
      await until(() => seen.includes("ADDED:w1"), "watch event for the custom object");

      // KubernetesObjectApi resolves the new type through discovery.
      const objects = k8s.KubernetesObjectApi.makeApiClient(sim.kc);
      const w = await objects.read({ apiVersion: "example.com/v1", kind: "Widget", metadata: { name: "w1", namespace: "default" } });
      expect((w as any).spec.size).toBe(3);
    } finally {
      req.abort();
    }

    await ext.deleteCustomResourceDefinition({ name: "widgets.example.com" });
    const after = (await getJson("/apis", AGG("v2"))).body;
    expect(after.items.find((g: any) => g.metadata.name === "example.com")).toBeUndefined();
    const gone = await custom
      .listNamespacedCustomObject({ group: "example.com", version: "v1", namespace: "default", plural: "widgets" })
      .catch((e) => e);
    expect(codeOf(gone)).toBe(404);
  });
});
