// createCorrelator: consumes FARO_CLEAN as the shared durable `correlator`, keeps state in Redis, publishes
// story entries and incidents; usable in-process (`faro up`, tests) or as its own process (main.ts).
import { Redis } from "ioredis";
import type { KubeAccess } from "@faro/kube";
import { connectBus, ConsumerGroup, ensureStream, Publisher, RetryableError, type Bus } from "@faro/bus";
import {
  buildDlqSubject,
  cleanFilter,
  encodeIncidentContext,
  encodeStoryEntry,
  FARO_CLEAN,
  FARO_DLQ,
  FARO_INCIDENT,
  FARO_STORY,
} from "@faro/contracts";
import { createLogger, createMetrics, type Logger, type Registry, type ServiceMetrics } from "@faro/observability";
import { createRedactor, type Redactor } from "@faro/redact";
import { settingsFrom, type CorrelatorConfig } from "./config.js";
import { CorrelatorStartError, InvolvedObjectPendingError, MalformedInputError } from "./errors.js";
import type { PreviousLogFetcher } from "./harvest.js";
import type { ObjectJson } from "./k8s.js";
import { correlatorMetrics, type CorrelatorMetrics } from "./metrics.js";
import type { OwnerFetcher } from "./ownership.js";
import { Processor, type Sink } from "./processor.js";
import { OrderGate } from "./order.js";
import { KeyedQueue } from "./queue.js";
import { CorrelatorState } from "./state.js";

export const CONSUMER_NAME = "correlator";

// faro.v1.clean.<tenant>.<cluster>.<namespace>.<category>.<a>.<b>
function isObjectSubject(subject: string): boolean {
  return subject.split(".")[6] === "obj";
}

export interface CorrelatorDeps {
  /** Kubernetes access for owners and previous logs; loaded from config.kube when omitted, none when that fails or null. */
  kubeConfig?: KubeAccess | null;
  logger?: Logger;
  /** Registry for the correlator's metrics; ignored when `metrics` is given. */
  registry?: Registry;
  /** The service metrics runService exposes (so both share one registry). */
  metrics?: ServiceMetrics;
  redactor?: Redactor;
  /** Provision FARO_CLEAN, FARO_STORY, FARO_INCIDENT and the dead-letter stream (default true). */
  ensureStreams?: boolean;
}

export interface Correlator {
  /** Connects to NATS and Redis, provisions the streams and starts consuming. Throws CorrelatorStartError. */
  start(): Promise<void>;
  /** Stops consuming, drains handlers in flight, releases connections and timers. Idempotent. */
  stop(): Promise<void>;
  /** True once consuming. */
  ready(): boolean;
  readonly metrics: ServiceMetrics;
  readonly correlatorMetrics: CorrelatorMetrics;
}

