// A whole simulated cluster in one call: store + API server + controllers + scheduler + kubelet +
// log store + ground truth on one simulated clock, with a kubeconfig for real clients.
import fs from "node:fs";
import { createApiServer, createStore, type ApiServer, type SimStore } from "./api.js";
import { createClock } from "./clock.js";
import { startControllers } from "./controllers/index.js";
import { createEventRecorder } from "./controllers/events.js";
import { createNodes, type NodeSpec } from "./controllers/nodes.js";
import { createGroundTruth, type GroundTruth } from "./ground-truth.js";
import { createBehaviorRegistry, type BehaviorRegistry } from "./kubelet/behavior.js";
import { createKubelet, type Kubelet } from "./kubelet/kubelet.js";
import { createLogStore, type LogStore } from "./logs/log-store.js";
import { loadScenario, type LoadParams, type Scenario } from "./scenario/format.js";
import { ensureNamespace, runScenario, type ScenarioRun } from "./scenario/runner.js";
import type { SimClock } from "./types.js";

export interface ClusterOptions {
  /** API port (0 = any free port). */
  port?: number;
  host?: string;
  /** URL written into kubeconfigs when clients reach the server by another name (containers: http://kube-sim:6443). */
  advertiseUrl?: string;
  /** Simulated seconds per wall second; defaults to the scenario's speed, else 1. */
  speed?: number;
  /** Simulated start time (default now). */
  start?: number | string | Date;
  /** Built-in scenario name, scenario file path, or a parsed Scenario; started once the cluster is up. */
  scenario?: string | Scenario;
  /** Parameters of the built-in `load` scenario. */
  loadParams?: LoadParams;
  /** Node count or node specs (default 3: sim-node-1..3). */
  nodes?: number | NodeSpec[];
  /** Watch history retained by the store (default: the store's). */
  historySize?: number;
  /** Log lines kept per container instance (default 10,000). */
  maxLogLinesPerInstance?: number;
  /** Record log lines in the ground truth (default true). */
  truthLines?: boolean;
}

export interface Cluster {
  url: string;
  store: SimStore;
  clock: SimClock;
  truth: GroundTruth;
  server: ApiServer;
  logs: LogStore;
  kubelet: Kubelet;
  behaviors: BehaviorRegistry;
  /** The scenario started by `startCluster({ scenario })`, if any. */
  scenarioRun?: ScenarioRun;
  /** kubeconfig YAML pointing at this cluster (context `kube-sim`, namespace default). */
  kubeconfig(namespace?: string): string;
  writeKubeconfig(path: string, namespace?: string): void;
  /**
   * kubeconfig YAML that authenticates as the service account `namespace/name` (created if missing):
   * RBAC from the Roles, ClusterRoles and bindings in the store applies to it.
   */
  serviceAccountKubeconfig(namespace: string, name: string): string;
  runScenario(s: string | Scenario, params?: LoadParams): ScenarioRun;
  stop(): Promise<void>;
}

export async function startCluster(opts: ClusterOptions = {}): Promise<Cluster> {
  const scenario = typeof opts.scenario === "string" ? loadScenario(opts.scenario, opts.loadParams) : opts.scenario;
  const clock = createClock({ speed: opts.speed ?? scenario?.speed ?? 1, start: opts.start });
  const store = createStore({ now: () => clock.isoNow(), historySize: opts.historySize });
  const truth = createGroundTruth({ store, clock, lines: opts.truthLines ?? true });
  const logs = createLogStore({ store, clock, maxLinesPerInstance: opts.maxLogLinesPerInstance, onLines: opts.truthLines === false ? undefined : (r) => truth.recordLines(r) });
  const events = createEventRecorder(store, clock);
  const behaviors = createBehaviorRegistry();
  for (const ns of ["default", "kube-system", "kube-public", "kube-node-lease"]) ensureNamespace(store, ns);
  createNodes(store, clock, opts.nodes ?? 3);
  const controllers = startControllers(store, clock, events);
  const kubelet = createKubelet({ store, clock, events, logs, behaviors });
  const server = await createApiServer({ store, logs, port: opts.port ?? 0, host: opts.host ?? "127.0.0.1", now: () => clock.now() });
  const runs: ScenarioRun[] = [];
  let stopped = false;

  const kubeconfig = (namespace = "default", token = "kube-sim", user = "kube-sim", server_ = opts.advertiseUrl ?? server.url) =>
    [
      "apiVersion: v1",
      "kind: Config",
      "clusters:",
      "- name: kube-sim",
      "  cluster:",
      `    server: ${server_}`,
      "    insecure-skip-tls-verify: true",
      "contexts:",
      "- name: kube-sim",
      "  context:",
      "    cluster: kube-sim",
      `    user: ${user}`,
      `    namespace: ${namespace}`,
      "current-context: kube-sim",
      "users:",
      `- name: ${user}`,
      "  user:",
      `    token: ${token}`,
      "",
    ].join("\n");

  const cluster: Cluster = {
    url: server.url,
    store,
    clock,
    truth,
    server,
    logs,
    kubelet,
    behaviors,
    kubeconfig: (namespace?: string) => kubeconfig(namespace),
    serviceAccountKubeconfig(namespace, name) {
      ensureNamespace(store, namespace);
      const saType = store.typeFor("", "serviceaccounts")!;
      if (!store.get(saType, namespace, name)) store.create(saType, { apiVersion: "v1", kind: "ServiceAccount", metadata: { name, namespace } });
      const url = opts.advertiseUrl ? opts.advertiseUrl.replace(/^http:/, "https:") : server.httpsUrl;
      return kubeconfig(namespace, server.serviceAccountToken(namespace, name), `system:serviceaccount:${namespace}:${name}`, url);
    },
    writeKubeconfig(path, namespace) {
      const tmp = `${path}.tmp-${process.pid}`;
      fs.writeFileSync(tmp, kubeconfig(namespace), { mode: 0o600 });
      fs.renameSync(tmp, path);
    },
    runScenario(s, params) {
      const sc = typeof s === "string" ? loadScenario(s, params) : s;
      const run = runScenario({ store, clock, kubelet, behaviors }, sc);
      runs.push(run);
      return run;
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      for (const r of runs) r.stop();
      controllers.stop();
      kubelet.stop();
      logs.stop();
      truth.stop();
      clock.stop();
      await server.close();
    },
  };
  if (scenario) cluster.scenarioRun = cluster.runScenario(scenario);
  return cluster;
}
