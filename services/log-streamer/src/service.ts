// The log-streamer on the kernel: consumes pod changes from FARO_RAW into wanted streams in Redis, takes
// leases on them up to streams.max, follows each container instance's log and publishes batches to FARO_RAW.
// The kernel owns the NATS and Redis connections, the streams, the publisher and the consumer group.
import { randomBytes } from "node:crypto";
import os from "node:os";
import type { BusMessage } from "@faro/bus";
import { DecodeError, FARO_RAW, InvalidMessageError, decodeResourceChange, rawFilter } from "@faro/contracts";
import type { KernelContext, ServiceInstance } from "@faro/kernel";
import { KubeApiError, loadKubeConfig, requestJson, type KubeAccess } from "@faro/kube";
import { sleep } from "@faro/primitives";
import type { LogStreamerConfig } from "./config.js";
import { PodChangeError } from "./errors.js";
import { instanceKey, podInstances, type PodLike, type WantedInstance } from "./instances.js";
import { LineBudget } from "./budget.js";
import { logStreamerMetrics, type LogStreamerMetrics } from "./metrics.js";
import { lastPodChanges, positionOnBus } from "./recovery.js";
import { StreamState, epochInfo, type Checkpoint } from "./state.js";
import { InstanceStream, type StreamContext, type StreamOutcome } from "./stream.js";

export const SERVICE_NAME = "log-streamer";
/** The durable consumer of pod changes every replica shares (base name: the kernel names it `<cluster>_log-streamer`). */
export const CONSUMER_NAME = "log-streamer";
/** The publisher of log batches (logs, metric labels, `faro_queue_depth{queue="publish_window_log-batches"}`). */
const PUBLISHER_NAME = "log-batches";
/**
 * For this long after Redis lost its state, a stream without a checkpoint asks the bus where it stands even when its
 * instance was not registered by the recovery: a pod change may have registered it first.
 */
const RECENT_LOSS_MS = 5 * 60_000;
/** Reads of the bus while recovering give up when nothing arrives for this long. */
const RECOVERY_IDLE_MS = 10_000;
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

/** A recovery from lost Redis state in progress; `again` when the state was lost once more meanwhile. */
interface Recovery {
  since: number;
  epoch: string;
  again: boolean;
  done: Promise<void>;
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
    // A follower reclaims its streams at its next checkpoint write or renewal, lease.renew apart at most.
    recoveryGraceMs: config.lease.renew,
    onEpoch: (epoch, previous) => {
      if (previous) stateLost(epoch, previous);
    },
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
  /** Recovery from lost Redis state: running while set; `again` when the state was lost once more meanwhile. */
  let recovery: Recovery | undefined;

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
    // A running stream only takes the pod's new labels and node: a label or annotation change never restarts it.
    for (const i of instances) running.get(instanceKey(i))?.stream.updateFrom(i);
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
      const { taken, gone } = await state.renew(keys);
      for (const k of taken) {
        const r = running.get(k);
        if (r && !r.stream.stopped) {
          logger.warn({ instance: k }, "lease held by another replica, stopping the stream");
          metrics.leasesLost.inc();
          r.stream.stop();
        }
      }
      // Nobody holds them: expired (this replica was slow) or lost with Redis' state. The follower takes them back
      // with the checkpoints it holds in memory, unless another replica resumed the stream meanwhile.
      await Promise.all(
        gone.map(async (k) => {
          const r = running.get(k);
          if (!r || r.stream.stopped) return;
          if (await r.stream.reclaim()) return;
          logger.warn({ instance: k }, "lease taken over by another replica, stopping the stream");
          metrics.leasesLost.inc();
          r.stream.stop();
        }),
      );
    } catch (err) {
      service.errors.inc({ kind: "lease" });
      logger.warn({ err }, "renewing leases failed");
    }
  }

  /**
   * Redis lost the state (its epoch changed: FLUSHALL, a restart without persistence, a failover to an empty
   * replica). The streams this replica follows reclaim their leases from memory at once; instances without a
   * checkpoint are held back for lease.renew so every follower can; every pod the bus knows has its
   * instances wanted again, and whoever takes one continues from its batches on the bus. Readiness is false until then.
   */
  function stateLost(epoch: string, previous: string): void {
    metrics.stateLosses.inc();
    logger.warn({ epoch, previous }, "Redis state lost (its epoch changed): recovering leases, checkpoints and wanted streams");
    if (recovery) {
      recovery.again = true;
      return;
    }
    if (stopping) return;
    // This replica's own streams first: their leases and checkpoints back from memory now, not at the next tick.
    void renew();
    const r: Recovery = { since: Date.now(), epoch, again: false, done: Promise.resolve() };
    recovery = r;
    metrics.recovering.set(1);
    r.done = (async () => {
      do {
        r.again = false;
        const started = Date.now();
        try {
          await recover();
        } catch (err) {
          service.errors.inc({ kind: "recovery" });
          logger.error({ err }, "recovering from lost Redis state failed; trying again");
          r.again = !stopping;
        }
        // Instances without a checkpoint are held back for lease.renew after the loss: their followers reclaim them.
        const left = config.lease.renew - (Date.now() - started);
        if (left > 0) await sleep(left, ctx.signal).catch(() => undefined);
        if (stopping) break;
        kickScan();
        await scanning;
      } while (r.again && !stopping);
    })().finally(() => {
      recovery = undefined;
      metrics.recovering.set(0);
      logger.info({ tookMs: Date.now() - r.since }, "recovered from lost Redis state");
      kickScan();
    });
  }

  /** Registers the instances of every pod whose last change on the bus is not a deletion (the wanted set is gone). */
  async function recover(): Promise<void> {
    let batch: WantedInstance[] = [];
    let added = 0;
    const flush = async () => {
      const chunk = batch;
      batch = [];
      if (chunk.length) added += await state.register(chunk, instanceKey, true);
    };
    const pods = await lastPodChanges(ctx.bus, config.cluster, { idleTimeoutMs: RECOVERY_IDLE_MS }, async (pod) => {
      for (const i of podInstances(pod)) batch.push({ ...i, recovered: true });
      if (batch.length >= 500) await flush();
    });
    await flush();
    metrics.instancesWanted.inc(added);
    logger.info({ pods, wanted: added }, "wanted streams registered again from the last pod changes on the bus");
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
        positionOnBus: (info) => positionOnBus(ctx.bus, config.cluster, info, { idleTimeoutMs: RECOVERY_IDLE_MS }),
        mayHaveLostCheckpoint: (info, epoch) => {
          if (info.recovered) return true;
          const e = epochInfo(epoch || state.epoch);
          return e.afterLoss && Date.now() - e.startedMs < RECENT_LOSS_MS;
        },
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
      // Learns the state's epoch before anything else, so a later loss of the state is recognised as one. Not fatal:
      // with Redis away the renewal timer learns it (readiness reports Redis meanwhile).
      await state.renew([]).catch((err: unknown) => {
        service.errors.inc({ kind: "lease" });
        logger.warn({ err }, "reading the Redis state's epoch failed; the next renewal reads it");
      });
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
        await recovery?.done;
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
      if (!consumerRunning) return { ok: false, detail: "not consuming pod changes" };
      if (recovery) return { ok: false, detail: `recovering from lost Redis state since ${new Date(recovery.since).toISOString()} (leases, checkpoints and wanted streams from memory and the bus)` };
      return true;
    },

    stats() {
      return { replica: replicaId, active: running.size, keys: [...running.keys()] };
    },
  };
}
