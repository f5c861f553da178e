// kubectl v1.32 against the simulated API server: version, discovery, get/apply/delete/scale, CRDs, events, get -w.
import { execFile, execFileSync, spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { KubeObject } from "../src/types.js";
import { startSim, until, type Sim } from "./api-helpers.js";

function findKubectl(): string | undefined {
  try {
    execFileSync("kubectl", ["version", "--client"], { stdio: "ignore", timeout: 10_000 });
    return "kubectl";
  } catch (err) {
    console.warn(`kubectl tests skipped: kubectl is not on PATH (${(err as Error).message})`);
    return undefined;
  }
}

const kubectlBin = findKubectl();
const title = kubectlBin ? "kubectl against the API server" : "kubectl against the API server (SKIPPED: kubectl not on PATH)";

describe.skipIf(!kubectlBin)(title, () => {
  let sim: Sim;
  let dir: string;
  let env: NodeJS.ProcessEnv;

  beforeAll(async () => {
    sim = await startSim();
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "kube-sim-kubectl-"));
    fs.writeFileSync(
      path.join(dir, "kubeconfig"),
      [
        "apiVersion: v1",
        "kind: Config",
        `clusters: [{name: sim, cluster: {server: "${sim.server.url}"}}]`,
        "contexts: [{name: sim, context: {cluster: sim, user: sim, namespace: default}}]",
        "users: [{name: sim, user: {}}]",
        "current-context: sim",
      ].join("\n"),
    );
    env = { ...process.env, KUBECONFIG: path.join(dir, "kubeconfig"), KUBECACHEDIR: path.join(dir, "cache"), HOME: dir };
  });
  afterAll(async () => {
    await sim?.stop();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  /** Runs kubectl with a request timeout and a hard process timeout. */
  function kubectl(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
    return new Promise((resolve) => {
      execFile(
        kubectlBin!,
        ["--request-timeout=10s", "--cache-dir", path.join(dir, "cache"), ...args],
        { env, timeout: 30_000 },
        (err, stdout, stderr) => resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
      );
    });
  }

  async function ok(...args: string[]): Promise<string> {
    const r = await kubectl(...args);
    if (r.code !== 0) throw new Error(`kubectl ${args.join(" ")} failed (${r.code}): ${r.stderr}`);
    return r.stdout;
  }

  function file(name: string, text: string): string {
    const p = path.join(dir, name);
    fs.writeFileSync(p, text);
    return p;
  }

  const type = (group: string, resource: string) => sim.store.typeFor(group, resource)!;
  const mk = (group: string, resource: string, obj: Omit<KubeObject, "metadata"> & { metadata: Record<string, unknown> }) =>
    sim.store.create(type(group, resource), obj as never);

  it("kubectl version shows the server version", async () => {
    expect(await ok("version")).toMatch(/Server Version: v1\.32/);
  });

  it("kubectl api-resources lists built-in types with short names", async () => {
    const out = await ok("api-resources");
    expect(out).toMatch(/^deployments\s+deploy\s+apps\/v1\s+true\s+Deployment$/m);
    expect(out).toMatch(/^pods\s+po\s+v1\s+true\s+Pod$/m);
    expect(out).toMatch(/^namespaces\s+ns\s+v1\s+false\s+Namespace$/m);
  });

  it("kubectl get ns and get pods -A print tables", async () => {
    mk("", "namespaces", { apiVersion: "v1", kind: "Namespace", metadata: { name: "team-a" } });
    mk("", "pods", { apiVersion: "v1", kind: "Pod", metadata: { name: "alpha", namespace: "team-a" }, spec: { containers: [{ name: "c", image: "x" }] }, status: { phase: "Running" } });
    expect(await ok("get", "ns")).toMatch(/^team-a\s+Active\s+\d+s$/m);
    const pods = await ok("get", "pods", "-A");
    expect(pods).toMatch(/^NAMESPACE\s+NAME\s+READY\s+STATUS\s+RESTARTS\s+AGE$/m);
    expect(pods).toMatch(/^team-a\s+alpha\s+0\/1\s+Running\s+0\s+\d+s$/m);
  });

  it("kubectl apply creates a Deployment, then reports it unchanged, then scales it", async () => {
    const manifest = file(
      "deploy.yaml",
      `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: 2
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: app
        image: nginx:1.25
        ports: [{containerPort: 80}]
`,
    );
    expect(await ok("apply", "-f", manifest)).toMatch(/deployment\.apps\/web created/);
    const d = sim.store.get(type("apps", "deployments"), "default", "web")!;
    expect(d.metadata.annotations?.["kubectl.kubernetes.io/last-applied-configuration"]).toContain('"nginx:1.25"');
    expect(await ok("apply", "-f", manifest)).toMatch(/deployment\.apps\/web unchanged/);
    fs.writeFileSync(manifest, fs.readFileSync(manifest, "utf8").replace("nginx:1.25", "nginx:1.26"));
    expect(await ok("apply", "-f", manifest)).toMatch(/deployment\.apps\/web configured/);
    const d2 = sim.store.get(type("apps", "deployments"), "default", "web")!;
    expect((d2.spec as any).template.spec.containers).toEqual([{ name: "app", image: "nginx:1.26", ports: [{ containerPort: 80 }] }]);
    expect(d2.metadata.generation).toBe(2);

    expect(await ok("scale", "deploy", "web", "--replicas=5")).toMatch(/deployment\.apps\/web scaled/);
    expect((sim.store.get(type("apps", "deployments"), "default", "web")!.spec as any).replicas).toBe(5);
    expect(await ok("get", "deploy", "web")).toMatch(/^web\s+0\/5\s+0\s+0\s+\d+s$/m);
  });

  it("kubectl get events --field-selector filters by involved object", async () => {
    for (const [name, obj, reason] of [
      ["e1", "web-a", "Started"],
      ["e2", "web-b", "BackOff"],
    ] as const) {
      mk("", "events", {
        apiVersion: "v1",
        kind: "Event",
        metadata: { name, namespace: "default" },
        involvedObject: { kind: "Pod", name: obj, namespace: "default" },
        reason,
        message: `msg for ${obj}`,
        type: "Normal",
        lastTimestamp: new Date().toISOString().replace(/\.\d+Z$/, "Z"),
      });
    }
    const out = await ok("get", "events", "--field-selector", "involvedObject.name=web-b");
    expect(out).toMatch(/BackOff\s+pod\/web-b\s+msg for web-b/);
    expect(out).not.toContain("web-a");
  });

  it("kubectl apply registers a CRD and a custom object, get <plural> lists it", async () => {
    const crd = file(
      "crd.yaml",
      `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: gadgets.example.com
spec:
  group: example.com
  scope: Namespaced
  names: {plural: gadgets, singular: gadget, kind: Gadget, shortNames: [gd]}
  versions:
  - name: v1
    served: true
    storage: true
    schema: {openAPIV3Schema: {type: object, x-kubernetes-preserve-unknown-fields: true}}
`,
    );
    expect(await ok("apply", "-f", crd)).toMatch(/customresourcedefinition\.apiextensions\.k8s\.io\/gadgets\.example\.com created/);
    const cr = file("cr.yaml", "apiVersion: example.com/v1\nkind: Gadget\nmetadata: {name: g1}\nspec: {size: 3}\n");
    expect(await ok("apply", "-f", cr)).toMatch(/gadget\.example\.com\/g1 created/);
    expect(await ok("get", "gadgets")).toMatch(/^g1\s+\d+s$/m);
    expect(await ok("get", "gd", "g1", "-o", "jsonpath={.spec.size}")).toBe("3");
    expect(await ok("apply", "-f", cr)).toMatch(/gadget\.example\.com\/g1 unchanged/);
  });

  it("kubectl delete removes a Deployment and garbage-collects what it owns", async () => {
    const d = mk("apps", "deployments", {
      apiVersion: "apps/v1",
      kind: "Deployment",
      metadata: { name: "gone", namespace: "default" },
      spec: { replicas: 1, selector: { matchLabels: { app: "gone" } }, template: { metadata: { labels: { app: "gone" } }, spec: { containers: [{ name: "c", image: "x" }] } } },
    });
    const owner = (o: KubeObject, kind: string, apiVersion: string) => [{ apiVersion, kind, name: o.metadata.name, uid: o.metadata.uid, controller: true }];
    const rs = mk("apps", "replicasets", {
      apiVersion: "apps/v1",
      kind: "ReplicaSet",
      metadata: { name: "gone-abc", namespace: "default", ownerReferences: owner(d, "Deployment", "apps/v1") },
      spec: { selector: { matchLabels: { app: "gone" } } },
    });
    mk("", "pods", {
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name: "gone-abc-xyz12", namespace: "default", ownerReferences: owner(rs, "ReplicaSet", "apps/v1") },
      spec: { containers: [{ name: "c", image: "x" }] },
    });
    expect(await ok("delete", "deploy", "gone")).toMatch(/deployment\.apps "gone" deleted/);
    expect(sim.store.get(type("apps", "deployments"), "default", "gone")).toBeUndefined();
    expect(sim.store.get(type("apps", "replicasets"), "default", "gone-abc")).toBeUndefined();
    expect(sim.store.get(type("", "pods"), "default", "gone-abc-xyz12")).toBeUndefined();
    const missing = await kubectl("delete", "deploy", "gone");
    expect(missing.code).not.toBe(0);
    expect(missing.stderr).toMatch(/NotFound|not found/);
  });

  it("kubectl get -w receives a change made after it started", async () => {
    mk("", "pods", { apiVersion: "v1", kind: "Pod", metadata: { name: "watched", namespace: "default" }, spec: { containers: [{ name: "c", image: "x" }] }, status: { phase: "Pending" } });
    const child = spawn(kubectlBin!, ["--cache-dir", path.join(dir, "cache"), "get", "pods", "-w", "--request-timeout=20s"], { env });
    let out = "";
    child.stdout.on("data", (b: Buffer) => (out += b.toString()));
    child.stderr.on("data", (b: Buffer) => (out += b.toString()));
    const killer = setTimeout(() => child.kill("SIGKILL"), 25_000);
    try {
      await until(() => /watched\s+0\/1\s+Pending/.test(out), "initial listing", 15_000);
      await until(() => sim.server.watchCount() >= 1, "kubectl watch open", 15_000);
      const pods = type("", "pods");
      const cur = sim.store.get(pods, "default", "watched")!;
      sim.store.updateStatus(pods, { ...cur, status: { phase: "Running" } });
      await until(() => /watched\s+0\/1\s+Running/.test(out), "watched change", 15_000);
    } finally {
      clearTimeout(killer);
      child.kill("SIGTERM");
    }
  });
});
