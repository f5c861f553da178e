// The forwarder's own metrics (faro_forwarder_*), per sink, next to the standard service metrics.
import { counter, gauge, histogram, type Counter, type Gauge, type Histogram, type Registry } from "@faro/observability";

export interface ForwarderMetrics {
  delivered: Counter<"sink" | "event">;
  retried: Counter<"sink" | "kind">;
  failed: Counter<"sink" | "kind">;
  deadLettered: Counter<"sink" | "reason">;
  silenced: Counter<"sink" | "silence">;
  unrouted: Counter<"sink">;
  rateLimitedSeconds: Counter<"sink">;
  attemptSeconds: Histogram<"sink" | "outcome">;
  latencySeconds: Histogram<"sink">;
  connected: Gauge<"sink">;
}

export function forwarderMetrics(registry: Registry): ForwarderMetrics {
  return {
    delivered: counter(registry, { name: "faro_forwarder_delivered_total", help: "Incidents (and insights) the sink's receiver accepted, by event (opened, updated, insight).", labelNames: ["sink", "event"] }),
    retried: counter(registry, { name: "faro_forwarder_retried_total", help: "Attempts that failed and were retried, by kind (http_503, UNAVAILABLE, timeout, retry_after, …).", labelNames: ["sink", "kind"] }),
    failed: counter(registry, { name: "faro_forwarder_failed_total", help: "Failed delivery attempts, by kind.", labelNames: ["sink", "kind"] }),
    deadLettered: counter(registry, { name: "faro_forwarder_dead_lettered_total", help: "Incidents dead-lettered, by reason (permanent error, max deliveries exceeded).", labelNames: ["sink", "reason"] }),
    silenced: counter(registry, { name: "faro_forwarder_silenced_total", help: "Incidents not delivered because a silence matched.", labelNames: ["sink", "silence"] }),
    unrouted: counter(registry, { name: "faro_forwarder_unrouted_total", help: "Incidents no route sends to the sink (acked, not delivered).", labelNames: ["sink"] }),
    rateLimitedSeconds: counter(registry, { name: "faro_forwarder_rate_limited_seconds_total", help: "Time deliveries waited for the client-side rate limit or a receiver's Retry-After.", labelNames: ["sink"] }),
    attemptSeconds: histogram(registry, {
      name: "faro_forwarder_attempt_seconds",
      help: "Duration of one delivery attempt, by outcome (accepted, retry, permanent).",
      labelNames: ["sink", "outcome"],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    }),
    latencySeconds: histogram(registry, {
      name: "faro_forwarder_delivery_latency_seconds",
      help: "From the incident's detection (detected_at) to the receiver's acceptance.",
      labelNames: ["sink"],
      buckets: [0.01, 0.025, 0.05, 0.1, 0.15, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300],
    }),
    connected: gauge(registry, { name: "faro_forwarder_grpc_connected", help: "1 while a gRPC sink's stream to its receiver is open.", labelNames: ["sink"] }),
  };
}
