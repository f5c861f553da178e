// The one runner: loads a definition's configuration, owns the connections (NATS with every credential form,
// Redis), provisions streams, builds publishers and consumer groups, serves health and metrics, drives the
// lifecycle (starting → ready → draining → stopped) and releases everything in order, one failure never
// keeping the rest from being released.
import { ConsumerGroup, DLQ_HEADERS, Publisher, connectBus, ensureStream, type Bus } from "@faro/bus";
import { buildDlqSubject, encodeDeadLetter } from "@faro/contracts";
import { loadConfig, type ConfigOf, type LoadOptions, type Schema } from "@faro/config";
import { createLogger, createMetrics, runService, type Logger, type ServiceHandle, type ServiceMetrics, type StopResult } from "@faro/observability";
import { hostname } from "node:os";
import { Redis, type RedisOptions } from "ioredis";
import { natsClientOptions, redactUrl, redisClientOptions, type NatsSettings, type RedisSettings } from "./connections.js";
import type { AnyServiceDefinition, KernelContext, ServiceDefinition, ServiceInstance } from "./definition.js";
import { DefinitionError, ServiceStepError, UndeclaredResourceError } from "./errors.js";
import { filterCluster, pipelineScope } from "./scope.js";

/** The version every service reports in faro_service_info. */
export const FARO_VERSION = "0.1.0";

/** The common part of every service configuration the runner reads (packages/config common fields). */
export interface KernelConfig {
  readonly cluster: string;
  readonly nats: NatsSettings & { readonly provision: boolean; readonly replicas: number };
  readonly redis: RedisSettings;
  readonly log: { readonly level: string; readonly pretty: "auto" | "true" | "false" };
  readonly http: { readonly port: number; readonly host: string };
  readonly shutdown: { readonly timeout: number };
  readonly publish: { readonly window: number; readonly timeout: number; readonly retryFor: number };
  readonly deadLetters: { readonly includePayload: boolean };
}

/** Loads and validates a service's configuration (schema, then the definition's own checks); throws ConfigError. */
export function loadServiceConfig<S extends Schema, I extends ServiceInstance>(def: ServiceDefinition<S, I>, options: LoadOptions = {}): ConfigOf<S> {
  const config = loadConfig(def.schema, options);
  def.validate?.(config);
  return config;
}

export interface StartServiceOptions {
  /** Wire SIGTERM/SIGINT (faro run). Default false: several services may share the process. */
  handleSignals?: boolean;
  /** process.exit(code) once stopped. Default false. */
  exitProcess?: boolean;
  /** Serve /metrics, /healthz, /readyz on http.port. Default true. */
  http?: boolean;
  logger?: Logger;
  metrics?: ServiceMetrics;
  env?: Readonly<Record<string, string | undefined>>;
  /** ioredis options over the kernel's defaults (auto-pipelining, lazy connect, 3 retries per request). */
  redisOptions?: Partial<RedisOptions>;
}

export interface RunningService<I extends ServiceInstance = ServiceInstance> {
  readonly name: string;
  readonly instance: I;
  readonly handle: ServiceHandle;
  readonly bus: Bus;
  /** Drains and stops (idempotent); resolves with the exit code. */
  stop(reason?: string): Promise<StopResult>;
}

/**
 * Starts one service; resolves once it is ready. On a failed start everything acquired so far is released
 * and a ServiceStartError (from @faro/observability) names the step that failed.
 */
