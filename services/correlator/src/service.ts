// The correlator service on the kernel: consumes its cluster's FARO_CLEAN subjects as the shared durable `<cluster>_correlator`, keeps state in
// Redis, publishes story entries and incidents.
import type { KubeAccess } from "@faro/kube";
import { RetryableError, type BusMessage } from "@faro/bus";
import { backoffDelay } from "@faro/primitives";
import { cleanFilter, encodeIncidentContext, encodeStoryEntry, FARO_CLEAN } from "@faro/contracts";
import type { KernelContext, ServiceInstance } from "@faro/kernel";
import { createRedactor, type Redactor } from "@faro/redact";
import { settingsFrom, type CorrelatorConfig } from "./config.js";
import { InvolvedObjectPendingError, MalformedInputError } from "./errors.js";
import type { PreviousLogFetcher } from "./harvest.js";
import type { ObjectJson } from "./k8s.js";
import { correlatorMetrics, type CorrelatorMetrics } from "./metrics.js";
import type { OwnerFetcher } from "./ownership.js";
import { podsOn } from "./detect/diagnose.js";
import { Processor, type ProcessorDeps, type Sink } from "./processor.js";
import { OrderGate } from "./order.js";
import { KeyedQueue } from "./queue.js";
import { CorrelatorState } from "./state.js";

/** Base name of the durable every replica shares (the kernel names it `<cluster>_correlator`). */
export const CONSUMER_NAME = "correlator";

/** Redelivery of an Event whose involved object is not known yet: 250 ms doubling to 2.5 s (≈16 s over 10 deliveries). */
const INVOLVED_RETRY = { baseMs: 250, maxMs: 2500, jitter: 0.2 };

// faro.v1.clean.<tenant>.<cluster>.<namespace>.<category>.<a>.<b>
function isObjectSubject(subject: string): boolean {
  return subject.split(".")[6] === "obj";
}

/** What a test or tool can inject besides the kernel's context. */
export interface CorrelatorDeps {
  /** Kubernetes access for owners and previous logs; loaded from config.kube when omitted, none when that fails or null. */
  kubeConfig?: KubeAccess | null;
  redactor?: Redactor;
}

export interface Correlator extends ServiceInstance {
  readonly correlatorMetrics: CorrelatorMetrics;
}

