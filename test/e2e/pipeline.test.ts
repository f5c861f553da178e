// The whole pipeline with the five services as separate processes (`faro run <service>`) against the
// simulated cluster running the built-in failure scenarios; the story files are compared with the
// simulator's ground truth: every Event, every log line, every pod instance, no duplicates, the incidents.
// The only lines allowed missing are those of short-lived instances the story files list as unread.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { jetstreamManager } from "@nats-io/jetstream";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { pipelineConsumers, readStoryFiles, SERVICE_NAMES, waitDrained, type ReadStory } from "@faro/cli";
import { decodeDeadLetter, FARO_DLQ } from "@faro/contracts";
import { startCluster, type Cluster } from "@faro/kube-sim";
import { startNats, startRedis, type ManagedServer } from "@faro/test-harness";
import { faro, until, type Child } from "./helpers.js";
import { compareWithTruth, storyOf } from "./truth.js";

const SPEED = 20;
/** Deployment name → the incident reason its scenario must produce (undefined: none required). */
const WORKLOADS: Record<string, { scenario: string; reason?: string }> = {
  crasher: { scenario: "crashloop", reason: "CrashLoopBackOff" },
  hungry: { scenario: "oomkill", reason: "OOMKilled" },
  broken: { scenario: "imagepull", reason: "ImagePullBackOff" },
  web: { scenario: "rollout" },
  churner: { scenario: "churn" },
};

let nats: ManagedServer;
let redis: ManagedServer;
let cluster: Cluster;
let nc: NatsConnection;
let dir: string;
const children: Child[] = [];
const CLUSTER = `e2e-${randomBytes(3).toString("hex")}`;

beforeAll(async () => {
  [nats, redis] = await Promise.all([startNats(), startRedis()]);
  cluster = await startCluster({ speed: SPEED });
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "faro-e2e-"));
  const kubeconfig = path.join(dir, "kubeconfig");
  cluster.writeKubeconfig(kubeconfig);
  nc = await connect({ servers: nats.url });
  const env = {
    FARO_NATS_URL: nats.url,
    FARO_REDIS_URL: redis.url,
    FARO_CLUSTER: CLUSTER,
    FARO_KUBE_KUBECONFIG: kubeconfig,
    FARO_HTTP_PORT: "0",
    FARO_LOG_LEVEL: "warn",
    FARO_LOG_PRETTY: "false",
  };
  const own: Record<string, Record<string, string>> = {
    // Snapshots every half second: the files catch up with the stream without a flush from outside.
    writer: { FARO_DIR: path.join(dir, "stories"), FARO_SNAPSHOT_INTERVAL: "500ms" },
  };
  for (const s of SERVICE_NAMES) children.push(faro(["run", s], { ...env, ...own[s] }));
  // Every service provisions its durable once it runs; the last one to appear is the writer's.
  const jsm = await jetstreamManager(nc);
  await until(
    "the four durables",
    async () => {
      for (const c of children) if (c.proc.exitCode !== null) throw new Error(`a service exited early:\n${c.output()}`);
      const names: string[] = [];
      for (const stream of ["FARO_RAW", "FARO_CLEAN", "FARO_INCIDENT", "FARO_STORY"]) {
        try {
          for await (const ci of jsm.consumers.list(stream)) if (ci) names.push(ci.name);
        } catch (err) {
          // The stream is not provisioned yet: poll again.
          if (!/not found/i.test((err as Error).message)) throw err;
        }
      }
      return pipelineConsumers(CLUSTER).every((c) => names.includes(c.durable));
    },
    60_000,
    200,
  );
}, 90_000);

afterAll(async () => {
  for (const c of children) c.proc.kill("SIGTERM");
  const codes = await Promise.all(children.map((c) => c.exited));
  await nc?.close();
  await cluster?.stop();
  await Promise.all([nats?.stop(), redis?.stop()]);
  if (dir && !process.env.FARO_E2E_KEEP) fs.rmSync(dir, { recursive: true, force: true });
  if (process.env.FARO_E2E_KEEP) console.log(`kept ${dir}`);
  // Each service drains and stops cleanly on SIGTERM (exit 0, docs/spec/service.md).
  expect(codes).toEqual(SERVICE_NAMES.map(() => 0));
}, 60_000);

