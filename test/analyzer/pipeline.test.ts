// The demo scenario through the whole pipeline plus the analyzer (watcher → log-streamer → filter → correlator →
// analyzer → writer, in one process on real NATS and Redis against the simulator): every incident revision the
// correlator publishes gets one insight from the built-in analyzers, whose evidence references resolve into
// exactly that revision of the incident, and the story files carry the insights with their incidents.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { DeliverPolicy, jetstream, type JetStreamClient } from "@nats-io/jetstream";
import { loadPipelineConfig, readStoryFiles, startPipeline, type Flushable, type Pipeline } from "@faro/cli";
import { decodeIncidentContext, decodeInsight, evidenceResolves, FARO_INCIDENT, FARO_INSIGHT, incidentFilter, insightFilter, type IncidentContext, type Insight } from "@faro/contracts";
import { startCluster, type Cluster } from "@faro/kube-sim";
import { createLogger } from "@faro/observability";
import { startNats, startRedis, until, type ManagedServer } from "@faro/test-harness";

const CLUSTER = "analysis-e2e";
/** The demo's failing workloads, the incident each must raise, and the built-in analyzer that must explain it. */
const EXPECTED: Record<string, { reason: string; analyzer: string; cause: RegExp }> = {
  payments: { reason: "CrashLoopBackOff", analyzer: "builtin:exit-code", cause: /exited with code 1.*panic: runtime error/ },
  recommender: { reason: "OOMKilled", analyzer: "builtin:oomkilled", cause: /OOM-killed without a memory limit/ },
  inventory: { reason: "ImagePullBackOff", analyzer: "builtin:image-pull", cause: /does not know image (docker\.io\/)?shop\/inventory:does-not-exist/ },
};

let nats: ManagedServer;
let redis: ManagedServer;
let cluster: Cluster;
let nc: NatsConnection;
let js: JetStreamClient;
let pipeline: Pipeline | undefined;
let dir: string;

beforeAll(async () => {
  [nats, redis] = await Promise.all([startNats(), startRedis()]);
  cluster = await startCluster({ speed: 20, scenario: "demo" });
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "faro-analysis-e2e-"));
  const kubeconfig = path.join(dir, "kubeconfig");
  cluster.writeKubeconfig(kubeconfig);
  nc = await connect({ servers: nats.url });
  js = jetstream(nc);
  const loaded = await loadPipelineConfig({
    services: ["watcher", "log-streamer", "filter", "correlator", "analyzer", "writer"],
    env: {},
    overrides: { cluster: CLUSTER, "nats.url": nats.url, "redis.url": redis.url, "kube.kubeconfig": kubeconfig, "log.level": "warn", "log.pretty": "false" },
    serviceOverrides: { watcher: { "namespaces.include": "shop" }, writer: { dir: path.join(dir, "stories"), "snapshot.interval": "0" } },
  });
  pipeline = await startPipeline(loaded, { http: false, logger: (name) => createLogger({ service: name, level: "warn", pretty: false, destination: process.stderr }) });
}, 90_000);

afterAll(async () => {
  const code = await pipeline?.stop("test finished");
  await nc?.close();
  await cluster?.stop();
  await Promise.all([nats?.stop(), redis?.stop()]);
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
  expect(code).toBe(0);
}, 60_000);

/** Every message of a stream on a filter subject, decoded. */
async function readAll<T>(stream: string, filter: string, decode: (b: Uint8Array) => T): Promise<T[]> {
  const c = await js.consumers.get(stream, { filter_subjects: filter, deliver_policy: DeliverPolicy.All });
  const out: T[] = [];
  try {
    const pending = (await c.info()).num_pending;
    for (let i = 0; i < pending; i++) {
      const m = await c.next({ expires: 5000 });
      if (!m) break;
      out.push(decode(m.data));
    }
  } finally {
    await c.delete().catch(() => undefined);
  }
  return out;
}

const key = (id: string, rev: number) => `${id}#${rev}`;