export function createCorrelator(ctx: KernelContext<CorrelatorConfig>, deps: CorrelatorDeps = {}): Correlator {
  const { config, metrics: service } = ctx;
  const logger = ctx.logger.child({ component: "correlator" });
  const metrics = correlatorMetrics(service.registry);
  const ownerCache = service.queue("owner_cache", config.state.ownerCache);
  const settings = settingsFrom(config);
  const inflight = service.queue("handlers_in_flight", config.consumer.concurrency);
  const redis = ctx.redis();
  const publisher = ctx.publisher({ name: "correlator" });
  // faro:<cluster>: unless state.keyPrefix is set: pipelines of several clusters can share one Redis.
  const keyPrefix = ctx.scope.keyPrefix(config.state.keyPrefix);
  const state = new CorrelatorState(redis, keyPrefix);
  const sink: Sink = {
    async publishEntry(subject, entry, msgId) {
      await publisher.publish(subject, encodeStoryEntry(entry), { msgId });
      service.messagesOut.inc();
    },
    async publishIncident(subject, incident, msgId) {
      await publisher.publish(subject, encodeIncidentContext(incident), { msgId });
      service.messagesOut.inc();
    },
  };
  // Messages of one subject (one object, one container's logs) are handled in delivery order within a replica.
  const queue = new KeyedQueue();
  let ackFloor = 0;
  const gate = new OrderGate({
    redis,
    prefix: keyPrefix,
    nc: ctx.bus.nc,
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

  // Built in start(): it needs the Kubernetes access, which is loaded on demand.
  let processor: Processor | undefined;
  let timer: NodeJS.Timeout | undefined;
  let floorTimer: NodeJS.Timeout | undefined;
  let ticking: Promise<void> | undefined;
  let floorReading: Promise<void> | undefined;
  let started = false;
  let running = false;
  let stopping: Promise<void> | undefined;

  const onRedisError = (): void => service.errors.inc({ kind: "redis" }); // the kernel logs it

  // @faro/kube (and the Kubernetes client under it) is loaded only when there is Kubernetes access: it is
  // the largest part of the correlator's memory footprint, and the correlator can work without it.
  async function kube(): Promise<Pick<ProcessorDeps, "fetchOwner" | "fetchPreviousLogs" | "listPodsOnNode"> | undefined> {
    if (deps.kubeConfig === null || (!config.api.enabled && deps.kubeConfig === undefined)) return undefined;
    const { getObject, getPreviousLogs, loadKubeConfig, requestJson } = await import("@faro/kube");
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
      listPodsOnNode: async (node) => {
        const list = await requestJson<{ items?: ObjectJson[] }>(kc, { path: "/api/v1/pods", query: { fieldSelector: `spec.nodeName=${node}` } });
        return podsOn(node, list.items ?? []);
      },
    };
  }

  function readAckFloor(): Promise<void> {
    floorReading ??= (async () => {
      try {
        ackFloor = (await ctx.bus.jsm.consumers.info(FARO_CLEAN.name, group.name)).ack_floor.stream_seq;
      } catch (err) {
        service.errors.inc({ kind: "consumer-info" });
        logger.warn({ err }, "reading the consumer's ack floor failed; keeping the last one");
      } finally {
        floorReading = undefined;
      }
    })();
    return floorReading;
  }

  function scan(): void {
    if (ticking || !processor) return;
    const p = processor;
    ticking = (async () => {
      try {
        await p.tick();
        metrics.storiesOpen.set(await state.openStories());
      } catch (err) {
        service.errors.inc({ kind: "scan" });
        logger.warn({ err }, "periodic scan failed; retried at the next interval");
      } finally {
        ticking = undefined;
      }
    })();
  }

  async function handle(msg: BusMessage): Promise<void> {
    // The group starts only once the processor exists (start()).
    const p = processor!;
    service.messagesIn.inc();
    inflight.setDepth(group.inflight);
    // Versions of an object must be seen in order (diffs, transitions, debounce episodes) across
    // replicas; Events and log batches are order-tolerant and only keep delivery order per replica.
    if (!isObjectSubject(msg.subject)) {
      try {
        await queue.run(msg.subject, () => p.handleClean(msg.subject, msg.data, msg.deliveryCount));
      } catch (err) {
        if (err instanceof InvolvedObjectPendingError) throw new RetryableError(err.message, { cause: err, delayMs: backoffDelay(msg.deliveryCount, INVOLVED_RETRY) });
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
      await p.handleClean(msg.subject, msg.data);
      processed = true;
    } catch (err) {
      // A dead-lettered message is finished; a retryable failure keeps later versions waiting for it.
      processed = err instanceof MalformedInputError;
      throw err;
    } finally {
      await gate.leave(msg.subject, msg.seq, processed);
    }
  }

  const group = ctx.consumerGroup({
    stream: FARO_CLEAN.name,
    consumer: {
      durable: CONSUMER_NAME,
      // faro.v1.clean.*.<cluster>.>: every tenant of this pipeline's cluster only.
      filterSubject: cleanFilter({ cluster: config.cluster }).replace(/(\.\*)+$/, ".>"),
      ackWaitMs: config.consumer.ackWait,
      maxDeliver: config.consumer.maxDeliver,
      maxAckPending: config.consumer.maxAckPending,
      description: "Faro correlator: stories and incidents (shared by all replicas)",
    },
    handler: handle,
    // Undecodable input (subject, payload, object JSON): faro.v1.dlq.correlator.decode.
    poisonStage: "decode",
    concurrency: config.consumer.concurrency,
    isPoison: (err) => err instanceof MalformedInputError,
  });

  async function start(): Promise<void> {
    if (started || stopping) return;
    started = true;
    redis.on("error", onRedisError);
    const access = await kube();
    processor = new Processor({
      state,
      sink,
      settings,
      redactor: deps.redactor ?? createRedactor(),
      logger,
      metrics,
      onOwnerCacheSize: ownerCache.setDepth,
      security: config.security,
      ...(access ?? {}),
    });
    await group.start();
    await readAckFloor();
    floorTimer = setInterval(() => void readAckFloor(), 1000);
    floorTimer.unref();
    timer = setInterval(scan, settings.scanIntervalMs);
    timer.unref();
    running = true;
    logger.info({ durable: group.name, concurrency: config.consumer.concurrency }, "correlator consuming");
  }

  /** Stops the scans, lets running handlers finish; the kernel then flushes the publisher and closes Redis and NATS. */
  function stop(): Promise<void> {
    stopping ??= (async () => {
      running = false;
      clearInterval(timer);
      clearInterval(floorTimer);
      await Promise.all([ticking, floorReading]);
      await group.stop();
      inflight.setDepth(0);
      redis.off("error", onRedisError);
    })();
    return stopping;
  }

  return {
    start,
    stop,
    readiness: () => (running ? true : { ok: false, detail: "not consuming FARO_CLEAN" }),
    correlatorMetrics: metrics,
  };
}
