// Shared setup for the cluster-behaviour tests: a started cluster, a client-node config and polling.
import * as k8s from "@kubernetes/client-node";
import type { KubeObject } from "../src/index.js";
import type { Cluster } from "../src/index.js";
import { until } from "@faro/test-harness";

export function kubeConfigFor(c: Cluster): k8s.KubeConfig {
  const kc = new k8s.KubeConfig();
  kc.loadFromString(c.kubeconfig());
  return kc;
}

export { until };

export function deployment(name: string, opts: { replicas?: number; image?: string; annotations?: Record<string, string>; ns?: string; podSpec?: Record<string, unknown> } = {}) {
  return {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name, namespace: opts.ns ?? "default", labels: { app: name } },
    spec: {
      replicas: opts.replicas ?? 1,
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name }, annotations: opts.annotations ?? {} },
        spec: { containers: [{ name: "app", image: opts.image ?? "sim/app:1.0" }], ...(opts.podSpec ?? {}) },
      },
    },
  };
}

export function podsOf(c: Cluster, prefix: string, ns = "default"): KubeObject[] {
  return c.store.list(c.store.typeFor("", "pods")!, ns).filter((p) => p.metadata.name.startsWith(prefix + "-"));
}

export function eventsFor(c: Cluster, name: string, reason?: string, ns = "default"): KubeObject[] {
  return c.store
    .list(c.store.typeFor("", "events")!, ns)
    .filter((e) => (e.involvedObject as { name: string }).name === name && (reason === undefined || e.reason === reason));
}

type CS = { name: string; restartCount: number; state: Record<string, Record<string, unknown>>; lastState: Record<string, Record<string, unknown>>; ready: boolean };
export function containerStatus(p: KubeObject | undefined, name = "app"): CS | undefined {
  return ((p?.status as { containerStatuses?: CS[] } | undefined)?.containerStatuses ?? []).find((c) => c.name === name);
}
