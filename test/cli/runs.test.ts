// Runs never block each other on one NATS and one Redis: two `faro demo` at the same time both succeed with
// their own stories, and a `faro up` killed with -9 (its durables left behind) does not stop a later demo.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { jetstreamManager } from "@nats-io/jetstream";
import { connect } from "@nats-io/transport-node";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { FARO_RAW } from "@faro/contracts";
import { startCluster, type Cluster } from "@faro/kube-sim";
import { startNats, startRedis, type ManagedServer } from "@faro/test-harness";
import { readStoryFiles } from "@faro/cli";
import { faro, killAll } from "./helpers.js";

let nats: ManagedServer;
let redis: ManagedServer;
let cluster: Cluster;
let tmp: string;
let env: Record<string, string>;

beforeAll(async () => {
  [nats, redis, cluster] = await Promise.all([startNats(), startRedis(), startCluster({ speed: 10, port: 0 })]);
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), "faro-runs-"));
  cluster.writeKubeconfig(path.join(tmp, "kubeconfig"));
  env = { FARO_NATS_URL: nats.url, FARO_REDIS_URL: redis.url };
});

afterEach(killAll);

afterAll(async () => {
  await killAll();
  await Promise.all([nats?.stop(), redis?.stop(), cluster?.stop()]);
  fs.rmSync(tmp, { recursive: true, force: true });
});

function summary(out: string): { cluster: string; stories: number } {
  const m = /faro demo: done in [\d.]+s \(cluster (demo-[0-9a-f]{6})\)\n\s+stories written: (\d+)/.exec(out);
  if (!m) throw new Error(`no summary in:\n${out}`);
  return { cluster: m[1]!, stories: Number(m[2]) };
}

describe("runs on one NATS and one Redis", () => {
  it("two faro demo at the same time both succeed, each with its own complete stories", async () => {
    const dirs = [path.join(tmp, "a"), path.join(tmp, "b")];
    const runs = dirs.map((dir) => faro(["demo", "--speed", "30", "--dir", dir], { env }));
    const codes = await Promise.all(runs.map((r) => r.exited));
    for (const [i, r] of runs.entries()) expect(codes[i]!.code, r.stderr()).toBe(0);
    const [a, b] = runs.map((r) => summary(r.stdout()));
    expect(a!.cluster).not.toBe(b!.cluster);
    for (const [i, s] of [a!, b!].entries()) {
      const stories = readStoryFiles(dirs[i]!);
      expect(stories.length).toBe(s.stories);
      // Only this run's cluster in its directory, the three failures of the scenario in each.
      expect(new Set(stories.map((x) => x.story.cluster))).toEqual(new Set([s.cluster]));
      expect(new Set(stories.flatMap((x) => x.story.incidents.map((inc) => inc.reason)))).toEqual(new Set(["CrashLoopBackOff", "ImagePullBackOff", "OOMKilled"]));
    }
    expect(a!.stories).toBe(b!.stories);
  }, 60_000);

  it("a faro up killed with -9 leaves its durables, and a later faro demo still succeeds", async () => {
    const up = faro(["up", "--kubeconfig", path.join(tmp, "kubeconfig"), "--no-http", "--cluster", "killed"], { env: { ...env, FARO_DIR: path.join(tmp, "up") } });
    await up.waitFor(/running \(cluster killed\)/);
    up.signalGroup("SIGKILL");
    await up.exited;
    const nc = await connect({ servers: nats.url });
    try {
      const jsm = await jetstreamManager(nc);
      expect((await jsm.consumers.info(FARO_RAW.name, "killed_filter")).name).toBe("killed_filter");
    } finally {
      await nc.close();
    }
    const demo = faro(["demo", "--speed", "30", "--dir", path.join(tmp, "after")], { env });
    const { code } = await demo.exited;
    expect(code, demo.stderr()).toBe(0);
    expect(summary(demo.stdout()).stories).toBeGreaterThan(0);
  }, 60_000);
});
