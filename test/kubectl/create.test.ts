// kubectl's imperative commands send Kubernetes protobuf bodies (application/vnd.kubernetes.protobuf);
// the simulator decodes them for built-in kinds, so create/expose/create token work as on a real cluster.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startCluster, type Cluster } from "@faro/kube-sim";
import { until } from "@faro/test-harness";
import { findKubectl, kubectl } from "./helpers.js";

const bin = findKubectl();
if (!bin) console.warn("SKIPPED kubectl protobuf tests: no kubectl binary");

describe.skipIf(!bin)("kubectl create/expose against the simulator (protobuf bodies)", () => {
  let cluster: Cluster;
  let dir: string;
  let kc: string;
  const k = (...args: string[]) => kubectl(bin!, dir, kc, ...args);
  async function ok(...args: string[]): Promise<string> {
    const r = await k(...args);
    if (r.code !== 0) throw new Error(`kubectl ${args.join(" ")} failed (${r.code}): ${r.stderr}`);
    return r.stdout;
  }

  beforeAll(async () => {
    cluster = await startCluster({ speed: 20 });
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "faro-kubectl-create-"));
    kc = path.join(dir, "kubeconfig");
    cluster.writeKubeconfig(kc);
  });
  afterAll(async () => {
    await cluster?.stop();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it("creates a namespace, a configmap and a secret with their data intact", async () => {
    expect(await ok("create", "namespace", "shop")).toMatch(/namespace\/shop created/);
    await ok("-n", "shop", "create", "configmap", "cfg", "--from-literal=mode=fast", "--from-literal=empty=");
    await ok("-n", "shop", "create", "secret", "generic", "creds", "--from-literal=password=s3cr3t");
    const ns = (t: string) => cluster.store.typeFor("", t)!;
    expect(cluster.store.get(ns("namespaces"), undefined, "shop")?.metadata.name).toBe("shop");
    const cm = cluster.store.get(ns("configmaps"), "shop", "cfg") as unknown as { data: Record<string, string> };
    expect(cm.data).toEqual({ mode: "fast", empty: "" });
    const secret = cluster.store.get(ns("secrets"), "shop", "creds") as unknown as { data: Record<string, string> };
    expect(Buffer.from(secret.data.password!, "base64").toString()).toBe("s3cr3t");
  });

  it("creates a deployment that rolls out, and exposes it as a service with the right ports and selector", async () => {
    await ok("-n", "shop", "create", "deployment", "web", "--image=nginx:1.27", "--replicas=2", "--port=80");
    await until(async () => (await ok("-n", "shop", "get", "deploy", "web", "-o", "jsonpath={.status.readyReplicas}")) === "2", "web's 2 replicas ready", 15_000);
    const deploy = JSON.parse(await ok("-n", "shop", "get", "deploy", "web", "-o", "json")) as {
      spec: { replicas: number; selector: { matchLabels: Record<string, string> }; template: { spec: { containers: { name: string; image: string; ports: { containerPort: number; protocol: string }[] }[] } } };
    };
    expect(deploy.spec.replicas).toBe(2);
    expect(deploy.spec.selector.matchLabels).toEqual({ app: "web" });
    expect(deploy.spec.template.spec.containers[0]).toMatchObject({ name: "nginx", image: "nginx:1.27", ports: [{ containerPort: 80 }] });

    expect(await ok("-n", "shop", "expose", "deployment", "web", "--port=8080", "--target-port=80")).toMatch(/service\/web exposed/);
    const svc = JSON.parse(await ok("-n", "shop", "get", "svc", "web", "-o", "json")) as { spec: { selector: Record<string, string>; ports: unknown[] } };
    expect(svc.spec.selector).toEqual({ app: "web" });
    expect(svc.spec.ports).toEqual([{ port: 8080, protocol: "TCP", targetPort: 80 }]);
  });

  it("scales to zero through a protobuf body without losing the explicit 0", async () => {
    await ok("-n", "shop", "create", "deployment", "idle", "--image=nginx", "--replicas=0");
    expect(await ok("-n", "shop", "get", "deploy", "idle", "-o", "jsonpath={.spec.replicas}")).toBe("0");
  });

  it("answers a protobuf body of a kind it has no schema for with 415 UnsupportedMediaType, like an API server", async () => {
    const body = Buffer.concat([Buffer.from([0x6b, 0x38, 0x73, 0x00]), Buffer.from([0x0a, 0x0c, 0x0a, 0x04, ...Buffer.from("x/v1"), 0x12, 0x04, ...Buffer.from("Nope")])]);
    const res = await fetch(`${cluster.url}/api/v1/namespaces/shop/configmaps`, { method: "POST", headers: { "Content-Type": "application/vnd.kubernetes.protobuf" }, body });
    expect(res.status).toBe(415);
    expect(await res.json()).toMatchObject({ kind: "Status", status: "Failure", reason: "UnsupportedMediaType", code: 415 });
  });
});
