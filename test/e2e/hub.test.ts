// Many pipelines, one bus: two simulated clusters (crashloop, oomkill), each with its own pipeline of all five
// services through the kernel (startSession: a unique cluster token each), sharing ONE nats-server and ONE
// redis-server. Each cluster's story files equal its own ground truth and hold nothing of the other's; each
// pipeline's durables, subjects and Redis keys are its own; finishing one pipeline leaves the other's
// consumers exactly as they were; afterwards no consumer is left on the streams.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { jetstreamManager, type ConsumerInfo, type JetStreamManager } from "@nats-io/jetstream";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { Redis } from "ioredis";
import { pipelineConsumers, readStoryFiles, startSession, type Session } from "@faro/cli";
import { FARO_CLEAN, FARO_DLQ, FARO_INCIDENT, FARO_RAW, FARO_STORY, incidentFilter } from "@faro/contracts";
import { filterCluster } from "@faro/kernel";
import { startCluster, type Cluster } from "@faro/kube-sim";
import { startNats, startRedis, type ManagedServer } from "@faro/test-harness";
import { until } from "./helpers.js";
import { compareWithTruth } from "./truth.js";

const SPEED = 20;
const STREAMS = [FARO_RAW.name, FARO_CLEAN.name, FARO_STORY.name, FARO_INCIDENT.name];

interface Hub {
  prefix: string;
  scenario: string;
  /** The deployment of the scenario and the incident it must produce. */
  workload: string;
  reason: string;
  cluster: Cluster;
  dir: string;
  session: Session;
  finished: boolean;
}

const PLAN = [
  { prefix: "hub-a", scenario: "crashloop", workload: "crasher", reason: "CrashLoopBackOff" },
  { prefix: "hub-b", scenario: "oomkill", workload: "hungry", reason: "OOMKilled" },
] as const;

let nats: ManagedServer;
let redis: ManagedServer;
let nc: NatsConnection;
let jsm: JetStreamManager;
let root: string;
const hubs: Hub[] = [];
/** The first pipeline's durables before the second one started, and after. */
const firstConsumers: { before?: unknown; after?: unknown } = {};

beforeAll(async () => {
  [nats, redis] = await Promise.all([startNats(), startRedis()]);
  nc = await connect({ servers: nats.url });
  jsm = await jetstreamManager(nc);
  root = fs.mkdtempSync(path.join(os.tmpdir(), "faro-hub-"));
  const env = { FARO_NATS_URL: nats.url, FARO_REDIS_URL: redis.url };
  for (const p of PLAN) {
    const cluster = await startCluster({ speed: SPEED });
    const kubeconfig = path.join(root, `${p.prefix}.kubeconfig`);
    cluster.writeKubeconfig(kubeconfig);
    const dir = path.join(root, p.prefix);
    // Registered before the start, so afterAll stops the cluster even if the session fails to start.
    const hub = { ...p, cluster, dir, finished: false } as Hub;
    hubs.push(hub);
    if (hubs.length === 2) firstConsumers.before = await consumersOf(hubs[0]!);
    hub.session = await startSession({ tokenPrefix: p.prefix, kubeconfig, dir, logLevel: "warn", env, namespaces: ["default"] });
  }
  firstConsumers.after = await consumersOf(hubs[0]!);
}, 60_000);

afterAll(async () => {
  for (const h of hubs) if (h.session && !h.finished) await h.session.abort("test ended");
  for (const h of hubs) await h.cluster.stop();
  await nc?.close();
  await Promise.all([nats?.stop(), redis?.stop()]);
  if (root) fs.rmSync(root, { recursive: true, force: true });
}, 60_000);

/** Every consumer on the pipeline streams: `name filter`. */
async function allConsumers(): Promise<string[]> {
  const out: string[] = [];
  for (const stream of STREAMS) {
    try {
      for await (const ci of jsm.consumers.list(stream)) if (ci) out.push(`${ci.name} ${ci.config.filter_subject ?? ""}`);
    } catch (err) {
      if (!/not found/i.test((err as Error).message)) throw err;
    }
  }
  return out.sort();
}

/** `p`, or a clear failure after `ms` (instead of the test's own timeout). */
async function within<T>(ms: number, what: string, p: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`timed out after ${ms}ms waiting for ${what}`)), ms)));
  try {
    return await Promise.race([p, late]);
  } finally {
    clearTimeout(timer);
  }
}

/** What must not change about a consumer when another pipeline finishes: its identity and settings. */
const identity = (ci: ConsumerInfo) => ({ name: ci.name, created: ci.created, config: ci.config });

async function consumersOf(h: Hub) {
  return Promise.all(pipelineConsumers(h.session.cluster).map(async (c) => identity(await jsm.consumers.info(c.stream, c.durable))));
}

