// Shared setup of the log-streamer's integration tests: real NATS + Redis + the simulated cluster, a pod
// feed that publishes pod changes to FARO_RAW like the watcher, reading log batches back and comparing
// them with the simulator's ground truth.
import { spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import * as k8s from "@kubernetes/client-node";
import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { Publisher, ensureStream } from "@faro/bus";
import {
  FARO_RAW,
  buildRawSubject,
  decodeLogBatch,
  encodeResourceChange,
  rawFilter,
  resourceChangeId,
  type LogBatch,
} from "@faro/contracts";
import { defineService, loadServiceConfig, startService, type RunningService } from "@faro/kernel";
import { ResilientWatch, type KubeObject } from "@faro/kube";
import { startCluster, type Cluster } from "@faro/kube-sim";
import { freePort, startNats, startRedis, type ManagedServer, until } from "@faro/test-harness";
import { logStreamerService } from "../src/definition.js";
import { createLogStreamer, type LogStreamer } from "../src/service.js";

export const CLUSTER = "sim";

export interface Env {
  nats: ManagedServer;
  redis: ManagedServer;
  cluster: Cluster;
  kc: k8s.KubeConfig;
  kubeconfigPath: string;
  nc: NatsConnection;
  dir: string;
  stop(): Promise<void>;
}

export async function startEnv(opts: { speed?: number } = {}): Promise<Env> {
  const [nats, redis, cluster] = await Promise.all([startNats(), startRedis(), startCluster({ port: 0, speed: opts.speed ?? 20 })]);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "faro-ls-test-"));
  const kubeconfigPath = path.join(dir, "kubeconfig");
  cluster.writeKubeconfig(kubeconfigPath);
  const kc = new k8s.KubeConfig();
  kc.loadFromString(cluster.kubeconfig());
  const nc = await connect({ servers: nats.url });
  await ensureStream(await jetstreamManager(nc), FARO_RAW);
  return {
    nats,
    redis,
    cluster,
    kc,
    kubeconfigPath,
    nc,
    dir,
    async stop() {
      await nc.close();
      await cluster.stop();
      await Promise.all([nats.stop(), redis.stop()]);
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Environment variables configuring a log-streamer against this Env (in-process and child processes). */
export function envVars(env: Env, extra: Record<string, string> = {}): Record<string, string> {
  return {
    FARO_CLUSTER: CLUSTER,
    FARO_NATS_URL: env.nats.url,
    FARO_REDIS_URL: env.redis.url,
    FARO_KUBE_KUBECONFIG: env.kubeconfigPath,
    FARO_HTTP_PORT: "0",
    FARO_HTTP_HOST: "127.0.0.1",
    FARO_LOG_LEVEL: "warn",
    FARO_LOG_PRETTY: "false",
    FARO_STREAMS_SCAN_INTERVAL: "100ms",
    FARO_STREAMS_RETRY_DELAY: "50ms",
    FARO_LEASE_TTL: "1500ms",
    FARO_LEASE_RENEW: "300ms",
    FARO_BATCH_FLUSH: "5ms",
    FARO_BATCH_LINES: "50",
    ...extra,
  };
}

/**
 * Starts an in-process log-streamer through the kernel as `faro run log-streamer` does (config from the
 * env, its logger, the health server on a free port), with the simulator's kubeconfig injected. Stop it
 * with `stop()`.
 */
export async function startLogStreamer(env: Env, extra: Record<string, string> = {}): Promise<RunningService<LogStreamer>> {
  const def = defineService({ ...logStreamerService, create: (ctx) => createLogStreamer(ctx, { kubeConfig: env.kc }) });
  const vars = envVars(env, extra);
  return await startService(def, loadServiceConfig(def, { env: vars }), { env: vars });
}

export { until };

/**
 * Publishes every pod change of the simulator to FARO_RAW the way the watcher does (subject, ResourceChange,
 * message id uid+rv+type), so these tests do not depend on the watcher service.
 */
export async function startPodFeed(env: Env): Promise<{ stop(): Promise<void> }> {
  const js = jetstream(env.nc);
  const publisher = new Publisher({ js, name: "test-pod-feed", window: 256 });
  const watch = new ResilientWatch(env.kc, {
    resource: { group: "", version: "v1", resource: "pods", kind: "Pod", apiVersion: "v1", namespaced: true },
    watchdogMs: 60_000,
    onEvent: async (ev) => {
      const o = ev.object as KubeObject & { metadata: { labels?: Record<string, string>; ownerReferences?: { apiVersion: string; kind: string; name: string; uid: string; controller?: boolean }[] } };
      const ns = o.metadata.namespace ?? "";
      const data = encodeResourceChange({
        cluster: CLUSTER,
        type: ev.type,
        group: "",
        version: "v1",
        resource: "pods",
        kind: "Pod",
        namespace: ns,
        name: o.metadata.name,
        uid: o.metadata.uid,
        resourceVersion: o.metadata.resourceVersion,
        observedAtMs: Date.now(),
        ownerRefs: (o.metadata.ownerReferences ?? []).map((r) => ({ ...r, controller: r.controller === true })),
        labels: o.metadata.labels ?? {},
        objectJson: JSON.stringify(o),
      });
      await publisher.publish(buildRawSubject(CLUSTER, ns, { category: "obj", resource: "pods", group: "", name: o.metadata.name }), data, {
        msgId: resourceChangeId(o.metadata.uid, o.metadata.resourceVersion, ev.type),
      });
    },
  });
  watch.start();
  await watch.synced;
  return {
    async stop() {
      await watch.stop();
      await publisher.close();
    },
  };
}

export interface RawBatch {
  msgId: string;
  subject: string;
  batch: LogBatch;
}

/** Log batches of FARO_RAW collected as they arrive (one ordered consumer), with per-instance tallies. */
export interface Collector {
  readonly batches: RawBatch[];
  /** Lines published per instance key. */
  readonly lines: Map<string, number>;
  /** Instances that published their endOfStream batch. */
  readonly ended: Set<string>;
  stop(): Promise<void>;
}

export async function collectBatches(nc: NatsConnection): Promise<Collector> {
  const js = jetstream(nc);
  const c = await js.consumers.get(FARO_RAW.name, { filter_subjects: rawFilter({ category: "log" }) });
  const messages = await c.consume();
  const batches: RawBatch[] = [];
  const lines = new Map<string, number>();
  const ended = new Set<string>();
  const loop = (async () => {
    for await (const m of messages) {
      const batch = decodeLogBatch(m.data);
      batches.push({ msgId: m.headers?.get("Nats-Msg-Id") ?? "", subject: m.subject, batch });
      const k = instanceOf(batch);
      lines.set(k, (lines.get(k) ?? 0) + batch.lines.length);
      if (batch.endOfStream) ended.add(k);
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

export const instanceOf = (b: { podUid: string; container: string; restartCount: number }) => `${b.podUid}/${b.container}/${b.restartCount}`;

export interface Comparison {
  /** Instances whose published lines differ from the truth (with the first difference). */
  problems: string[];
  /** Instances compared. */
  instances: number;
  /** Lines compared. */
  lines: number;
  /** Instances that ended with endOfStream. */
  ended: number;
}

/**
 * Compares the raw stream with the ground truth, per container instance: batches must tile the
 * instance's seq range exactly (no overlap, no gap — no dedupe by seq here), at most one endOfStream
 * batch and it comes last, and the lines equal the truth's (text and timestamp; a line over
 * `maxLineBytes` must be the truncated form). `requireEnd` lists instances that must have ended.
 */
export function compareWithTruth(cluster: Cluster, raw: RawBatch[], opts: { maxLineBytes?: number; only?: (inst: string) => boolean; requireEnd?: Set<string> } = {}): Comparison {
  const byInst = new Map<string, LogBatch[]>();
  for (const r of raw) {
    const k = instanceOf(r.batch);
    let l = byInst.get(k);
    if (!l) byInst.set(k, (l = []));
    l.push(r.batch);
  }
  const problems: string[] = [];
  let lines = 0;
  let ended = 0;
  const truthInstances = cluster.truth.instances().map(instanceOf);
  const all = new Set([...truthInstances, ...byInst.keys()]);
  let instances = 0;
  for (const inst of all) {
    if (opts.only && !opts.only(inst)) continue;
    instances++;
    const [podUid, container, rc] = inst.split("/");
    const truth = cluster.truth.lines({ podUid, container, restartCount: Number(rc) });
    const batches = [...(byInst.get(inst) ?? [])].sort((a, b) => a.seqStart - b.seqStart || Number(a.endOfStream) - Number(b.endOfStream));
    const got: { timestamp: string; line: string; truncated: boolean; originalBytes: number }[] = [];
    let next = 0;
    let eos = 0;
    for (const b of batches) {
      if (b.seqStart !== next) {
        problems.push(`${inst}: batch at seq ${b.seqStart}, expected ${next} (${b.seqStart < next ? "overlap/duplicate" : "gap"})`);
        break;
      }
      if (eos > 0) problems.push(`${inst}: batch after endOfStream`);
      if (b.endOfStream) eos++;
      next += b.lines.length;
      got.push(...b.lines);
    }
    if (eos > 1) problems.push(`${inst}: ${eos} endOfStream batches`);
    if (eos === 1) ended++;
    if (opts.requireEnd?.has(inst) && eos === 0) problems.push(`${inst}: no endOfStream`);
    if (got.length !== truth.length) problems.push(`${inst}: ${got.length} lines published, truth has ${truth.length}`);
    const n = Math.min(got.length, truth.length);
    for (let i = 0; i < n; i++) {
      const g = got[i]!;
      const t = truth[i]!;
      const max = opts.maxLineBytes ?? 16 * 1024;
      const tb = Buffer.byteLength(t.line);
      const okLine = tb > max ? g.truncated && g.originalBytes === tb && t.line.startsWith(g.line.slice(0, g.line.indexOf("…[truncated"))) : g.line === t.line && !g.truncated;
      if (g.timestamp !== t.timestamp || !okLine) {
        problems.push(`${inst}: line ${i} differs: got ${JSON.stringify(g).slice(0, 200)} want ${JSON.stringify(t).slice(0, 200)}`);
        break;
      }
    }
    lines += n;
  }
  return { problems, instances, lines, ended };
}

/** A bare pod with sim behaviour annotations (`sim.faro.dev/...`). */
export function pod(name: string, annotations: Record<string, string>, spec: { init?: { name: string; annotations?: Record<string, string> }[]; containers?: string[]; restartPolicy?: string; grace?: number } = {}) {
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name, namespace: "default", labels: { app: name }, annotations },
    spec: {
      restartPolicy: spec.restartPolicy ?? "Always",
      terminationGracePeriodSeconds: spec.grace ?? 30,
      initContainers: (spec.init ?? []).map((c) => ({ name: c.name, image: "sim/init:1.0" })),
      containers: (spec.containers ?? ["app"]).map((name) => ({ name, image: "sim/app:1.0" })),
    },
  };
}

export function podType(cluster: Cluster) {
  return cluster.store.typeFor("", "pods")!;
}

export interface Child {
  proc: ChildProcess;
  url: string;
  output(): string;
  exited: Promise<number | null>;
}

const ROOT = path.resolve(import.meta.dirname, "../../..");

/**
 * Runs `faro run log-streamer` (apps/cli/src/main.ts) with the given environment on a fixed HTTP port. Node
 * loads tsx itself (not the tsx binary, which runs the program in a child process): SIGKILL and SIGTERM
 * reach the service, not a wrapper.
 */
export async function spawnLogStreamer(env: Record<string, string>): Promise<Child> {
  const port = await freePort();
  const proc = spawn(process.execPath, ["--import", "tsx", "apps/cli/src/main.ts", "run", "log-streamer"], {
    cwd: ROOT,
    env: { ...process.env, ...env, FARO_HTTP_PORT: String(port) },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  proc.stdout!.on("data", (d: Buffer) => (out += d.toString()));
  proc.stderr!.on("data", (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((resolve) => proc.on("exit", (code) => resolve(code)));
  return { proc, url: `http://127.0.0.1:${port}`, output: () => out, exited };
}

/** Reads one metric (sum over its series) from a Prometheus text endpoint. */
export async function metricValue(url: string, name: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  let sum = 0;
  for (const line of text.split("\n")) {
    if (line.startsWith(`${name}{`) || line.startsWith(`${name} `)) sum += Number(line.slice(line.lastIndexOf(" ") + 1));
  }
  return sum;
}

/**
 * Waits until the published lines reach what the containers had written when the wait began (the streams
 * are live again), deletes the pods, waits until every instance ended on the stream, and compares with
 * the truth. Deleting while a stream still catches up would lose lines with the pod, as on a real cluster.
 */
export async function finishAndCompare(env: Env, collector: Collector, names: string[]): Promise<Comparison & { want: Set<string> }> {
  const store = env.cluster.store;
  const uids = new Set(names.map((n) => store.get(podType(env.cluster), "default", n)?.metadata.uid).filter((u): u is string => !!u));
  const written = env.cluster.truth.instances().filter((i) => uids.has(i.podUid));
  await until(() => written.every((i) => (collector.lines.get(instanceOf(i)) ?? 0) >= i.lines), "streams caught up", 60_000);
  for (const n of names) store.delete(podType(env.cluster), "default", n, { gracePeriodSeconds: 1 });
  await until(() => names.every((n) => !store.get(podType(env.cluster), "default", n)), "pods gone");
  // Every instance of pods by these names, earlier incarnations (deleted and recreated) included.
  const want = new Set(env.cluster.truth.instances().filter((i) => names.includes(i.pod)).map(instanceOf));
  await until(() => [...want].every((i) => collector.ended.has(i)), "every instance ended", 60_000);
  const cmp = compareWithTruth(env.cluster, collector.batches, { only: (i) => want.has(i), requireEnd: want });
  return { ...cmp, want };
}
