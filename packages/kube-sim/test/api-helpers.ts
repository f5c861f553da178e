// Shared setup for the API-server tests: a store + HTTP server and a client-node KubeConfig pointing at it.
import * as k8s from "@kubernetes/client-node";
import { createApiServer, createStore, type ApiServer, type SimStore, type StoreOptions } from "../src/api.js";
import type { LogProvider } from "../src/types.js";
import { until } from "@faro/test-harness";

export interface Sim {
  store: SimStore;
  server: ApiServer;
  kc: k8s.KubeConfig;
  stop(): Promise<void>;
}

export async function startSim(opts: StoreOptions & { bookmarkIntervalMs?: number; logs?: LogProvider } = {}): Promise<Sim> {
  const store = createStore(opts);
  const nsType = store.typeFor("", "namespaces")!;
  store.create(nsType, { apiVersion: "v1", kind: "Namespace", metadata: { name: "default" } });
  const server = await createApiServer({ store, logs: opts.logs, port: 0, bookmarkIntervalMs: opts.bookmarkIntervalMs });
  const kc = new k8s.KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: "sim", server: server.url, skipTLSVerify: true }],
    users: [{ name: "sim" }],
    contexts: [{ name: "sim", cluster: "sim", user: "sim", namespace: "default" }],
    currentContext: "sim",
  });
  return { store, server, kc, stop: () => server.close() };
}

export { until };

export function pod(name: string, labels: Record<string, string> = {}, extra: Partial<k8s.V1Pod> = {}): k8s.V1Pod {
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name, namespace: "default", labels },
    spec: { containers: [{ name: "app", image: "busybox" }] },
    ...extra,
  };
}

/** Status code of a client-node ApiException (or undefined). */
export function codeOf(err: unknown): number | undefined {
  return (err as { code?: number }).code;
}
