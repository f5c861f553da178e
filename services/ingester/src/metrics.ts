// The ingester's own metrics (faro_ingester_*), next to the standard service metrics on the same registry.
import { counter, gauge, type Counter, type Gauge, type Registry } from "@faro/observability";

export interface IngesterMetrics {
  requests: Counter<"endpoint" | "code">;
  alerts: Counter<"format" | "priority">;
  maxBodyBytes: Gauge;
  enabled: Gauge;
}

export function ingesterMetrics(registry: Registry): IngesterMetrics {
  return {
    requests: counter(registry, { name: "faro_ingester_requests_total", help: "HTTP requests on the ingest endpoint, by endpoint and status code.", labelNames: ["endpoint", "code"] }),
    alerts: counter(registry, { name: "faro_ingester_alerts_total", help: "Alerts validated and published, by payload format and Falco priority.", labelNames: ["format", "priority"] }),
    maxBodyBytes: gauge(registry, { name: "faro_ingester_max_body_bytes", help: "The request body bound (ingest.maxBodyBytes)." }),
    enabled: gauge(registry, { name: "faro_ingester_enabled", help: "1 while the ingest endpoint is open (a token is configured), else 0." }),
  };
}