describe("many pipelines, one bus", () => {
  it("two clusters' pipelines on one NATS and one Redis: each story equals its own cluster's truth and nothing of the other's", { timeout: 120_000 }, async () => {
    const [a, b] = hubs as [Hub, Hub];
    expect(a.session.cluster).not.toBe(b.session.cluster);
    // Starting the second pipeline did not touch the first one's durables.
    expect(firstConsumers.after).toEqual(firstConsumers.before);

    // Each pipeline's durables are its own, named by its cluster and filtered on its cluster's subjects.
    const names = await allConsumers();
    expect(names).toHaveLength(hubs.length * pipelineConsumers("any").length);
    for (const h of hubs) {
      for (const c of pipelineConsumers(h.session.cluster)) {
        const ci = await jsm.consumers.info(c.stream, c.durable);
        expect(c.durable).toBe(`${h.session.cluster}_${c.service}`);
        expect(filterCluster(ci.config.filter_subject ?? ""), c.durable).toBe(h.session.cluster);
      }
    }

    // The incident each scenario must produce, awaited on the bus (its own cluster's subject).
    const incidents = hubs.map((h) => {
      const sub = nc.subscribe(incidentFilter({ cluster: h.session.cluster, namespace: "default", reason: h.reason }), { max: 1 });
      return (async () => {
        for await (const m of sub) return m.subject;
        throw new Error(`no ${h.reason} incident from ${h.session.cluster}`);
      })();
    });
    await nc.flush();
    const runs = hubs.map((h) => h.cluster.runScenario(h.scenario));
    await Promise.all(runs.map((r) => r.done));
    await Promise.all(incidents.map((p, i) => within(30_000, `the ${hubs[i]!.reason} incident of ${hubs[i]!.prefix}`, p)));
    for (const r of runs) r.stop();

    // Deleting the deployments ends every container: logs are finite and the truth is complete.
    for (const h of hubs) {
      const res = await fetch(`${h.cluster.url}/apis/apps/v1/namespaces/default/deployments/${h.workload}`, {
        method: "DELETE",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ kind: "DeleteOptions", apiVersion: "v1", propagationPolicy: "Background" }),
      });
      expect(res.status, h.workload).toBeLessThan(300);
    }
    type PodList = { items: { status?: { phase?: string } }[] };
    for (const h of hubs) {
      await until(
        `${h.prefix}: every pod gone or terminal`,
        async () => ((await (await fetch(`${h.cluster.url}/api/v1/namespaces/default/pods`)).json()) as PodList).items.every((p) => p.status?.phase === "Failed" || p.status?.phase === "Succeeded"),
        30_000,
      );
    }

    // Redis, while both run: every key either pipeline wrote carries its cluster (faro:<cluster>:…, the watcher's
    // faro:watcher:<cluster>:…); each has log-streamer, correlator and watcher keys.
    const r = new Redis(redis.url, { lazyConnect: true });
    await r.connect();
    const scoped = (k: string, cluster: string) => k.startsWith(`faro:${cluster}:`) || k.startsWith(`faro:watcher:${cluster}:`);
    try {
      const keys = await r.keys("*");
      expect(keys.filter((k) => !hubs.some((h) => scoped(k, h.session.cluster)))).toEqual([]);
      for (const h of hubs) {
        expect(keys.some((k) => k.startsWith(`faro:${h.session.cluster}:ls:`)), `${h.prefix}: log-streamer keys`).toBe(true);
        expect(keys.some((k) => k.startsWith(`faro:${h.session.cluster}:`) && !k.startsWith(`faro:${h.session.cluster}:ls:`)), `${h.prefix}: correlator keys`).toBe(true);
        expect(keys.some((k) => k.startsWith(`faro:watcher:${h.session.cluster}:`)), `${h.prefix}: watcher keys`).toBe(true);
      }
    } catch (err) {
      r.disconnect();
      throw err;
    }

    // Finishing one pipeline (drain, flush, delete its own durables) leaves the other's durables as they were.
    const before = await consumersOf(b);
    expect(await a.session.finish({ drainTimeoutMs: 30_000 })).toBe(0);
    a.finished = true;
    expect(await consumersOf(b)).toEqual(before);
    // …and removes its own Redis keys, none of the other's.
    const afterA = await r.keys("*");
    expect(afterA.filter((k) => scoped(k, a.session.cluster))).toEqual([]);
    expect(afterA.some((k) => scoped(k, b.session.cluster))).toBe(true);
    expect((await allConsumers()).every((n) => n.startsWith(`${b.session.cluster}_`)), (await allConsumers()).join("\n")).toBe(true);
    expect(await b.session.finish({ drainTimeoutMs: 30_000 })).toBe(0);
    b.finished = true;
    // Durables deleted by their own runs; no read-back or tail consumer left behind; no Redis key left.
    expect(await allConsumers()).toEqual([]);
    expect(await r.keys("*")).toEqual([]);
    r.disconnect();

    // Story files: each cluster's equal its own ground truth, and hold nothing of the other cluster.
    for (const [h, other] of [
      [a, b],
      [b, a],
    ] as const) {
      const stories = readStoryFiles(h.dir);
      expect(stories.length, h.prefix).toBeGreaterThan(0);
      for (const s of stories) expect(s.story.cluster, s.path).toBe(h.session.cluster);
      expect(compareWithTruth(h.cluster, stories, h.workload, h.reason)).toEqual([]);
      // Sanity: the comparison saw real data (pods, log lines, the incident).
      const timeline = stories.flatMap((s) => s.story.timeline);
      expect(timeline.filter((t) => t.kind === "log").length, h.prefix).toBeGreaterThan(0);
      expect(stories.flatMap((s) => s.story.pods).length, h.prefix).toBeGreaterThan(0);
      const names = new Set(stories.map((s) => s.story.workload.name));
      expect(names.has(other.workload), `${h.prefix} has a story of ${other.workload}`).toBe(false);
      const ownPods = new Set(h.cluster.truth.changes({ kind: "Pod" }).map((c) => c.uid));
      const otherPods = new Set(other.cluster.truth.changes({ kind: "Pod" }).map((c) => c.uid));
      for (const s of stories) {
        for (const p of s.story.pods) {
          expect(ownPods.has(p.uid), `${s.path}: pod ${p.uid} is not of ${h.prefix}`).toBe(true);
          expect(otherPods.has(p.uid), `${s.path}: pod ${p.uid} is of ${other.prefix}`).toBe(false);
        }
      }
    }

    // Nothing was dead-lettered by either pipeline.
    const dlq = await jsm.streams.info(FARO_DLQ.name).catch(() => undefined);
    expect(dlq?.state.messages ?? 0).toBe(0);
  });
});
