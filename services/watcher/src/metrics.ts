// The watcher's own Prometheus metrics (next to the service contract's faro_* ones and @faro/kube's watch metrics).
import { counter, gauge, type Counter, type Gauge, type Registry } from "@faro/observability";

export interface WatcherMetrics {
  resourcesWatched: Gauge;
  resourcesSynced: Gauge;
  published: Counter<"resource" | "type">;
  duplicates: Counter<"resource">;
  filtered: Counter<"resource">;
  publishErrors: Counter<"resource" | "kind">;
  watchResets: Counter<"resource" | "reason">;
  discoveryRefreshes: Counter<"trigger" | "result">;
  stateWrites: Counter<"result">;
  statePending: Gauge;
  inflight: Gauge;
  labelEvictions: Counter;
}

export function watcherMetrics(registry: Registry): WatcherMetrics {
  return {
    resourcesWatched: gauge(registry, { name: "faro_watcher_resources_watched", help: "Resource types with a running list+watch (one cluster-wide watch each)." }),
    resourcesSynced: gauge(registry, { name: "faro_watcher_resources_synced", help: "Resource types whose initial list has been delivered." }),
    published: counter(registry, {
      name: "faro_watcher_changes_published_total",
      help: "Changes acked by JetStream, by resource (`pods`, `deployments.apps`, `events`) and type (ADDED, MODIFIED, DELETED).",
      labelNames: ["resource", "type"],
    }),
    duplicates: counter(registry, {
      name: "faro_watcher_publish_duplicates_total",
      help: "Publishes JetStream dropped as duplicates of a message id already stored (another replica, or a re-publish after a restart).",
      labelNames: ["resource"],
    }),
    filtered: counter(registry, {
      name: "faro_watcher_changes_filtered_total",
      help: "Changes received but not published because their namespace or resource type is not selected.",
      labelNames: ["resource"],
    }),
    publishErrors: counter(registry, {
      name: "faro_watcher_publish_errors_total",
      help: "Publishes that failed for good, by kind: rejected (dropped, e.g. too large) or gave_up (retries exhausted; the watch restarts from Redis).",
      labelNames: ["resource", "kind"],
    }),
    watchResets: counter(registry, {
      name: "faro_watcher_watch_resets_total",
      help: "Watches the watcher itself restarted from the acked state in Redis, by reason.",
      labelNames: ["resource", "reason"],
    }),
    discoveryRefreshes: counter(registry, {
      name: "faro_watcher_discovery_refreshes_total",
      help: "API discovery refreshes, by trigger (start, interval, crd) and result (ok, error).",
      labelNames: ["trigger", "result"],
    }),
    stateWrites: counter(registry, {
      name: "faro_watcher_state_writes_total",
      help: "Pipelined writes of acked resourceVersions to Redis, by result.",
      labelNames: ["result"],
    }),
    statePending: gauge(registry, { name: "faro_watcher_state_pending", help: "Acked changes not yet written to Redis." }),
    inflight: gauge(registry, { name: "faro_watcher_publish_inflight", help: "Publishes awaiting their JetStream ack." }),
    labelEvictions: counter(registry, {
      name: "faro_watcher_label_memory_evictions_total",
      help: "Objects forgotten by the label memory because it was full (events.labelMemory): Events about them travel without involvedLabels.",
    }),
  };
}
