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

  it("generates the ClusterRole from the watcher's resource set: no wildcard, no Secrets unless asked", async () => {
    const grants = (all: Doc[]) => {
      const rules = all.find((d) => d.kind === "ClusterRole")!["rules"] as { apiGroups: string[]; resources: string[] }[];
      return new Set(rules.flatMap((r) => r.apiGroups.flatMap((g) => r.resources.map((res) => (g ? `${res}.${g}` : res)))));
    };
    const watched = (all: Doc[]) => {
      const cm = all.find((d) => d.kind === "ConfigMap" && d.metadata.labels?.["app.kubernetes.io/component"] === "watcher")!;
      return (parseAllDocuments((cm["data"] as Record<string, string>)["watcher.yaml"]!)[0]!.toJS() as { resources: string[] }).resources;
    };
    const byDefault = grants(docs);
    expect([...byDefault].some((g) => g.includes("*"))).toBe(false);
    expect(byDefault.has("secrets")).toBe(false);
    // Every type the watcher is configured to watch is granted, plus Events, CRDs (discovery) and pod logs.
    for (const r of watched(docs)) expect(byDefault.has(r), r).toBe(true);
    for (const r of ["events", "events.events.k8s.io", "customresourcedefinitions.apiextensions.k8s.io", "pods/log"]) expect(byDefault.has(r), r).toBe(true);

    // The watcher's own list (and its scopes) drives both: a CRD named there is granted, the defaults are not.
    const custom = await render(
      "services.watcher.config.resources={pods,widgets.example.com}",
      "services.watcher.config.scopes[0].namespaces={team-a}",
      "services.watcher.config.scopes[0].resources={cronjobs.batch}",
      "services.correlator.config.api.enabled=false",
    );
    expect(watched(custom)).toEqual(["pods", "widgets.example.com"]);
    const g = grants(custom);
    expect(g.has("widgets.example.com")).toBe(true);
    expect(g.has("cronjobs.batch")).toBe(true);
    expect(g.has("configmaps")).toBe(false);
    expect(g.has("deployments.apps")).toBe(false);

    // Secrets: refused when named without rbac.secrets, granted (and watched) with it; `*` only with it too.
    await expect(render("rbac.resources={pods,secrets}")).rejects.toThrow(/rbac\.secrets/);
    await expect(render("rbac.resources={*}")).rejects.toThrow(/Secrets included/);
    const withSecrets = await render("rbac.secrets=true");
    expect(grants(withSecrets).has("secrets")).toBe(true);
    expect(watched(withSecrets)).toContain("secrets");
    expect(grants(await render("rbac.resources={*}", "rbac.secrets=true")).has("*.*")).toBe(true);
  });

  it("validates values against values.schema.json (a wrong type fails lint and render, naming the field)", async () => {
    const err = await run(helm!, ["lint", chart, "--set", "rbac.secrets=yes"], { timeout: 60_000 }).catch((e: { stdout: string }) => e);
    expect((err as { stdout: string }).stdout).toMatch(/rbac\.secrets: Invalid type\. Expected: boolean/);
    await expect(render("networkPolicy.nats.ports={0}")).rejects.toThrow(/networkPolicy\.nats\.ports\.0/);
    await expect(render("topologySpread.whenUnsatisfiable=Sometimes")).rejects.toThrow(/whenUnsatisfiable/);
  });

  it("renders a PodDisruptionBudget and topology spread for every service", () => {
    const deployments = docs.filter((d) => d.kind === "Deployment");
    const pdbs = docs.filter((d) => d.kind === "PodDisruptionBudget");
    expect(pdbs.map((d) => d.metadata.labels?.["app.kubernetes.io/component"]).sort()).toEqual([...SERVICES].sort());
    for (const p of pdbs) {
      const spec = p.spec as { maxUnavailable: number; selector: { matchLabels: Record<string, string> } };
      expect(spec.maxUnavailable).toBe(1);
      const target = deployments.find((d) => d.metadata.labels?.["app.kubernetes.io/component"] === p.metadata.labels?.["app.kubernetes.io/component"])!;
      expect(spec.selector).toEqual((target.spec as { selector: unknown }).selector);
    }
    for (const d of deployments) {
      const pod = (d.spec as { template: { spec: { topologySpreadConstraints: { topologyKey: string; labelSelector: { matchLabels: Record<string, string> } }[] } } }).template.spec;
      expect(pod.topologySpreadConstraints.map((t) => t.topologyKey)).toEqual(["topology.kubernetes.io/zone", "kubernetes.io/hostname"]);
      expect(pod.topologySpreadConstraints[0]!.labelSelector.matchLabels["app.kubernetes.io/component"]).toBe(d.metadata.labels?.["app.kubernetes.io/component"]);
    }
  });

  it("renders a NetworkPolicy per service: egress to DNS, NATS, Redis (and the API server where read), ingress to metrics and the enabled listeners", async () => {
    type Port = { protocol: string; port: number };
    type Policy = { podSelector: { matchLabels: Record<string, string> }; ingress: { ports: Port[] }[]; egress: { ports?: Port[]; to?: unknown[] }[] };
    const all = await render("services.ingester.enabled=true", "services.writer.config.admin.enabled=true", "services.writer.adminTokenSecret=admin", "networkPolicy.nats.to[0].ipBlock.cidr=10.1.0.0/16");
    const policies = new Map(all.filter((d) => d.kind === "NetworkPolicy").map((d) => [d.metadata.labels!["app.kubernetes.io/component"]!, d.spec as Policy]));
    expect([...policies.keys()].sort()).toEqual([...SERVICES, "ingester"].sort());
    const ports = (rules: { ports?: Port[] }[]) => rules.flatMap((r) => (r.ports ?? []).map((p) => `${p.protocol}/${p.port}`)).sort();
    for (const [name, p] of policies) {
      const deployment = all.find((d) => d.kind === "Deployment" && d.metadata.labels?.["app.kubernetes.io/component"] === name)!;
      const kube = (deployment.spec as { template: { spec: { automountServiceAccountToken: boolean } } }).template.spec.automountServiceAccountToken;
      expect(p.podSelector.matchLabels["app.kubernetes.io/component"]).toBe(name);
      expect(ports(p.egress), name).toEqual(["TCP/4222", "TCP/53", "TCP/6379", "TCP/26379", "UDP/53", ...(kube ? ["TCP/443", "TCP/6443"] : [])].sort());
      expect(p.egress.find((r) => r.ports?.some((x) => x.port === 4222))!.to).toEqual([{ ipBlock: { cidr: "10.1.0.0/16" } }]);
      const extra = name === "ingester" ? ["TCP/9110"] : name === "writer" ? ["TCP/9115"] : [];
      const port = (deployment.spec as { template: { spec: { containers: { ports: { name: string; containerPort: number }[] }[] } } }).template.spec.containers[0]!.ports.find((x) => x.name === "http")!.containerPort;
      expect(ports(p.ingress), name).toEqual([`TCP/${port}`, ...extra].sort());
    }
  });

  it("ships the alerts and the dashboard as optional templates (the same files as deploy/prometheus and deploy/grafana)", async () => {
    expect(docs.some((d) => d.kind === "PrometheusRule")).toBe(false);
    const more = await render("monitoring.prometheusRule.enabled=true", "monitoring.grafanaDashboard.enabled=true");
    const rule = more.find((d) => d.kind === "PrometheusRule")!;
    const file = parseAllDocuments(fs.readFileSync(path.join(root, "deploy", "prometheus", "faro-rules.yaml"), "utf8"))[0]!.toJS();
    expect(rule.spec).toEqual(file);
    const dashboard = more.find((d) => d.kind === "ConfigMap" && d.metadata.name.endsWith("-dashboard"))!;
    expect(dashboard.metadata.labels?.["grafana_dashboard"]).toBe("1");
    expect(JSON.parse((dashboard["data"] as Record<string, string>)["faro-pipeline.json"]!)).toEqual(JSON.parse(fs.readFileSync(path.join(root, "deploy", "grafana", "faro-dashboard.json"), "utf8")));
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

    it("installs with `helm install`: every rendered kind is in the API's OpenAPI documents, the objects are stored, NOTES tell the truth", async () => {
      const kc = new k8s.KubeConfig();
      kc.loadFromString(cluster.kubeconfig());
      const api = k8s.KubernetesObjectApi.makeApiClient(kc);
      // PodDisruptionBudget and NetworkPolicy are built in on a real API server but not served by the simulator; the
      // PrometheusRule is the Prometheus Operator's CRD. Registered as CRDs so discovery and OpenAPI list them.
      const crd = (group: string, plural: string, kind: string) => ({
        apiVersion: "apiextensions.k8s.io/v1",
        kind: "CustomResourceDefinition",
        metadata: { name: `${plural}.${group}` },
        spec: { group, scope: "Namespaced", names: { plural, singular: kind.toLowerCase(), kind }, versions: [{ name: "v1", served: true, storage: true, schema: { openAPIV3Schema: { type: "object", "x-kubernetes-preserve-unknown-fields": true } } }] },
      });
      for (const c of [crd("policy", "poddisruptionbudgets", "PodDisruptionBudget"), crd("networking.k8s.io", "networkpolicies", "NetworkPolicy"), crd("monitoring.coreos.com", "prometheusrules", "PrometheusRule")]) {
        await api.create(c as k8s.KubernetesObject);
      }
      await api.create({ apiVersion: "v1", kind: "Namespace", metadata: { name: "faro" } } as k8s.KubernetesObject);
      const sets = ["monitoring.prometheusRule.enabled=true", "monitoring.grafanaDashboard.enabled=true", "services.ingester.enabled=true"];
      const objects = await render(...sets);

      // Each object's group/version/kind appears in the simulator's /openapi/v3 documents (what kubectl validates against).
      const server = kc.getCurrentCluster()!.server;
      const headers = { authorization: `Bearer ${kc.getCurrentUser()!.token}` };
      const index = (await (await fetch(`${server}/openapi/v3`, { headers })).json()) as { paths: Record<string, { serverRelativeURL: string }> };
      const served = new Set<string>();
      for (const entry of Object.values(index.paths)) {
        const doc = (await (await fetch(`${server}${entry.serverRelativeURL}`, { headers })).json()) as { paths: Record<string, Record<string, { "x-kubernetes-group-version-kind"?: { group: string; version: string; kind: string } }>> };
        for (const ops of Object.values(doc.paths)) for (const op of Object.values(ops)) {
          const gvk = op["x-kubernetes-group-version-kind"];
          if (gvk) served.add(`${gvk.group ? `${gvk.group}/` : ""}${gvk.version} ${gvk.kind}`);
        }
      }
      for (const o of objects) expect(served.has(`${o.apiVersion} ${o.kind}`), `${o.apiVersion} ${o.kind} (${o.metadata.name})`).toBe(true);

      const dir = fs.mkdtempSync(path.join(os.tmpdir(), "faro-helm-install-"));
      try {
        const kubeconfig = path.join(dir, "kubeconfig");
        cluster.writeKubeconfig(kubeconfig);
        const { stdout } = await run(helm!, ["install", "faro", chart, "--namespace", "faro", "--kubeconfig", kubeconfig, ...sets.flatMap((s) => ["--set", s])], { timeout: 60_000 });
        expect(stdout).toMatch(/STATUS: deployed/);
        expect(stdout).toContain("Enabled services: analyzer(1) correlator(2) filter(2) ingester(2) log-streamer(2) watcher(2) writer(1)");
        expect(stdout).toContain("Secrets: not granted");
        expect(stdout).toContain("this chart installs neither");
        expect(stdout).toContain("faro tail --stage incident --cluster my-cluster --nats nats://nats.nats.svc:4222");
        for (const o of objects) {
          const namespaced = !["ClusterRole", "ClusterRoleBinding"].includes(o.kind);
          const stored = await api.read({ apiVersion: o.apiVersion, kind: o.kind, metadata: { name: o.metadata.name, ...(namespaced ? { namespace: "faro" } : {}) } });
          expect(stored.metadata?.labels?.["app.kubernetes.io/instance"], `${o.kind} ${o.metadata.name}`).toBe("faro");
        }
        const role = (await api.read({ apiVersion: "rbac.authorization.k8s.io/v1", kind: "ClusterRole", metadata: { name: "faro-read" } })) as k8s.V1ClusterRole;
        expect(role.rules).toEqual(objects.find((o) => o.kind === "ClusterRole")!["rules"]);
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    });
  });
});
