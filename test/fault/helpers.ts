// Shared setup of the fault tests: real NATS, Redis and the simulated cluster, the watcher and log-streamer
// replicas started through the kernel as `faro run` starts them, the log batches read back from FARO_RAW, and
// a line-by-line comparison with the simulator's ground truth (lost and duplicated lines per container instance).
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { randomBytes } from "node:crypto";
import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { ensureStream } from "@faro/bus";
import { FARO_RAW, decodeLogBatch, rawFilter, type LogBatch } from "@faro/contracts";
import { loadServiceConfig, startService, type RunningService, type AnyServiceDefinition, type ServiceInstance } from "@faro/kernel";
import { startCluster, type Cluster } from "@faro/kube-sim";
import { logStreamerService, type LogStreamer } from "@faro/log-streamer";
import { startNats, startRedis, until, type ManagedServer } from "@faro/test-harness";
import { watcherService } from "@faro/watcher";

export { until };

export interface FaultEnv {
  cluster: Cluster;
  nats: ManagedServer;
  redis: ManagedServer;
  nc: NatsConnection;
  kubeconfig: string;
  /** The pipeline's cluster token (its durables and Redis keys). */
  name: string;
  stop(): Promise<void>;
}

export async function startFaultEnv(opts: { speed?: number } = {}): Promise<FaultEnv> {
  const [nats, redis, cluster] = await Promise.all([startNats(), startRedis(), startCluster({ port: 0, speed: opts.speed ?? 20 })]);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "faro-fault-"));
  const kubeconfig = path.join(dir, "kubeconfig");
  cluster.writeKubeconfig(kubeconfig);
  const nc = await until(() => connect({ servers: nats.url }).catch(() => undefined), "a test connection to NATS", 15_000);
  await ensureStream(await jetstreamManager(nc), FARO_RAW);
  return {
    cluster,
    nats,
    redis,
    nc,
    kubeconfig,
    name: `fault-${randomBytes(3).toString("hex")}`,
    async stop() {
      await nc.close();
      await cluster.stop();
      await Promise.all([nats.stop(), redis.stop()]);
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

function baseVars(env: FaultEnv): Record<string, string> {
  return {
    FARO_CLUSTER: env.name,
    FARO_NATS_URL: env.nats.url,
    FARO_REDIS_URL: env.redis.url,
    FARO_KUBE_KUBECONFIG: env.kubeconfig,
    FARO_HTTP_PORT: "0",
    FARO_HTTP_HOST: "127.0.0.1",
    FARO_LOG_LEVEL: "warn",
    FARO_LOG_PRETTY: "false",
  };
}

async function start<I extends ServiceInstance>(def: AnyServiceDefinition, vars: Record<string, string>): Promise<RunningService<I>> {
  return (await startService(def, loadServiceConfig(def, { env: vars }), { env: vars })) as RunningService<I>;
}

/** The watcher of pods only (no Events), as `faro run watcher` starts it. */
export async function startWatcher(env: FaultEnv): Promise<RunningService> {
  return await start(watcherService, { ...baseVars(env), FARO_RESOURCES: "pods", FARO_EVENTS_ENABLED: "false", FARO_STATE_FLUSH_INTERVAL: "100ms" });
}

/** A log-streamer replica with short leases and scans, so faults resolve within the test's time. */
export async function startLogStreamer(env: FaultEnv, replica: string, extra: Record<string, string> = {}): Promise<RunningService<LogStreamer>> {
  return await start<LogStreamer>(logStreamerService, {
    ...baseVars(env),
    FARO_REPLICA: replica,
    FARO_STREAMS_SCAN_INTERVAL: "100ms",
    FARO_STREAMS_RETRY_DELAY: "50ms",
    FARO_LEASE_TTL: "1500ms",
    FARO_LEASE_RENEW: "300ms",
    FARO_BATCH_FLUSH: "5ms",
    FARO_BATCH_LINES: "50",
    ...extra,
  });
}

/** The log batches on FARO_RAW as they arrive (one ordered consumer), with lines per instance. */
export interface LogCollector {
  readonly batches: LogBatch[];
  /** Lines received per instance key `<podUid>/<container>/<restartCount>`. */
  readonly lines: Map<string, number>;
  readonly ended: Set<string>;
  stop(): Promise<void>;
}

export const instanceKey = (b: { podUid: string; container: string; restartCount: number }) => `${b.podUid}/${b.container}/${b.restartCount}`;

export async function collectLogs(nc: NatsConnection, cluster: string): Promise<LogCollector> {
  const c = await jetstream(nc).consumers.get(FARO_RAW.name, { filter_subjects: rawFilter({ cluster, category: "log" }) });
  const messages = await c.consume();
  const batches: LogBatch[] = [];
  const lines = new Map<string, number>();
  const ended = new Set<string>();
  const loop = (async () => {
    for await (const m of messages) {
      const b = decodeLogBatch(m.data);
      batches.push(b);
      const k = instanceKey(b);
      lines.set(k, (lines.get(k) ?? 0) + b.lines.length);
      if (b.endOfStream) ended.add(k);
    }
  })();
  return {
    batches,
    lines,
    ended,
    async stop() {
      await messages.close();
      await loop;
    },
  };
}

export interface LogComparison {
  /** Lines the containers wrote that are not on the bus. */
  lost: number;
  /** Lines on the bus more than once (same instance, timestamp and text), counted beyond the first. */
  duplicated: number;
  /** Lines on the bus no container wrote. */
  extra: number;
  /** Instances with other than one endOfStream batch, or batches that do not tile the seq range. */
  problems: string[];
  lines: number;
  instances: number;
}

/** Compares the bus with the ground truth for the pods with these uids, line by line. */
export function compareLogs(cluster: Cluster, batches: readonly LogBatch[], podUids: ReadonlySet<string>): LogComparison {
  const key = (inst: string, ts: string, line: string) => `${inst} ${ts} ${line}`;
  const truth = new Map<string, number>();
  const truthInstances = new Set<string>();
  for (const l of cluster.truth.lines()) {
    if (!podUids.has(l.podUid)) continue;
    const inst = instanceKey(l);
    truthInstances.add(inst);
    const k = key(inst, l.timestamp, l.line);
    truth.set(k, (truth.get(k) ?? 0) + 1);
  }
  const got = new Map<string, number>();
  const byInst = new Map<string, LogBatch[]>();
  for (const b of batches) {
    if (!podUids.has(b.podUid)) continue;
    const inst = instanceKey(b);
    let list = byInst.get(inst);
    if (!list) byInst.set(inst, (list = []));
    list.push(b);
    for (const l of b.lines) {
      const k = key(inst, l.timestamp, l.line);
      got.set(k, (got.get(k) ?? 0) + 1);
    }
  }
  let lost = 0;
  let duplicated = 0;
  let extra = 0;
  let lines = 0;
  for (const [k, n] of truth) {
    const g = got.get(k) ?? 0;
    lines += n;
    if (g < n) lost += n - g;
    if (g > n) duplicated += g - n;
  }
  for (const [k, g] of got) if (!truth.has(k)) extra += g;
  const problems: string[] = [];
  for (const inst of new Set([...truthInstances, ...byInst.keys()])) {
    const list = [...(byInst.get(inst) ?? [])].sort((a, b) => a.seqStart - b.seqStart || Number(a.endOfStream) - Number(b.endOfStream));
    const eos = list.filter((b) => b.endOfStream).length;
    if (eos !== 1) problems.push(`${inst}: ${eos} endOfStream batches`);
    let next = 0;
    for (const b of list) {
      if (b.seqStart !== next) {
        problems.push(`${inst}: batch at seq ${b.seqStart}, expected ${next}`);
        break;
      }
      next += b.lines.length;
    }
  }
  return { lost, duplicated, extra, problems: problems.slice(0, 20), lines, instances: truthInstances.size };
}

/** A bare pod with the simulator's behaviour annotations (`sim.faro.dev/...`). */
export function podManifest(
  name: string,
  annotations: Record<string, string>,
  spec: { init?: string[]; restartPolicy?: string; grace?: number; labels?: Record<string, string> } = {},
) {
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name, namespace: "default", labels: spec.labels ?? { app: name }, annotations },
    spec: {
      restartPolicy: spec.restartPolicy ?? "Always",
      terminationGracePeriodSeconds: spec.grace ?? 1,
      initContainers: (spec.init ?? []).map((c) => ({ name: c, image: "sim/init:1.0" })),
      containers: [{ name: "app", image: "sim/app:1.0" }],
    },
  };
}

