// Prometheus metrics of the bus, created once per prom-client Registry so several bus objects can share one.
import { Counter, Gauge, Histogram, Registry } from "prom-client";

export interface BusMetrics {
  readonly registry: Registry;
  connected: Gauge<"connection">;
  reconnects: Counter<"connection">;
  published: Counter<"stream">;
  publishDuplicates: Counter<"stream">;
  publishErrors: Counter<"kind">;
  publishRetries: Counter;
  publishInflight: Gauge<"publisher">;
  publishWindow: Gauge<"publisher">;
  consumed: Counter<"consumer">;
  acked: Counter<"consumer">;
  naked: Counter<"consumer">;
  termed: Counter<"consumer">;
  deadLettered: Counter<"consumer" | "reason">;
  deadLetterErrors: Counter<"consumer">;
  handlerSeconds: Histogram<"consumer" | "outcome">;
  inflight: Gauge<"consumer">;
  pending: Gauge<"consumer">;
  consumerRestarts: Counter<"consumer" | "reason">;
}

const cache = new WeakMap<Registry, BusMetrics>();

function counter<L extends string>(registry: Registry, name: string, help: string, labelNames: L[]): Counter<L> {
  // Reuse a metric someone else registered under the same name instead of throwing on double registration.
  const existing = registry.getSingleMetric(name);
  if (existing) return existing as Counter<L>;
  return new Counter<L>({ name, help, labelNames, registers: [registry] });
}

function gauge<L extends string>(registry: Registry, name: string, help: string, labelNames: L[]): Gauge<L> {
  const existing = registry.getSingleMetric(name);
  if (existing) return existing as Gauge<L>;
  return new Gauge<L>({ name, help, labelNames, registers: [registry] });
}

function histogram<L extends string>(
  registry: Registry,
  name: string,
  help: string,
  labelNames: L[],
  buckets: number[],
): Histogram<L> {
  const existing = registry.getSingleMetric(name);
  if (existing) return existing as Histogram<L>;
  return new Histogram<L>({ name, help, labelNames, buckets, registers: [registry] });
}

/** The bus metrics registered on `registry` (a fresh private Registry when none is given). */
export function busMetrics(registry: Registry = new Registry()): BusMetrics {
  const hit = cache.get(registry);
  if (hit) return hit;
  const m: BusMetrics = {
    registry,
    connected: gauge(registry, "faro_bus_connected", "1 while the NATS connection is up, 0 otherwise", ["connection"]),
    reconnects: counter(registry, "faro_bus_reconnects_total", "NATS reconnections", ["connection"]),
    published: counter(registry, "faro_bus_published_total", "Messages stored by JetStream (PubAck received)", ["stream"]),
    publishDuplicates: counter(
      registry,
      "faro_bus_publish_duplicates_total",
      "Publishes JetStream reported as duplicates of an earlier Nats-Msg-Id",
      ["stream"],
    ),
    publishErrors: counter(
      registry,
      "faro_bus_publish_errors_total",
      "Publishes that failed for good (kind=fatal) or failed one attempt and were retried (kind=transient)",
      ["kind"],
    ),
    publishRetries: counter(registry, "faro_bus_publish_retries_total", "Publish attempts repeated after a transient error", []),
    publishInflight: gauge(registry, "faro_bus_publish_inflight", "Publishes awaiting their PubAck", ["publisher"]),
    publishWindow: gauge(registry, "faro_bus_publish_window", "Bound on publishes awaiting their PubAck", ["publisher"]),
    consumed: counter(registry, "faro_bus_consumed_total", "Messages received by a consumer group", ["consumer"]),
    acked: counter(registry, "faro_bus_acked_total", "Messages acked after their handler succeeded", ["consumer"]),
    naked: counter(registry, "faro_bus_naked_total", "Messages nak'ed for redelivery", ["consumer"]),
    termed: counter(registry, "faro_bus_termed_total", "Messages term()'ed after being dead-lettered", ["consumer"]),
    deadLettered: counter(
      registry,
      "faro_bus_dead_lettered_total",
      "Messages published to the dead-letter subject, by reason (poison, max_deliveries)",
      ["consumer", "reason"],
    ),
    deadLetterErrors: counter(
      registry,
      "faro_bus_dead_letter_errors_total",
      "Dead-letter publishes that failed (the message was nak'ed or left in the stream)",
      ["consumer"],
    ),
    handlerSeconds: histogram(
      registry,
      "faro_bus_handler_seconds",
      "Handler duration by outcome (ack, nak, dead_letter)",
      ["consumer", "outcome"],
      [0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 30],
    ),
    inflight: gauge(registry, "faro_bus_inflight", "Handlers running", ["consumer"]),
    pending: gauge(registry, "faro_bus_consumer_pending", "Messages not yet delivered to the consumer (num_pending): lag", ["consumer"]),
    consumerRestarts: counter(
      registry,
      "faro_bus_consumer_restarts_total",
      "Times the pull loop was recreated (heartbeats missed, consumer deleted, errors)",
      ["consumer", "reason"],
    ),
  };
  cache.set(registry, m);
  return m;
}