export function createCorrelator(config: CorrelatorConfig, deps: CorrelatorDeps = {}): Correlator {
  const logger = (deps.logger ?? createLogger({ service: "correlator", level: config.log.level, pretty: config.log.pretty })).child({ component: "correlator" });
  const service = deps.metrics ?? createMetrics("correlator", { registry: deps.registry, defaultMetrics: deps.registry === undefined });
  const metrics = correlatorMetrics(service.registry);
  const ownerCache = service.queue("owner_cache", config.state.ownerCache);
  const settings = settingsFrom(config);
  const inflight = service.queue("handlers_in_flight", config.consumer.concurrency);

  let bus: Bus | undefined;
  let redis: Redis | undefined;
  let publisher: Publisher | undefined;
  let group: ConsumerGroup | undefined;
  let timer: NodeJS.Timeout | undefined;
  let floorTimer: NodeJS.Timeout | undefined;
  let ticking: Promise<void> | undefined;
  let started = false;
  let stopping: Promise<void> | undefined;

  // @faro/kube (and the Kubernetes client under it) is loaded only when there is Kubernetes access: it is
  // the largest part of the correlator's memory footprint, and the correlator can work without it.
  async function kube(): Promise<{ fetchOwner: OwnerFetcher; fetchPreviousLogs: PreviousLogFetcher } | undefined> {
    if (deps.kubeConfig === null || (!config.api.enabled && deps.kubeConfig === undefined)) return undefined;
    const { getObject, getPreviousLogs, loadKubeConfig } = await import("@faro/kube");
    let kc: KubeAccess;
    try {
      kc = deps.kubeConfig ?? loadKubeConfig({ kubeconfig: config.kube.kubeconfig, context: config.kube.context });
    } catch (err) {
      logger.warn({ err }, "no Kubernetes access: owners not yet seen are resolved by name, previous logs only from the buffers");
      return undefined;
    }
    return {
      fetchOwner: async (ref) => (await getObject(kc, ref.apiVersion, ref.kind, ref.namespace || undefined, ref.name)) as ObjectJson | undefined,
      fetchPreviousLogs: async (namespace, pod, container) =>
        (await getPreviousLogs(kc, { namespace, pod, container, tailLines: settings.logTailLines })).map((l) => ({ timestamp: l.timestamp ?? new Date(0).toISOString(), text: l.text })),
    };
  }

  async function step<T>(what: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      service.errors.inc({ kind: "start" });
      throw new CorrelatorStartError(what, { cause: err });
    }
  }

  async function start(): Promise<void> {
    if (stopping) throw new CorrelatorStartError("start", { cause: new Error("the correlator was stopped") });
    if (started) return;
    started = true;
    // Auto-pipelining sends the commands of all handlers issued in one event-loop tick as one socket write:
    // with dozens of handlers in flight, a write (a syscall) per script call was the correlator's largest
    // single CPU cost. Commands keep their order and their own replies.
    const r = new Redis(config.redis.url, { lazyConnect: true, maxRetriesPerRequest: 3, enableAutoPipelining: true });
    redis = r;
    r.on("error", (err: Error) => {
      service.errors.inc({ kind: "redis" });
      logger.warn({ err: err.message }, "redis connection error");
    });
    await step("redis", () => r.connect());
    const b = await step("nats", () => connectBus({ servers: config.nats.url, name: "correlator", logger, registry: service.registry }));
    bus = b;
    if (deps.ensureStreams !== false) {
      await step("streams", async () => {
        await ensureStream(b.jsm, FARO_CLEAN);
        await ensureStream(b.jsm, FARO_STORY);
        await ensureStream(b.jsm, FARO_INCIDENT);
        await ensureStream(b.jsm, FARO_DLQ); // the same definition every service provisions (a differing one is refused)
      });
    }
    const pub = new Publisher({ js: b.js, name: "correlator", window: 1024, logger, registry: service.registry });
    publisher = pub;
    const sink: Sink = {
      async publishEntry(subject, entry, msgId) {
        await pub.publish(subject, encodeStoryEntry(entry), { msgId });
        service.messagesOut.inc();
      },
      async publishIncident(subject, incident, msgId) {
        await pub.publish(subject, encodeIncidentContext(incident), { msgId });
        service.messagesOut.inc();
      },
    };
    const access = await kube();
    const processor = new Processor({
      state: new CorrelatorState(r, config.state.keyPrefix),
      sink,
      settings,
      redactor: deps.redactor ?? createRedactor(),
      logger,
      metrics,
      onOwnerCacheSize: ownerCache.setDepth,
      ...(access ?? {}),
    });
    // Messages of one subject (one object, one container's logs) are handled in delivery order within a replica.
    const queue = new KeyedQueue();
    let ackFloor = 0;
    const gate = new OrderGate({
      redis: r,
      prefix: config.state.keyPrefix,
      nc: b.nc,
      stream: FARO_CLEAN.name,
      ackFloor: () => ackFloor,
      horizonMs: config.consumer.ackWait * config.consumer.maxDeliver,
      doneTtlMs: Math.max(settings.stateTtlMs, FARO_CLEAN.maxAgeMs),
      maxWaitMs: Math.max(config.consumer.ackWait, 1000),
      lookups: config.consumer.strictOrder,
      onLookupError: (err) => {
        service.errors.inc({ kind: "order-lookup" });
        logger.warn({ err }, "order gate: stream lookup failed, letting the message through");
      },
    });
    const readAckFloor = async () => {
      try {
        ackFloor = (await b.jsm.consumers.info(FARO_CLEAN.name, CONSUMER_NAME)).ack_floor.stream_seq;
      } catch (err) {
        service.errors.inc({ kind: "consumer-info" });
        logger.warn({ err }, "reading the consumer's ack floor failed; keeping the last one");
      }
    };
    group = new ConsumerGroup({
      nc: b.nc,
      js: b.js,
      jsm: b.jsm,
      stream: FARO_CLEAN.name,
      consumer: {
        durable: CONSUMER_NAME,
        filterSubject: cleanFilter().replace(/(\.\*)+$/, ".>"),
        ackWaitMs: config.consumer.ackWait,
        maxDeliver: config.consumer.maxDeliver,
        maxAckPending: config.consumer.maxAckPending,
        description: "Faro correlator: stories and incidents (shared by all replicas)",
      },
      handler: async (msg) => {
        service.messagesIn.inc();
        inflight.setDepth(group?.inflight ?? 0);
        // Versions of an object must be seen in order (diffs, transitions, debounce episodes) across
        // replicas; Events and log batches are order-tolerant and only keep delivery order per replica.
        if (!isObjectSubject(msg.subject)) {
          try {
            await queue.run(msg.subject, () => processor.handleClean(msg.subject, msg.data, msg.deliveryCount));
          } catch (err) {
            if (err instanceof InvolvedObjectPendingError) throw new RetryableError(err.message, { cause: err, delayMs: 250 * msg.deliveryCount });
            throw err;
          }
          return;
        }
        const outcome = await gate.enter(msg.subject, msg.seq, () => msg.working());
        metrics.orderWaits.inc({ outcome });
        if (outcome === "timeout") {
          await gate.leave(msg.subject, msg.seq, false);
          throw new RetryableError(`an earlier message of ${msg.subject} is still unprocessed`, { delayMs: 1000 });
        }
        let processed = false;
        try {
          await processor.handleClean(msg.subject, msg.data);
          processed = true;
        } catch (err) {
          // A dead-lettered message is finished; a retryable failure keeps later versions waiting for it.
          processed = err instanceof MalformedInputError;
          throw err;
        } finally {
          await gate.leave(msg.subject, msg.seq, processed);
        }
      },
      dlqSubject: buildDlqSubject("correlator", "process"),
      service: "correlator",
      concurrency: config.consumer.concurrency,
      isPoison: (err) => err instanceof MalformedInputError,
      logger,
      registry: service.registry,
    });
    await step("consumer", () => group!.start());
    await readAckFloor();
    floorTimer = setInterval(() => void readAckFloor(), 1000);
    floorTimer.unref?.();
    const state = new CorrelatorState(r, config.state.keyPrefix);
    timer = setInterval(() => {
      if (ticking) return;
      ticking = (async () => {
        try {
          await processor.tick();
          metrics.storiesOpen.set(await state.openStories());
        } catch (err) {
          service.errors.inc({ kind: "scan" });
          logger.warn({ err }, "periodic scan failed; retried at the next interval");
        } finally {
          ticking = undefined;
        }
      })();
    }, settings.scanIntervalMs);
    timer.unref?.();
    logger.info({ durable: CONSUMER_NAME, concurrency: config.consumer.concurrency }, "correlator consuming");
  }

  async function doStop(): Promise<void> {
    if (timer) clearInterval(timer);
    if (floorTimer) clearInterval(floorTimer);
    await ticking;
    await group?.stop();
    await publisher?.close();
    await bus?.close();
    if (redis) {
      try {
        await redis.quit();
      } catch (err) {
        logger.warn({ err }, "redis quit failed; disconnecting");
        redis.disconnect();
      }
    }
  }

  return {
    start,
    stop() {
      stopping ??= doStop();
      return stopping;
    },
    ready: () => started && !stopping && group !== undefined,
    metrics: service,
    correlatorMetrics: metrics,
  };
}