describe("the demo through the pipeline and the analyzer", () => {
  it("gives every incident revision a built-in insight whose evidence resolves into it", { timeout: 150_000 }, async () => {
    const { incidents, insights } = await until(
      async () => {
        const incidents = await readAll(FARO_INCIDENT.name, incidentFilter({ cluster: CLUSTER }).replace(/(\.\*)+$/, ".>"), decodeIncidentContext);
        const insights = await readAll(FARO_INSIGHT.name, insightFilter({ cluster: CLUSTER }).replace(/(\.\*)+$/, ".>"), decodeInsight);
        const workloads = new Set(incidents.map((i) => `${i.ownerChain.at(-1)?.name}/${i.reason}`));
        const allThere = Object.entries(EXPECTED).every(([w, e]) => workloads.has(`${w}/${e.reason}`));
        const answered = new Set(insights.map((s) => key(s.incidentId, s.repeatCount)));
        return allThere && incidents.every((i) => answered.has(key(i.incidentId, i.repeatCount))) ? { incidents, insights } : undefined;
      },
      "an insight for every demo incident revision",
      120_000,
      500,
    );
    const byRevision = new Map<string, IncidentContext>(incidents.map((i) => [key(i.incidentId, i.repeatCount), i]));
    const builtin = new Map<string, Insight>();
    for (const s of insights) {
      expect(s.analyzer.startsWith("builtin:"), s.analyzer).toBe(true);
      expect(builtin.has(key(s.incidentId, s.repeatCount)), `one insight per revision: ${s.incidentId}`).toBe(false);
      builtin.set(key(s.incidentId, s.repeatCount), s);
    }
    expect(builtin.size).toBe(byRevision.size);
    for (const [k, ic] of byRevision) {
      const s = builtin.get(k)!;
      const where = `${ic.ownerChain.at(-1)?.name} ${ic.reason} rev ${ic.repeatCount}`;
      expect(s.analyzer, where).not.toBe("builtin:none");
      expect(s.evidence.length, where).toBeGreaterThan(0);
      expect(s.nextSteps.length, where).toBeGreaterThan(0);
      for (const e of [...s.evidence, ...s.otherFindings.flatMap((f) => f.evidence)]) expect(evidenceResolves(ic, e), `${where}: ${JSON.stringify(e)}`).toBe(true);
      expect(s).toMatchObject({ storyId: ic.storyId, tenant: ic.tenant, namespace: ic.namespace, reason: ic.reason });
    }
    for (const [workload, e] of Object.entries(EXPECTED)) {
      const ic = incidents.filter((i) => i.ownerChain.at(-1)?.name === workload && i.reason === e.reason).at(-1)!;
      const s = builtin.get(key(ic.incidentId, ic.repeatCount))!;
      expect(s.analyzer, workload).toBe(e.analyzer);
      expect(s.probableCause, workload).toMatch(e.cause);
    }

    // The writer puts each incident's insight into the story file, its references indexing that incident's lists.
    await (pipeline!.get("writer")!.instance as Flushable).flush();
    const stories = readStoryFiles(path.join(dir, "stories")).filter((r) => r.story.namespace === "shop");
    for (const [workload, e] of Object.entries(EXPECTED)) {
      const story = stories.find((r) => r.story.workload.name === workload)?.story;
      const inc = story?.incidents.find((i) => i.reason === e.reason);
      const attached = (inc?.["insights"] ?? []) as { analyzer: string; repeatCount: number; evidence: { kind: string; index: number; path: string; quote: string }[] }[];
      expect(attached.map((a) => a.analyzer), workload).toEqual([e.analyzer]);
      expect(attached[0]!.repeatCount).toBeLessThanOrEqual(inc!.repeatCount);
      for (const ref of attached[0]!.evidence.filter((r) => r.kind === "log_tail")) expect(inc!.logTail[ref.index]?.line).toBe(ref.quote);
      for (const ref of attached[0]!.evidence.filter((r) => r.kind === "event" && (r.path === "" || r.path === "message"))) expect(inc!.events[ref.index]?.message).toBe(ref.quote);
    }
    for (const r of stories) expect(r.errors, r.path).toEqual([]);
  });
});