export async function startService<S extends Schema, I extends ServiceInstance>(
  def: ServiceDefinition<S, I>,
  config: ConfigOf<S>,
  options: StartServiceOptions = {},
): Promise<RunningService<I>> {
  const cfg = config as unknown as KernelConfig;
  const name = def.name;
  const logger = options.logger ?? createLogger({ service: name, level: cfg.log.level, pretty: cfg.log.pretty });
  const metrics = options.metrics ?? createMetrics(name, { version: FARO_VERSION });
  const env = options.env ?? process.env;

  let bus: Bus | undefined;
  let redis: Redis | undefined;
  let instance: I | undefined;
  const publishers: Publisher[] = [];
  const groups: ConsumerGroup[] = [];

  const step = async <T>(what: string, fn: () => Promise<T> | T): Promise<T> => {
    try {
      return await fn();
    } catch (err) {
      throw new ServiceStepError(name, what, { cause: err });
    }
  };

  const release = async (what: string, fn: () => Promise<unknown> | undefined): Promise<unknown> => {
    try {
      await fn();
      return undefined;
    } catch (err) {
      metrics.errors.inc({ kind: "stop" });
      logger.error({ err, what }, "releasing failed during stop; releasing the rest");
      return err;
    }
  };

  const handle = await runService({
    name,
    logger,
    metrics,
    shutdownTimeoutMs: cfg.shutdown.timeout,
    http: options.http === false ? undefined : { port: cfg.http.port, host: cfg.http.host },
    handleSignals: options.handleSignals ?? false,
    exitProcess: options.exitProcess ?? false,
    start: async (rs) => {
      const b = await step(`connecting to NATS at ${redactUrl(cfg.nats.url)}`, () =>
        connectBus({ ...natsClientOptions(cfg.nats), name: `faro-${name}@${hostname()}`, logger, registry: metrics.registry }),
      );
      bus = b;
      for (const spec of def.streams) {
        // nats.replicas replaces the contracts' R1: the deployment, not the stream's definition, knows the cluster size.
        await step(`stream ${spec.name}`, () => (cfg.nats.provision ? ensureStream(b.jsm, { ...spec, replicas: cfg.nats.replicas ?? spec.replicas }) : b.jsm.streams.info(spec.name)));
      }
      if (def.redis) {
        const r = new Redis(cfg.redis.url, {
          lazyConnect: true,
          enableAutoPipelining: true,
          maxRetriesPerRequest: 3,
          ...def.redisOptions,
          ...redisClientOptions(cfg.redis),
          ...options.redisOptions,
        });
        // An unhandled 'error' event would crash the process; the client reconnects by itself.
        let lastError: Error | undefined;
        r.on("error", (err: Error) => {
          lastError = err;
          logger.warn({ err: err.message }, "redis connection error");
        });
        redis = r;
        const redisWhere = (cfg.redis.sentinels ?? []).length > 0 ? `primary "${cfg.redis.name}" of sentinels ${cfg.redis.sentinels!.join(",")}` : redactUrl(cfg.redis.url);
        await step(`connecting to Redis at ${redisWhere}`, async () => {
          try {
            await r.connect();
          } catch (err) {
            // ioredis rejects with "Connection is closed."; the socket's own error says why (ECONNREFUSED, WRONGPASS…).
            throw lastError ?? err;
          }
        });
      }
      let dlq: Publisher | undefined;
      const scope = pipelineScope(cfg.cluster);
      const ctx: KernelContext<ConfigOf<S>> = {
        name,
        config,
        logger,
        metrics,
        bus: b,
        signal: rs.signal,
        env,
        scope,
        redis: () => {
          if (!redis) throw new UndeclaredResourceError(name, "Redis");
          return redis;
        },
        publisher: (req) => {
          const p = new Publisher({
            js: b.js,
            name: req.name,
            window: req.window ?? cfg.publish.window,
            timeoutMs: cfg.publish.timeout,
            retryForMs: cfg.publish.retryFor,
            logger,
            registry: metrics.registry,
          });
          publishers.push(p);
          return p;
        },
        consumerGroup: (req) => {
          // One pipeline per cluster on a shared bus: its own durable, its own cluster's subjects only.
          const filter = req.consumer.filterSubject ?? "";
          if (filterCluster(filter) !== cfg.cluster) {
            throw new DefinitionError(name, `consumer "${req.consumer.durable}" on ${req.stream}: filter subject "${filter}" does not pin cluster "${cfg.cluster}"`);
          }
          const g = new ConsumerGroup({
            ...req,
            consumer: { ...req.consumer, durable: scope.durable(req.consumer.durable) },
            nc: b.nc,
            js: b.js,
            jsm: b.jsm,
            service: name,
            includePayload: cfg.deadLetters.includePayload,
            onDeadLetter: ({ stage }) => metrics.deadLetters.inc({ reason: stage }),
            logger,
            registry: metrics.registry,
          });
          groups.push(g);
          return g;
        },
        deadLetter: async (req) => {
          dlq ??= ctx.publisher({ name: `${name}-dlq`, window: 64 });
          const include = cfg.deadLetters.includePayload && req.withhold !== true && req.payload !== undefined;
          const payload = encodeDeadLetter({
            service: name,
            stage: req.stage,
            originalSubject: req.originalSubject,
            reason: req.reason,
            error: req.error,
            deliveries: req.deliveries ?? 0,
            streamSeq: req.streamSeq ?? 0,
            payload: include ? req.payload! : new Uint8Array(),
            payloadWithheld: !include,
            atMs: Date.now(),
          });
          const headers: Record<string, string> = {
            [DLQ_HEADERS.reason]: `${req.reason}: ${req.error}`.replace(/[\r\n]+/g, " ").slice(0, 1024),
            [DLQ_HEADERS.service]: name,
            [DLQ_HEADERS.kind]: "poison",
            [DLQ_HEADERS.originalSubject]: req.originalSubject,
            ...req.headers,
          };
          const ack = await dlq.publish(buildDlqSubject(name, req.stage), payload, { msgId: `dl:${name}:${req.stage}:${req.key}`, headers });
          if (!ack.duplicate) metrics.deadLetters.inc({ reason: req.stage });
        },
      };
      const inst = await step("create", () => def.create(ctx));
      instance = inst;
      rs.addReadinessCheck("nats", () => (b.nc.isClosed() ? { ok: false, detail: "NATS connection closed" } : true));
      if (redis) {
        const r = redis;
        rs.addReadinessCheck("redis", () => (r.status === "ready" ? true : { ok: false, detail: `Redis ${r.status}` }));
      }
      rs.addReadinessCheck(name, () => inst.readiness());
      await step("start", () => inst.start());
    },
    stop: async () => {
      // Order matters: the service drains (handlers finish and publish), then its consumers, then the
      // publishers flush their windows, then the connections close. Each step runs even if one before failed.
      const failures = [
        await release("service", () => instance?.stop()),
        ...(await Promise.all(groups.map((g) => release("consumer group", () => g.stop())))),
        ...(await Promise.all(publishers.map((p) => release("publisher", () => p.close())))),
        await release("redis", () => (redis ? quitRedis(redis) : undefined)),
        await release("nats", () => bus?.close()),
      ].filter((e) => e !== undefined);
      if (failures.length > 0) throw failures[0];
    },
  });
  return {
    name,
    instance: instance!,
    handle,
    bus: bus!,
    stop: (reason) => handle.stop(reason),
  };
}