/** What compareWithTruth() accepted without calling it a problem (printed once, for the CI log). */
const notes: string[] = [];
const compare = (stories: readonly ReadStory[], name: string) => compareWithTruth(cluster, stories, name, WORKLOADS[name]!.reason, notes);

/** The dead letters of the run, one line each (subject, service, reason). */
async function deadLetters(jsm: Awaited<ReturnType<typeof jetstreamManager>>): Promise<string[]> {
  let n = 0;
  try {
    n = (await jsm.streams.info(FARO_DLQ.name)).state.messages;
  } catch (err) {
    if (/not found/i.test((err as Error).message)) return [];
    throw err;
  }
  const out: string[] = [];
  const c = await jsm.jetstream().consumers.get(FARO_DLQ.name);
  for (let i = 0; i < n; i++) {
    const m = await c.next({ expires: 5000 });
    if (!m) break;
    const dl = decodeDeadLetter(m.data);
    out.push(`dead letter on ${m.subject}: ${dl.reason} (from ${dl.originalSubject})`);
  }
  return out;
}

describe("pipeline end to end (five processes)", () => {
  it("story files match the simulator's ground truth for crashloop, oomkill, imagepull, rollout and churn", { timeout: 180_000 }, async () => {
    const runs = [...new Set(Object.values(WORKLOADS).map((w) => w.scenario))].map((s) => cluster.runScenario(s));
    await Promise.all(runs.map((r) => r.done));
    // Let the failures repeat a little (second crash → CrashLoopBackOff, back-offs) in simulated time.
    const t0 = cluster.clock.now();
    await until("60 simulated seconds", () => cluster.clock.now() - t0 >= 60_000, 30_000, 50);
    for (const r of runs) r.stop();

    // Deleting the deployments ends every container: logs are finite and the truth is complete.
    for (const name of Object.keys(WORKLOADS)) {
      const res = await fetch(`${cluster.url}/apis/apps/v1/namespaces/default/deployments/${name}`, {
        method: "DELETE",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ kind: "DeleteOptions", apiVersion: "v1", propagationPolicy: "Background" }),
      });
      expect(res.status, name).toBeLessThan(300);
    }
    // Gone, or terminal: kube-sim keeps an evicted (Failed) pod with a deletionTimestamp forever; its
    // containers are stopped, so it writes nothing more either.
    type PodList = { items: { status?: { phase?: string } }[] };
    await until(
      "every pod gone or terminal",
      async () => ((await (await fetch(`${cluster.url}/api/v1/namespaces/default/pods`)).json()) as PodList).items.every((p) => p.status?.phase === "Failed" || p.status?.phase === "Succeeded"),
      60_000,
    );

    const jsm = await jetstreamManager(nc);
    await waitDrained(jsm, { consumers: pipelineConsumers(CLUSTER), quietMs: 1000, timeoutMs: 60_000 });
    // The writer's snapshots catch up with the drained stream; poll until the files agree (or show why not).
    let problems: string[] = [];
    await until(
      "story files matching the ground truth",
      () => {
        const stories = readStoryFiles(path.join(dir, "stories"));
        notes.length = 0;
        problems = Object.keys(WORKLOADS).flatMap((w) => compare(stories, w));
        return problems.length === 0;
      },
      30_000,
      250,
    ).catch(() => undefined);
    // Nothing was dead-lettered: every message of the run was well-formed and processed.
    problems.push(...(await deadLetters(jsm)));
    if (problems.length) {
      // What the services said about it (warnings and errors only: FARO_LOG_LEVEL=warn).
      for (const c of children) problems.push(...c.output().split("\n").filter((l) => /"level":(40|50|60)/.test(l)).slice(0, 10));
    }
    if (notes.length) console.log(notes.join("\n"));
    expect(problems).toEqual([]);
    const stories = readStoryFiles(path.join(dir, "stories"));
    // Sanity: the comparison saw real data.
    expect(storyOf(stories, "crasher").timeline.filter((t) => t.kind === "log").length).toBeGreaterThan(0);
    expect(storyOf(stories, "web").pods.length).toBeGreaterThanOrEqual(6);
    expect(storyOf(stories, "crasher").incidents.find((i) => i.reason === "CrashLoopBackOff")?.logTail.at(-1)?.line).toBe("fatal: cannot connect to database");
  });
});
