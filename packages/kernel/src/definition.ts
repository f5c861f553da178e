// A service is a definition: its name, its config schema, the streams it uses, whether it needs Redis, and a
// factory that turns the connections the runner made into the service's start / stop / readiness.
import type { Bus, ConsumerGroup, ConsumerGroupOptions, Publisher } from "@faro/bus";
import type { StreamSpec } from "@faro/bus";
import type { ConfigOf, Schema } from "@faro/config";
import type { Logger, ReadinessResult, ServiceMetrics } from "@faro/observability";
import type { Redis, RedisOptions } from "ioredis";
import { DefinitionError } from "./errors.js";
import type { PipelineScope } from "./scope.js";

/** What every service factory returns; the runner drives it through the documented lifecycle. */
export interface ServiceInstance {
  /** Starts work on the connections of the context. Runs while the lifecycle is `starting`. */
  start(): Promise<void>;
  /**
   * Stops taking work and drains what is in flight (handlers finish, their publishes are acked). Releases
   * what start() took itself (timers, watches, follows); the connections and publishers of the context
   * are the runner's and are released after this returns. Idempotent.
   */
  stop(): Promise<void>;
  /** Readiness as /readyz reports it; `{ ok: false, detail }` says why not. */
  readiness(): ReadinessResult;
}

/** A publisher made by the kernel: the window, timeout and retry come from the common `publish` section. */
export interface PublisherRequest {
  /** Name used in logs and metric labels (e.g. `filter-clean`). */
  name: string;
  /** Overrides `publish.window` for this publisher. */
  window?: number;
}

/**
 * A consumer group made by the kernel: service name, connection, dead-letter envelope and metrics are filled in.
 * `consumer.durable` is the base name: the kernel names the durable `<cluster>_<durable>` (PipelineScope), and
 * `consumer.filterSubject` must pin the service's own cluster token (`rawFilter({ cluster })`, …), so pipelines
 * of several clusters on one bus each consume only their own cluster's subjects.
 */
export type ConsumerGroupRequest = Omit<ConsumerGroupOptions, "nc" | "js" | "jsm" | "service" | "logger" | "registry" | "includePayload" | "onDeadLetter">;

/** A message a service gives up on outside a consumer group (e.g. the watcher's unencodable object). */
export interface DeadLetterRequest {
  /** The step that gave up: `encode`, `redact`, … — the last token of faro.v1.dlq.<service>.<stage>. */
  stage: string;
  /** Short, stable reason (`redaction failed`, `unencodable object`). */
  reason: string;
  /** The error message in full. */
  error: string;
  /** Where the message came from or was going (a subject, or a resource path for API objects). */
  originalSubject: string;
  /** Makes the id `dl:<service>:<stage>:<key>`: the stream sequence, or a stable key (uid and resourceVersion). */
  key: number | string;
  streamSeq?: number;
  deliveries?: number;
  /** The original bytes: put in only when `deadLetters.includePayload` is on and `withhold` is not set. */
  payload?: Uint8Array;
  /** Never carry the payload (e.g. it could not be redacted). */
  withhold?: boolean;
  /** Extra headers (Faro-Dlq-* names from @faro/bus DLQ_HEADERS). */
  headers?: Record<string, string>;
}

/** Everything a service gets from the runner. */
export interface KernelContext<C> {
  readonly name: string;
  readonly config: C;
  readonly logger: Logger;
  readonly metrics: ServiceMetrics;
  /** The NATS/JetStream connection (every credential form, TLS), connected and with its streams provisioned. */
  readonly bus: Bus;
  /** Aborted when the service starts draining. */
  readonly signal: AbortSignal;
  /** The environment the service was started with (replica ids and the like). */
  readonly env: Readonly<Record<string, string | undefined>>;
  /** The names this pipeline owns on a shared bus: durables and default Redis key prefixes, scoped by `cluster`. */
  readonly scope: PipelineScope;
  /** The Redis connection; throws UndeclaredResourceError unless the definition says `redis: true`. */
  redis(): Redis;
  /** A publisher with the configured window; the runner closes it (flushing its window) after stop(). */
  publisher(request: PublisherRequest): Publisher;
  /**
   * A consumer group on `bus` that dead-letters in the documented envelope and counts into the service metrics;
   * its durable is `<cluster>_<consumer.durable>`. Throws DefinitionError when the filter subject does not pin
   * the service's cluster.
   */
  consumerGroup(request: ConsumerGroupRequest): ConsumerGroup;
  /**
   * Publishes the documented DeadLetter envelope on faro.v1.dlq.<service>.<stage> with id
   * `dl:<service>:<stage>:<key>` and counts it (faro_dead_letters_total{reason=<stage>}) unless it is a
   * duplicate. Throws when it cannot be stored, so the caller keeps the original (nak, retry).
   */
  deadLetter(request: DeadLetterRequest): Promise<void>;
}

/** The config type every definition's schema produces (the common fields of @faro/config plus its own). */
export type ServiceConfig<S extends Schema> = ConfigOf<S>;

export interface ServiceDefinition<S extends Schema = Schema, I extends ServiceInstance = ServiceInstance> {
  /** The service's name: lowercase, used in metrics, subjects (dead letters), durable names (`<cluster>_<name>`) and `faro run <name>`. */
  readonly name: string;
  /** One line for `faro run --help` and the docs. */
  readonly summary: string;
  readonly schema: S;
  /** Streams the service reads or writes; provisioned at start unless `nats.provision` is false (then checked). */
  readonly streams: readonly StreamSpec[];
  /** The service keeps state in Redis; the runner connects it and /readyz checks it. */
  readonly redis: boolean;
  /** ioredis options over the kernel's defaults (lazy connect, auto-pipelining, 3 retries per request). */
  readonly redisOptions?: Partial<RedisOptions>;
  /** Checks beyond the schema (e.g. compiling rules); throws ConfigError naming every problem. */
  readonly validate?: (config: ConfigOf<S>) => void;
  /** Builds the service from its context; must not do I/O (start() does). */
  readonly create: (ctx: KernelContext<ConfigOf<S>>) => I;
}

/** Anything a pipeline can hold, whatever its schema and instance type. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyServiceDefinition = ServiceDefinition<any, ServiceInstance>;

const NAME = /^[a-z][a-z0-9-]{0,30}[a-z0-9]$/;

/** Declares a service. Checks the rules of the kernel once, at import time. */
export function defineService<S extends Schema, I extends ServiceInstance>(def: ServiceDefinition<S, I>): ServiceDefinition<S, I> {
  if (!NAME.test(def.name)) throw new DefinitionError(def.name, "the name must be a lowercase DNS-like label (a-z, 0-9, '-')");
  if (def.schema.service !== def.name) throw new DefinitionError(def.name, `its schema is defined for "${def.schema.service}"`);
  if (def.summary.trim() === "") throw new DefinitionError(def.name, "a summary is required");
  const names = new Set<string>();
  for (const s of def.streams) {
    if (names.has(s.name)) throw new DefinitionError(def.name, `stream ${s.name} is listed twice`);
    names.add(s.name);
  }
  return Object.freeze({ ...def, streams: Object.freeze([...def.streams]) });
}
