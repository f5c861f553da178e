// Prometheus metrics of the Kubernetes access layer, created once per registry and shared by every
// watch registered on it.
import { Counter, Gauge, type Registry } from "prom-client";

export interface KubeMetrics {
  watchesActive: Gauge<"resource">;
  relists: Counter<"resource" | "reason">;
  watchRestarts: Counter<"resource" | "reason">;
  watchEvents: Counter<"resource" | "type">;
}

const cache = new WeakMap<Registry, KubeMetrics>();

function getOrCreate<T>(registry: Registry, name: string, make: () => T): T {
  return (registry.getSingleMetric(name) as T | undefined) ?? make();
}

export function kubeMetrics(registry: Registry): KubeMetrics {
  const hit = cache.get(registry);
  if (hit) return hit;
  const registers = [registry];
  const m: KubeMetrics = {
    watchesActive: getOrCreate(registry, "faro_kube_watches_active", () =>
      new Gauge({ name: "faro_kube_watches_active", help: "Watch requests currently open, by resource.", labelNames: ["resource"], registers }),
    ),
    relists: getOrCreate(registry, "faro_kube_relists_total", () =>
      new Counter({ name: "faro_kube_relists_total", help: "Full lists, by resource and reason (initial, expired, error).", labelNames: ["resource", "reason"], registers }),
    ),
    watchRestarts: getOrCreate(registry, "faro_kube_watch_restarts_total", () =>
      new Counter({ name: "faro_kube_watch_restarts_total", help: "Watch re-establishments, by resource and reason (closed, error, watchdog, expired, handler).", labelNames: ["resource", "reason"], registers }),
    ),
    watchEvents: getOrCreate(registry, "faro_kube_watch_events_total", () =>
      new Counter({ name: "faro_kube_watch_events_total", help: "Events delivered to the handler, by resource and type (ADDED, MODIFIED, DELETED, BOOKMARK).", labelNames: ["resource", "type"], registers }),
    ),
  };
  cache.set(registry, m);
  return m;
}
