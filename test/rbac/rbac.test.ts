// RBAC in the simulator: service-account tokens are authorized from the Roles, ClusterRoles and bindings
// the store holds (403 worded like the API server), the admin kubeconfig stays all-powerful, and
// `kubectl auth can-i` / `kubectl create token` work through the real kubectl binary.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as k8s from "@kubernetes/client-node";
import { startCluster, type Cluster } from "@faro/kube-sim";
import { findKubectl, kubectl } from "../kubectl/helpers.js";

const bin = findKubectl();
if (!bin) console.warn("SKIPPED kubectl parts of the RBAC tests: no kubectl binary");

let cluster: Cluster;
let dir: string;
let admin: string;
let reader: string;

beforeAll(async () => {
  cluster = await startCluster({ speed: 20 });
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "faro-rbac-"));
  admin = path.join(dir, "admin");
  reader = path.join(dir, "reader");
  cluster.writeKubeconfig(admin);
  fs.writeFileSync(reader, cluster.serviceAccountKubeconfig("default", "reader"));
  const t = (r: string) => cluster.store.typeFor("rbac.authorization.k8s.io", r)!;
  cluster.store.create(t("clusterroles"), {
    apiVersion: "rbac.authorization.k8s.io/v1",
    kind: "ClusterRole",
    metadata: { name: "pod-reader" },
    rules: [{ apiGroups: [""], resources: ["pods", "pods/log"], verbs: ["get", "list", "watch"] }],
  } as never);
  cluster.store.create(t("rolebindings"), {
    apiVersion: "rbac.authorization.k8s.io/v1",
    kind: "RoleBinding",
    metadata: { name: "reader-pods", namespace: "default" },
    roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: "pod-reader" },
    subjects: [{ kind: "ServiceAccount", name: "reader", namespace: "default" }],
  } as never);
});
afterAll(async () => {
  await cluster?.stop();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

function client(file: string): k8s.CoreV1Api {
  const kc = new k8s.KubeConfig();
  kc.loadFromFile(file);
  return kc.makeApiClient(k8s.CoreV1Api);
}

async function statusOf(p: Promise<unknown>): Promise<{ code: number; body: Record<string, unknown> }> {
  try {
    await p;
    return { code: 200, body: {} };
  } catch (err) {
    const e = err as { code?: number; body?: string | Record<string, unknown> };
    return { code: e.code ?? 0, body: typeof e.body === "string" ? (JSON.parse(e.body) as Record<string, unknown>) : (e.body ?? {}) };
  }
}

describe("RBAC for service-account tokens", () => {
  it("allows what the bound role grants, in the bound namespace only", async () => {
    const api = client(reader);
    const list = await api.listNamespacedPod({ namespace: "default" });
    expect(list.items).toBeInstanceOf(Array);
    const other = await statusOf(api.listNamespacedPod({ namespace: "kube-system" }));
    expect(other.code).toBe(403);
    expect(other.body).toEqual({
      kind: "Status",
      apiVersion: "v1",
      metadata: {},
      status: "Failure",
      message: 'pods is forbidden: User "system:serviceaccount:default:reader" cannot list resource "pods" in API group "" in the namespace "kube-system"',
      reason: "Forbidden",
      details: { kind: "pods" },
      code: 403,
    });
  });

  it("words named, grouped and cluster-scoped denials like the API server", async () => {
    const api = client(reader);
    const named = await statusOf(api.deleteNamespacedPod({ namespace: "default", name: "web-1" }));
    expect(named.code).toBe(403);
    expect(named.body.message).toBe('pods "web-1" is forbidden: User "system:serviceaccount:default:reader" cannot delete resource "pods" in API group "" in the namespace "default"');
    expect(named.body.details).toEqual({ name: "web-1", kind: "pods" });
    const nodes = await statusOf(api.listNode());
    expect(nodes.body.message).toBe('nodes is forbidden: User "system:serviceaccount:default:reader" cannot list resource "nodes" in API group "" at the cluster scope');
    const kc = new k8s.KubeConfig();
    kc.loadFromFile(reader);
    const apps = kc.makeApiClient(k8s.AppsV1Api);
    const dep = await statusOf(apps.readNamespacedDeployment({ namespace: "default", name: "web" }));
    expect(dep.code).toBe(403);
    expect(dep.body.message).toBe('deployments.apps "web" is forbidden: User "system:serviceaccount:default:reader" cannot get resource "deployments" in API group "apps" in the namespace "default"');
    expect(dep.body.details).toEqual({ name: "web", group: "apps", kind: "deployments" });
  });

  it("applies binding changes at once, and a ClusterRoleBinding grants in every namespace", async () => {
    const api = client(reader);
    expect((await statusOf(api.listNamespacedEvent({ namespace: "kube-system" }))).code).toBe(403);
    const t = (r: string) => cluster.store.typeFor("rbac.authorization.k8s.io", r)!;
    cluster.store.create(t("clusterroles"), {
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "ClusterRole",
      metadata: { name: "event-reader" },
      rules: [{ apiGroups: ["*"], resources: ["events"], verbs: ["list"] }],
    } as never);
    cluster.store.create(t("clusterrolebindings"), {
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "ClusterRoleBinding",
      metadata: { name: "reader-events" },
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: "event-reader" },
      subjects: [{ kind: "ServiceAccount", name: "reader", namespace: "default" }],
    } as never);
    expect((await statusOf(api.listNamespacedEvent({ namespace: "kube-system" }))).code).toBe(200);
    expect((await statusOf(api.listEventForAllNamespaces())).code).toBe(200);
  });

  it("rejects a token it did not issue with 401, and the admin kubeconfig may do anything", async () => {
    const forged = fs.readFileSync(reader, "utf8").replace(/token: (\S+)/, (_m, t: string) => `token: ${t.slice(0, -4)}AAAA`);
    const forgedPath = path.join(dir, "forged");
    fs.writeFileSync(forgedPath, forged);
    const r = await statusOf(client(forgedPath).listNamespacedPod({ namespace: "default" }));
    expect(r.code).toBe(401);
    const token = /token: (\S+)/.exec(forged)![1]!;
    const res = await fetch(`${cluster.url}/api/v1/namespaces/default/pods`, { headers: { Authorization: `Bearer ${token}` } });
    expect(res.status).toBe(401);
    expect(await res.json()).toEqual({ kind: "Status", apiVersion: "v1", metadata: {}, status: "Failure", message: "Unauthorized", reason: "Unauthorized", code: 401 });
    expect((await statusOf(client(admin).listNode())).code).toBe(200);
  });
});

describe.skipIf(!bin)("kubectl auth can-i / create token", () => {
  const k = (kc: string, ...args: string[]) => kubectl(bin!, dir, kc, ...args);

  it("answers SelfSubjectAccessReview from the bindings: yes (exit 0) and no (exit 1)", async () => {
    expect(await k(reader, "auth", "can-i", "list", "pods")).toMatchObject({ code: 0, stdout: "yes\n" });
    expect(await k(reader, "auth", "can-i", "get", "pods", "--subresource=log")).toMatchObject({ code: 0, stdout: "yes\n" });
    expect(await k(reader, "auth", "can-i", "delete", "pods")).toMatchObject({ code: 1, stdout: "no\n" });
    expect(await k(reader, "auth", "can-i", "list", "pods", "-n", "kube-public")).toMatchObject({ code: 1, stdout: "no\n" });
    expect(await k(admin, "auth", "can-i", "*", "*")).toMatchObject({ code: 0, stdout: "yes\n" });
  });

  it("lists the subject's rules (SelfSubjectRulesReview)", async () => {
    const r = await k(reader, "auth", "can-i", "--list");
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^pods\s+\[\]\s+\[\]\s+\[get list watch\]$/m);
    expect(r.stdout).not.toMatch(/deployments/);
  });

  it("prints kubectl's Forbidden error for a denied request", async () => {
    const r = await k(reader, "get", "secrets");
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('Error from server (Forbidden): secrets is forbidden: User "system:serviceaccount:default:reader" cannot list resource "secrets" in API group "" in the namespace "default"');
  });

  it("mints a token with `kubectl create token` that authenticates as the service account", async () => {
    const created = await k(admin, "create", "serviceaccount", "minted");
    expect(created.code).toBe(0);
    const tok = await k(admin, "create", "token", "minted");
    expect(tok.code).toBe(0);
    const file = path.join(dir, "minted");
    fs.writeFileSync(file, fs.readFileSync(reader, "utf8").replace(/token: \S+/, `token: ${tok.stdout.trim()}`));
    const denied = await k(file, "get", "pods");
    expect(denied.stderr).toContain('User "system:serviceaccount:default:minted" cannot list resource "pods"');
  });
});
