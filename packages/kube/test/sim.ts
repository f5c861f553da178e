// Test helper: starts the kube-sim API server (startCluster when exported, else createStore +
// createApiServer) and builds a KubeConfig for it; reports when the simulator is not usable yet.
import * as k8s from "@kubernetes/client-node";
import { until } from "@faro/test-harness";

/** The parts of kube-sim's store these tests use. */
export interface SimObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; uid: string; resourceVersion: string; [k: string]: unknown };
  [k: string]: unknown;
}
export interface SimType {
  group: string;
  resource: string;
}
export interface SimStore {
  typeFor(group: string, resource: string): SimType | undefined;
  get(type: SimType, namespace: string | undefined, name: string): SimObject | undefined;
  list(type: SimType, namespace?: string): SimObject[];
  create(type: SimType, obj: unknown): SimObject;
  update(type: SimType, obj: SimObject): SimObject;
  delete(type: SimType, namespace: string | undefined, name: string, opts?: unknown): SimObject;
  subscribe(fn: (ev: { type: string; object: SimObject; resource: SimType; rv: number }) => void): () => void;
}
interface SimServer {
  url: string;
  close(): Promise<void>;
  forceCloseWatches(): void;
  watchCount(): number;
}
interface SimCluster {
  url: string;
  store: SimStore;
  server: { forceCloseWatches(): void };
  stop(): Promise<void>;
}
interface SimModule {
  startCluster?: (opts?: Record<string, unknown>) => Promise<SimCluster>;
  createStore?: (opts?: { historySize?: number }) => SimStore;
  createApiServer?: (opts: { store: SimStore; logs: undefined; bookmarkIntervalMs?: number }) => Promise<SimServer>;
}

const mod = (await import("@faro/kube-sim")) as unknown as SimModule;

/** True when the simulator exports an API server these tests can start. */
export const simAvailable = typeof mod.createStore === "function" && typeof mod.createApiServer === "function";
/** True when the whole simulated cluster (kubelet, logs) can be started. */
export const clusterAvailable = typeof mod.startCluster === "function";

export function kubeConfigFor(url: string): k8s.KubeConfig {
  const kc = new k8s.KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: "sim", server: url, skipTLSVerify: true }],
    users: [{ name: "sim" }],
    contexts: [{ name: "sim", cluster: "sim", user: "sim" }],
    currentContext: "sim",
  });
  return kc;
}

export interface Sim {
  url: string;
  kc: k8s.KubeConfig;
  store: SimStore;
  forceCloseWatches(): void;
  stop(): Promise<void>;
}

/** An API server over a fresh store (no kubelet, no controllers): the cluster is what the test writes. */
export async function startApiServer(opts: { historySize?: number } = {}): Promise<Sim> {
  const store = mod.createStore!({ historySize: opts.historySize });
  const server = await mod.createApiServer!({ store, logs: undefined });
  return {
    url: server.url,
    kc: kubeConfigFor(server.url),
    store,
    forceCloseWatches: () => server.forceCloseWatches(),
    stop: () => server.close(),
  };
}

export { until };

export function configMap(namespace: string, name: string, data: Record<string, string> = {}): unknown {
  return { apiVersion: "v1", kind: "ConfigMap", metadata: { name, namespace }, data };
}

export async function startFullCluster(opts: Record<string, unknown> = {}): Promise<SimCluster & { kc: k8s.KubeConfig }> {
  const c = await mod.startCluster!(opts);
  return Object.assign(c, { kc: kubeConfigFor(c.url) });
}
