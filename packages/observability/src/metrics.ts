// Prometheus metrics: the registry every service exposes, the required faro_* metrics, and get-or-create helpers.
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry, type Metric } from "prom-client";
import { MetricConflictError } from "./errors.js";

export { Registry } from "prom-client";
export type { Counter, Gauge, Histogram } from "prom-client";

/** Metric names every service must expose (docs/spec/service.md); checkServiceContract asserts them. */
export const REQUIRED_METRICS = [
  "faro_service_info",
  "faro_service_state",
  "faro_service_ready",
  "faro_messages_in_total",
  "faro_messages_out_total",
  "faro_messages_dropped_total",
  "faro_dead_letters_total",
  "faro_queue_depth",
  "faro_queue_capacity",
  "faro_errors_total",
] as const;

interface MetricOptions<L extends string> {
  name: string;
  help: string;
  labelNames?: readonly L[];
}

function getOrCreate<M extends Metric<string>>(
  registry: Registry,
  opts: MetricOptions<string>,
  type: new (cfg: never) => M,
  create: () => M,
): M {
  const existing = registry.getSingleMetric(opts.name);
  if (existing === undefined) return create();
  if (!(existing instanceof type)) throw new MetricConflictError(opts.name, `as another metric type`);
  const have = [...(((existing as unknown as { labelNames?: string[] }).labelNames) ?? [])].sort().join(",");
  const want = [...(opts.labelNames ?? [])].sort().join(",");
  if (have !== want) throw new MetricConflictError(opts.name, `with labels [${have}], not [${want}]`);
  return existing;
}

/** The counter of that name on the registry, created on first use; a second call returns the same one. */
export function counter<L extends string = string>(registry: Registry, opts: MetricOptions<L>): Counter<L> {
  return getOrCreate(registry, opts, Counter as never, () => new Counter({ ...opts, labelNames: [...(opts.labelNames ?? [])], registers: [registry] })) as Counter<L>;
}
export function gauge<L extends string = string>(registry: Registry, opts: MetricOptions<L>): Gauge<L> {
  return getOrCreate(registry, opts, Gauge as never, () => new Gauge({ ...opts, labelNames: [...(opts.labelNames ?? [])], registers: [registry] })) as Gauge<L>;
}
export function histogram<L extends string = string>(
  registry: Registry,
  opts: MetricOptions<L> & { buckets?: number[] },
): Histogram<L> {
  return getOrCreate(registry, opts, Histogram as never, () => new Histogram({ ...opts, labelNames: [...(opts.labelNames ?? [])], registers: [registry] })) as Histogram<L>;
}

/** The standard metrics of one service, on its own registry (several services can share a process). */
export interface ServiceMetrics {
  readonly service: string;
  readonly registry: Registry;
  readonly info: Gauge<"version">;
  readonly state: Gauge<"state">;
  readonly ready: Gauge;
  readonly messagesIn: Counter;
  readonly messagesOut: Counter;
  readonly messagesDropped: Counter<"reason">;
  readonly deadLetters: Counter<"reason">;
  readonly queueDepth: Gauge<"queue">;
  readonly queueCapacity: Gauge<"queue">;
  readonly errors: Counter<"kind">;
  /** Declares a bounded queue: sets its capacity and returns a setter for its depth. */
  queue(name: string, capacity: number): { setDepth(depth: number): void };
}

export function createMetrics(service: string, options: { version?: string; registry?: Registry; defaultMetrics?: boolean } = {}): ServiceMetrics {
  const registry = options.registry ?? new Registry();
  // `service` on every series, process metrics included, so one Prometheus job can scrape `faro up`'s services apart.
  registry.setDefaultLabels({ service });
  if (options.defaultMetrics !== false) collectDefaultMetrics({ register: registry });
  const info = gauge(registry, { name: "faro_service_info", help: "Always 1; labels carry the service and its version.", labelNames: ["version"] });
  info.set({ version: options.version ?? "0.0.0" }, 1);
  const ready = gauge(registry, { name: "faro_service_ready", help: "1 while the service is ready (see /readyz)." });
  ready.set(0);
  const queueDepth = gauge(registry, { name: "faro_queue_depth", help: "Items currently held by a bounded queue, buffer or in-flight window.", labelNames: ["queue"] });
  const queueCapacity = gauge(registry, { name: "faro_queue_capacity", help: "The bound of a queue, buffer or in-flight window.", labelNames: ["queue"] });
  return {
    service,
    registry,
    info,
    ready,
    state: gauge(registry, { name: "faro_service_state", help: "1 for the current lifecycle state (starting, ready, draining, stopped), else 0.", labelNames: ["state"] }),
    messagesIn: counter(registry, { name: "faro_messages_in_total", help: "Messages received for processing." }),
    messagesOut: counter(registry, { name: "faro_messages_out_total", help: "Messages published or written downstream." }),
    messagesDropped: counter(registry, { name: "faro_messages_dropped_total", help: "Messages deliberately dropped, by reason (filtered, duplicate, ...).", labelNames: ["reason"] }),
    deadLetters: counter(registry, { name: "faro_dead_letters_total", help: "Messages sent to the dead-letter subject, by reason.", labelNames: ["reason"] }),
    queueDepth,
    queueCapacity,
    errors: counter(registry, { name: "faro_errors_total", help: "Errors by kind (connection, handler, publish, ...).", labelNames: ["kind"] }),
    queue(name, capacity) {
      queueCapacity.set({ queue: name }, capacity);
      queueDepth.set({ queue: name }, 0);
      return { setDepth: (depth) => queueDepth.set({ queue: name }, depth) };
    },
  };
}