export const podsOf = (cluster: Cluster) => cluster.store.typeFor("", "pods")!;

/**
 * Waits until every line the pods had written when the wait began is on the bus (their streams are live), deletes
 * the pods, and waits until each of their instances ended on the bus. A pod deleted while its stream still catches
 * up would lose lines with it, as on a real cluster.
 */
export async function finishPods(env: FaultEnv, logs: LogCollector, names: string[], timeoutMs = 30_000): Promise<Set<string>> {
  const store = env.cluster.store;
  const uids = new Set(names.map((n) => store.get(podsOf(env.cluster), "default", n)?.metadata.uid).filter((u): u is string => !!u));
  const written = env.cluster.truth.instances().filter((i) => uids.has(i.podUid));
  await until(() => written.every((i) => (logs.lines.get(instanceKey(i)) ?? 0) >= i.lines), "streams caught up", timeoutMs);
  for (const n of names) store.delete(podsOf(env.cluster), "default", n, { gracePeriodSeconds: 1 });
  await until(() => names.every((n) => !store.get(podsOf(env.cluster), "default", n)), "pods gone", timeoutMs);
  const all = new Set(env.cluster.truth.instances().filter((i) => names.includes(i.pod)).map((i) => i.podUid));
  const want = env.cluster.truth.instances().filter((i) => all.has(i.podUid)).map(instanceKey);
  await until(() => want.every((i) => logs.ended.has(i)), "every instance ended on the bus", timeoutMs);
  return all;
}

/** The sum of a metric's series in a running service's registry. */
export async function metricSum(svc: RunningService, name: string, labels: RegExp = /.*/): Promise<number> {
  let total = 0;
  for (const m of (await svc.handle.metrics.registry.metrics()).matchAll(new RegExp(`^${name}(?:\\{([^}]*)\\})? ([0-9.e+-]+)$`, "gm"))) {
    if (labels.test(m[1] ?? "")) total += Number(m[2]);
  }
  return total;
}