async function quitRedis(r: Redis): Promise<void> {
  if (r.status === "end") return;
  try {
    await r.quit();
  } catch {
    // quit() fails when the connection is already gone; disconnect releases the socket and timers either way.
    r.disconnect();
  }
}

/** One service of a pipeline with its loaded configuration. */
export interface PipelineEntry {
  readonly definition: AnyServiceDefinition;
  readonly config: unknown;
}

export interface Pipeline {
  readonly services: readonly RunningService[];
  get(name: string): RunningService | undefined;
  /** Stops every service in reverse order (sinks last); 0 when all stopped cleanly, else 1. Idempotent. */
  stop(reason?: string): Promise<0 | 1>;
}

/**
 * Starts services in order, each its own durable consumer, none handling signals. When one fails to start,
 * the ones already running are stopped and the error is rethrown.
 */
export async function startPipeline(
  entries: readonly PipelineEntry[],
  options: { http?: boolean; logger?: (name: string) => Logger | undefined; env?: Readonly<Record<string, string | undefined>>; onStarted?: (name: string) => void } = {},
): Promise<Pipeline> {
  const running: RunningService[] = [];
  let stopping: Promise<0 | 1> | undefined;
  const pipeline: Pipeline = {
    services: running,
    get: (n) => running.find((s) => s.name === n),
    stop(reason = "stop requested") {
      stopping ??= (async () => {
        let code: 0 | 1 = 0;
        for (const s of [...running].reverse()) {
          const r = await s.stop(reason);
          if (r.code !== 0) code = 1;
        }
        return code;
      })();
      return stopping;
    },
  };
  for (const e of entries) {
    try {
      const logger = options.logger?.(e.definition.name);
      running.push(await startService(e.definition, e.config as never, { http: options.http, env: options.env, ...(logger ? { logger } : {}) }));
      options.onStarted?.(e.definition.name);
    } catch (err) {
      await pipeline.stop(`${e.definition.name} failed to start`);
      throw err;
    }
  }
  return pipeline;
}
