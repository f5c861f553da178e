// The Helm chart (deploy/helm/faro) lints, renders one read-only, probed Deployment per service whose
// generated config passes that service's own schema, and its workload manifests are accepted by a
// Kubernetes API (the simulator). Needs the `helm` binary: `scripts/setup.sh` installs it with Go when Go
// is present; without it these tests are skipped, and say so.
import { execFile, execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import * as k8s from "@kubernetes/client-node";
import { startCluster, type Cluster } from "@faro/kube-sim";
import { loadConfig, type Schema } from "@faro/config";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseAllDocuments } from "yaml";

const run = promisify(execFile);
const root = path.resolve(import.meta.dirname, "../..");
const chart = path.join(root, "deploy", "helm", "faro");
const SERVICES = ["watcher", "log-streamer", "filter", "correlator", "analyzer", "writer"] as const;

function findHelm(): string | undefined {
  const candidates = [process.env.FARO_HELM_BIN, path.join(os.homedir(), "go", "bin", "helm")];
  try {
    candidates.push(path.join(execFileSync("go", ["env", "GOPATH"], { encoding: "utf8" }).trim(), "bin", "helm"));
  } catch {
    // no Go toolchain: only PATH is left
  }
  for (const c of candidates) if (c && fs.existsSync(c)) return c;
  try {
    return execFileSync("sh", ["-c", "command -v helm"], { encoding: "utf8" }).trim() || undefined;
  } catch {
    return undefined;
  }
}

const helm = findHelm();
if (!helm) console.warn("SKIPPED helm chart tests: no helm binary (go install helm.sh/helm/v3/cmd/helm@v3.16.4)");

type Doc = { apiVersion: string; kind: string; metadata: { name: string; labels?: Record<string, string> }; [k: string]: unknown };

async function render(...sets: string[]): Promise<Doc[]> {
  const args = ["template", "faro", chart, "--namespace", "faro", ...sets.flatMap((s) => ["--set", s])];
  const { stdout } = await run(helm!, args, { timeout: 60_000 });
  return parseAllDocuments(stdout).map((d) => d.toJS() as Doc).filter((d) => d && d.kind);
}

// Loaded lazily, by package name: the chart tests are skipped without helm.
const SCHEMAS: Record<(typeof SERVICES)[number], () => Promise<Schema>> = {
  watcher: async () => (await import("@faro/watcher")).configSchema,
  "log-streamer": async () => (await import("@faro/log-streamer")).configSchema,
  filter: async () => (await import("@faro/filter")).configSchema,
  correlator: async () => (await import("@faro/correlator")).configSchema,
  writer: async () => (await import("@faro/writer")).configSchema,
  // Not a dependency of the repository root: loaded through the CLI's service registry.
  analyzer: async () => (await (await import("@faro/cli")).definitionOf("analyzer")).schema,
};

describe.skipIf(!helm)("helm chart", () => {
  let docs: Doc[];
  beforeAll(async () => {
    docs = await render();
  });

  it("passes helm lint", async () => {
    const { stdout } = await run(helm!, ["lint", chart], { timeout: 60_000 });
    expect(stdout).toMatch(/0 chart\(s\) failed/);
  });

  it("renders one probed, non-root Deployment per service running `faro run <service>`", () => {
    const deployments = docs.filter((d) => d.kind === "Deployment");
    expect(deployments.map((d) => d.metadata.labels?.["app.kubernetes.io/component"]).sort()).toEqual([...SERVICES].sort());
    for (const d of deployments) {
      const pod = (d.spec as { template: { spec: { containers: { args: string[]; readinessProbe: unknown; livenessProbe: unknown; securityContext: { readOnlyRootFilesystem: boolean } }[]; securityContext: { runAsNonRoot: boolean } } } }).template.spec;
      const c = pod.containers[0]!;
      expect(c.args.slice(0, 2)).toEqual(["run", d.metadata.labels?.["app.kubernetes.io/component"]]);
      expect(c.readinessProbe).toMatchObject({ httpGet: { path: "/readyz" } });
      expect(c.livenessProbe).toMatchObject({ httpGet: { path: "/healthz" } });
      expect(c.securityContext.readOnlyRootFilesystem).toBe(true);
      expect(pod.securityContext.runAsNonRoot).toBe(true);
    }
  });

  it("grants read-only access: get, list, watch and pods/log", () => {
    const role = docs.find((d) => d.kind === "ClusterRole")!;
    const verbs = new Set((role["rules"] as { verbs: string[] }[]).flatMap((r) => r.verbs));
    expect([...verbs].sort()).toEqual(["get", "list", "watch"]);
  });

  it("generates, for every service, a config file that its own schema accepts", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "faro-helm-"));
    for (const name of SERVICES) {
      const cm = docs.find((d) => d.kind === "ConfigMap" && d.metadata.labels?.["app.kubernetes.io/component"] === name)!;
      const file = path.join(dir, `${name}.yaml`);
      fs.writeFileSync(file, (cm["data"] as Record<string, string>)[`${name}.yaml`]!);
      const cfg = loadConfig(await SCHEMAS[name](), { file, env: {} }) as { cluster: string; http: { port: number } };
      expect(cfg.cluster).toBe("my-cluster");
      expect(cfg.http.port).toBeGreaterThan(9100);
    }
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it("adds lag-based autoscaling (KEDA) for the consumer groups and ServiceMonitors when asked", async () => {
    const more = await render("autoscaling.keda.enabled=true", "metrics.serviceMonitor.enabled=true");
    const scaled = more.filter((d) => d.kind === "ScaledObject").map((d) => (d.spec as { triggers: { metadata: { consumer: string } }[] }).triggers[0]!.metadata.consumer);
    expect(scaled.sort()).toEqual(["my-cluster_analyzer", "my-cluster_correlator", "my-cluster_filter", "my-cluster_log-streamer", "my-cluster_writer"]);
    expect(more.filter((d) => d.kind === "ServiceMonitor")).toHaveLength(SERVICES.length);
  });

  describe("applied to a Kubernetes API", () => {
    let cluster: Cluster;
    beforeAll(async () => {
      cluster = await startCluster({ speed: 20 });
    });
    afterAll(async () => {
      await cluster?.stop();
    });

    it("accepts the ServiceAccount, ConfigMaps, Deployments and Services, and runs the pods", async () => {
      const kc = new k8s.KubeConfig();
      kc.loadFromString(cluster.kubeconfig());
      const api = k8s.KubernetesObjectApi.makeApiClient(kc);
      const known = new Set(["ServiceAccount", "ConfigMap", "Deployment", "Service"]);
      for (const d of docs.filter((x) => known.has(x.kind))) {
        await api.create({ ...d, metadata: { ...d.metadata, namespace: "default" } } as k8s.KubernetesObject);
      }
      const apps = kc.makeApiClient(k8s.AppsV1Api);
      const deadline = Date.now() + 60_000;
      for (;;) {
        const list = await apps.listNamespacedDeployment({ namespace: "default" });
        const ready = list.items.filter((d) => (d.status?.readyReplicas ?? 0) === d.spec?.replicas);
        if (ready.length === SERVICES.length) break;
        if (Date.now() > deadline) throw new Error(`deployments not ready: ${list.items.map((d) => `${d.metadata?.name} ${d.status?.readyReplicas ?? 0}/${d.spec?.replicas}`).join(", ")}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    });
  });
});
