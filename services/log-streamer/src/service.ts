// The log-streamer on the kernel: consumes pod changes from FARO_RAW into wanted streams in Redis, takes
// leases on them up to streams.max, follows each container instance's log and publishes batches to FARO_RAW.
// The kernel owns the NATS and Redis connections, the streams, the publisher and the consumer group.
import { randomBytes } from "node:crypto";
import os from "node:os";
import type { BusMessage } from "@faro/bus";
import { DecodeError, FARO_RAW, InvalidMessageError, decodeResourceChange, rawFilter } from "@faro/contracts";
import type { KernelContext, ServiceInstance } from "@faro/kernel";
import { KubeApiError, loadKubeConfig, requestJson, type KubeAccess } from "@faro/kube";
import type { LogStreamerConfig } from "./config.js";
import { PodChangeError } from "./errors.js";
import { instanceKey, podInstances, type PodLike, type WantedInstance } from "./instances.js";
import { LineBudget } from "./budget.js";
import { logStreamerMetrics, type LogStreamerMetrics } from "./metrics.js";
import { StreamState, type Checkpoint } from "./state.js";
import { InstanceStream, type StreamContext, type StreamOutcome } from "./stream.js";

export const SERVICE_NAME = "log-streamer";
/** The durable consumer of pod changes every replica shares (base name: the kernel names it `<cluster>_log-streamer`). */
export const CONSUMER_NAME = "log-streamer";
/** The publisher of log batches (logs, metric labels, `faro_queue_depth{queue="publish_window_log-batches"}`). */
const PUBLISHER_NAME = "log-batches";
/** Stage of the dead letters of pod changes that cannot be understood: `faro.v1.dlq.log-streamer.decode`. */
const POISON_STAGE = "decode";

/** What a caller may inject besides the kernel's context (tests, embedding). */
export interface LogStreamerOptions {
  /** Defaults to loadKubeConfig(config.kube), read at start. */
  kubeConfig?: KubeAccess;
}

export interface LogStreamerStats {
  replica: string;
  active: number;
  keys: string[];
}

export interface LogStreamer extends ServiceInstance {
  readonly replicaId: string;
  stats(): LogStreamerStats;
}

/**
 * This replica's name in leases and checkpoints: `replica` (FARO_REPLICA, the pod name in the Helm chart),
 * else hostname-pid-random (a fresh name per process: its leases are taken over after lease.ttl).
 */
export function replicaIdOf(ctx: Pick<KernelContext<LogStreamerConfig>, "config">): string {
  return ctx.config.replica || `${os.hostname()}-${process.pid}-${randomBytes(3).toString("hex")}`;
}

interface Running {
  stream: InstanceStream;
  done: Promise<StreamOutcome | "failed">;
}

export function createLogStreamer(ctx: KernelContext<LogStreamerConfig>, options: LogStreamerOptions = {}): LogStreamer {
  const { config, metrics: service } = ctx;
  const replicaId = replicaIdOf(ctx);
  const logger = ctx.logger.child({ replica: replicaId });
  const metrics: LogStreamerMetrics = logStreamerMetrics(service);
  const streamsQueue = service.queue("streams", config.streams.max);
  const publisher = ctx.publisher({ name: PUBLISHER_NAME });
  // The kernel declares the window's capacity; its depth is sampled here, on every scan.
  const windowQueue = service.queue(`publish_window_${PUBLISHER_NAME}`, config.publish.window);
  const bufferQueue = service.queue("line_buffer_bytes", config.batch.memory);
  const budget = new LineBudget(config.batch.memory, (used) => bufferQueue.setDepth(used));
  const state = new StreamState({
    redis: ctx.redis(),
    prefix: ctx.scope.keyPrefix(config.state.keyPrefix, "ls"),
    replica: replicaId,
    leaseTtlMs: config.lease.ttl,
    checkpointTtlMs: config.state.checkpointTtl,
  });

  let kc: KubeAccess | undefined = options.kubeConfig;
  let streamCtx: StreamContext | undefined;
  let consumerRunning = false;
  let stopping: Promise<void> | undefined;
  /** Stream slots held by pod changes whose claim is in flight. */
  let reserved = 0;
  const timers: NodeJS.Timeout[] = [];
  const running = new Map<string, Running>();
  // Keys already counted as queued for lack of capacity (bounded: only a counter's dedupe).
  const countedQueued = new Set<string>();
  let scanning: Promise<void> | undefined;
  let rescan = false;

  async function getPod(namespace: string, name: string, signal: AbortSignal): Promise<PodLike | undefined> {
    try {
      return await requestJson<PodLike>(kc!, {
        path: `/api/v1/namespaces/${encodeURIComponent(namespace)}/pods/${encodeURIComponent(name)}`,
        signal,
      });
    } catch (err) {
      if (err instanceof KubeApiError && err.notFound) return undefined;
      throw err;
    }
  }

  async function onPodChange(msg: BusMessage): Promise<void> {
    service.messagesIn.inc();
    let pod: PodLike;
    let type: string;
    try {
      const rc = decodeResourceChange(msg.data);
      type = rc.type;
      if (rc.resource !== "pods" || rc.group !== "") throw new PodChangeError(msg.subject, `not a pod change (${rc.resource}.${rc.group})`);
      pod = JSON.parse(rc.objectJson) as PodLike;
      if (!pod?.metadata?.uid || !pod.metadata.name) throw new PodChangeError(msg.subject, "object has no metadata.uid/name");
      pod.metadata.namespace ??= rc.namespace;
    } catch (err) {
      if (err instanceof PodChangeError) throw err;
      throw new PodChangeError(msg.subject, (err as Error).message, { cause: err });
    }
    metrics.podChanges.inc({ type });
    const instances = podInstances(pod);
    // New instances are leased to this replica in the same round trip when it has room: their streams start
    // now, not after a scan (a container that lives a few hundred milliseconds would be gone with its pod).
    // Slots are reserved while the claim is in flight: concurrent pod changes must not exceed streams.max together.
    const free = stopping ? 0 : Math.min(instances.length, Math.max(0, config.streams.max - running.size - reserved));
    reserved += free;
    let res: Awaited<ReturnType<StreamState["registerAndClaim"]>>;
    try {
      res = await state.registerAndClaim(instances, instanceKey, free);
    } finally {
      reserved -= free;
    }
    const { added, claimed } = res;
    for (const c of claimed) startStream(c.info, c.cp);
    if (added > 0) {
      metrics.instancesWanted.inc(added);
      if (claimed.length < added) kickScan();
    }
  }

  function kickScan(): void {
    if (stopping) return;
    if (scanning) {
      rescan = true;
      return;
    }
    scanning = scan()
      .catch((err: unknown) => {
        service.errors.inc({ kind: "scan" });
        logger.warn({ err }, "scan for wanted streams failed");
      })
      .finally(() => {
        scanning = undefined;
        if (rescan) {
          rescan = false;
          kickScan();
        }
      });
  }

  async function scan(): Promise<void> {
    const free = config.streams.max - running.size;
    // Ask for a few more than fit, so streams left queued for lack of capacity are seen and counted.
    const res = await state.scan(Math.max(0, free) + 64);
    const candidates = res.candidates.filter((c) => !running.has(c.key)).sort((a, b) => a.info.seenAtMs - b.info.seenAtMs);
    let taken = 0;
    const room = Math.max(0, config.streams.max - running.size - reserved);
    for (const c of candidates.slice(room)) {
      if (!countedQueued.has(c.key)) {
        if (countedQueued.size > 100_000) countedQueued.clear();
        countedQueued.add(c.key);
        metrics.streamsQueuedTotal.inc();
      }
    }
    // The leases are taken concurrently (one pipelined round trip), not one after another: a burst of new
    // containers starts its streams together.
    const got = await Promise.all(candidates.slice(0, room).map(async (c) => ({ c, cp: await state.acquire(c.key) })));
    for (const { c, cp } of got) {
      if (stopping) return;
      if (!cp) continue;
      taken++;
      countedQueued.delete(c.key);
      startStream(c.info, cp);
    }
    metrics.streamsQueued.set(Math.max(0, res.unleased - taken));
    windowQueue.setDepth(publisher.inflight);
  }

  function startStream(info: WantedInstance, cp: Checkpoint): void {
    // A pod change's claim and a scan can both lease the same instance to this replica: one stream only.
    if (running.has(instanceKey(info))) return;
    const stream = new InstanceStream(info, cp, streamCtx!);
    if (cp.owner && cp.owner !== replicaId && !cp.done && (cp.seq > 0 || cp.pend)) {
      metrics.takeovers.inc();
      logger.info({ instance: stream.key, from: cp.owner, seq: cp.seq, pending: cp.pend }, "resuming a stream from another replica's checkpoint");
    }
    metrics.streamsStarted.inc();
    const done = stream.run().then(
      (outcome) => {
        metrics.streamsFinished.inc({ outcome });
        return outcome;
      },
      (err: unknown) => {
        // The lease stays until it expires; then this or another replica resumes from the checkpoint.
        metrics.streamsFinished.inc({ outcome: "failed" });
        service.errors.inc({ kind: "stream" });
        logger.error({ err, instance: stream.key }, "log stream failed");
        return "failed" as const;
      },
    );
    running.set(stream.key, { stream, done });
    updateGauges();
    void done.then(() => {
      running.delete(stream.key);
      updateGauges();
      kickScan();
    });
  }

  function updateGauges(): void {
    metrics.streamsActive.set(running.size);
    streamsQueue.setDepth(running.size);
  }

  async function renew(): Promise<void> {
    const keys = [...running.keys()];
    try {
      const lost = await state.renew(keys);
      for (const k of lost) {
        const r = running.get(k);
        if (r && !r.stream.stopped) {
          logger.warn({ instance: k }, "lease no longer ours, stopping the stream");
          metrics.leasesLost.inc();
          r.stream.stop();
        }
      }
    } catch (err) {
      service.errors.inc({ kind: "lease" });
      logger.warn({ err }, "renewing leases failed");
    }
  }

  const consumer = ctx.consumerGroup({
    stream: FARO_RAW.name,
    consumer: {
      durable: CONSUMER_NAME,
      filterSubject: rawFilter({ cluster: config.cluster, category: "obj", a: "pods" }),
      ackWaitMs: config.consumer.ackWait,
      maxDeliver: config.consumer.maxDeliver,
      maxAckPending: config.consumer.concurrency * 8,
      description: "log-streamer: pod changes → wanted container log streams",
    },
    handler: onPodChange,
    poisonStage: POISON_STAGE,
    concurrency: config.consumer.concurrency,
    isPoison: (err) => err instanceof PodChangeError || err instanceof DecodeError || err instanceof InvalidMessageError,
  });

  return {
    replicaId,

    async start() {
      if (stopping) throw new Error("log-streamer was stopped");
      kc ??= loadKubeConfig({ kubeconfig: config.kube.kubeconfig, context: config.kube.context });
      streamCtx = {
        kc,
        budget,
        state,
        publisher,
        metrics,
        logger,
        cluster: config.cluster,
        getPod,
        settings: {
          batchLines: config.batch.lines,
          batchBytes: config.batch.bytes,
          flushMs: config.batch.flush,
          maxLineBytes: config.lines.maxBytes,
          readMaxLineBytes: config.lines.readMaxBytes,
          retryDelayMs: config.streams.retryDelay,
          maxWaitMs: 120_000,
        },
      };
      await consumer.start();
      consumerRunning = true;
      const scanTimer = setInterval(kickScan, config.streams.scanInterval);
      const renewTimer = setInterval(() => void renew(), config.lease.renew);
      timers.push(scanTimer, renewTimer);
      kickScan();
      logger.info({ maxStreams: config.streams.max, durable: consumer.name }, "log-streamer started");
    },

    /**
     * Stops taking pod changes, ends the streams (checkpoints kept) and releases their leases so another
     * replica resumes them at once. The kernel then flushes the publisher and closes Redis and NATS.
     */
    stop() {
      stopping ??= (async () => {
        for (const t of timers) clearInterval(t);
        consumerRunning = false;
        await consumer.stop();
        await scanning;
        const all = [...running.values()];
        for (const r of all) r.stream.stop();
        const outcomes = await Promise.all(all.map((r) => r.done));
        // Hand the unfinished streams over at once instead of after the lease ttl.
        await Promise.all(
          all.map(async (r, i) => {
            if (outcomes[i] !== "stopped") return;
            try {
              await state.release(r.stream.key);
            } catch (err) {
              service.errors.inc({ kind: "lease" });
              logger.warn({ err, instance: r.stream.key }, "releasing a lease failed; it expires by itself");
            }
          }),
        );
        logger.info("log-streamer stopped");
      })();
      return stopping;
    },

    readiness() {
      return consumerRunning ? true : { ok: false, detail: "not consuming pod changes" };
    },

    stats() {
      return { replica: replicaId, active: running.size, keys: [...running.keys()] };
    },
  };
}
