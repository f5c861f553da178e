// `faro capture deploy/<name>` against the simulator writes one complete, valid story file; `faro tail --json`
// replays what went over the bus; `faro run` with a bad setting exits 2 naming it.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SERVICE_NAMES } from "@faro/cli";
import { validateStoryFile, type StoryFile } from "@faro/contracts";
import { startCluster, type Cluster } from "@faro/kube-sim";
import { startNats, startRedis, type ManagedServer } from "@faro/test-harness";
import { faro, until } from "./helpers.js";

let nats: ManagedServer;
let redis: ManagedServer;
let cluster: Cluster;
let dir: string;
let kubeconfig: string;

beforeAll(async () => {
  [nats, redis] = await Promise.all([startNats(), startRedis()]);
  cluster = await startCluster({ speed: 20, scenario: "crashloop" });
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "faro-capture-test-"));
  kubeconfig = path.join(dir, "kubeconfig");
  cluster.writeKubeconfig(kubeconfig);
});

afterAll(async () => {
  await cluster?.stop();
  await Promise.all([nats?.stop(), redis?.stop()]);
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

describe("faro capture, tail and run", () => {
  it("capture deploy/crasher writes its complete story to the file", { timeout: 120_000 }, async () => {
    const out = path.join(dir, "crasher.json");
    const env = { FARO_NATS_URL: nats.url, FARO_REDIS_URL: redis.url };
    const child = faro(["capture", "deploy/crasher", "-n", "default", "--for", "4s", "-o", out, "--kubeconfig", kubeconfig], env);
    expect(await child.exited, child.output()).toBe(0);
    expect(child.output()).toMatch(/wrote .*crasher\.json: Deployment\/crasher/);
    const story = JSON.parse(fs.readFileSync(out, "utf8")) as StoryFile;
    expect(validateStoryFile(story).errors).toEqual([]);
    expect(story.workload).toMatchObject({ kind: "Deployment", name: "crasher" });
    expect(story.namespace).toBe("default");
    expect(story.cluster).toMatch(/^capture-[0-9a-f]{6}$/);
    // Every pod of the deployment the cluster had when the capture ended, with its ReplicaSet in the chain.
    const pods = new Set(cluster.truth.changes({ kind: "Pod", namespace: "default" }).map((c) => c.uid));
    expect(new Set(story.pods.map((p) => p.uid))).toEqual(pods);
    expect(story.ownerChain.map((o) => o.kind)).toEqual(["ReplicaSet", "Deployment"]);
    // Log lines: all real, none twice, and the crash's last words are there.
    const truth = new Set(cluster.truth.lines({ namespace: "default" }).map((l) => `${l.pod}#${l.restartCount} ${l.timestamp} ${l.line}`));
    const lines = story.timeline
      .filter((t) => t.kind === "log")
      .flatMap((t) => (t.data.lines as { timestamp: string; line: string }[]).map((l) => `${t.pod}#${t.data.restartCount as number} ${l.timestamp} ${l.line}`));
    expect(lines.length).toBeGreaterThan(3);
    expect(new Set(lines).size).toBe(lines.length);
    for (const l of lines) expect(truth.has(l), l).toBe(true);
    expect(lines.some((l) => l.endsWith("fatal: cannot connect to database"))).toBe(true);
    expect(story.timeline.some((t) => t.kind === "event" && t.data.reason === "Started")).toBe(true);
  });

  it("tail --json --all replays the incidents as JSON lines and stops on SIGINT", { timeout: 60_000 }, async () => {
    const child = faro(["tail", "--stage", "incident", "--json", "--all", "--nats", nats.url], {});
    try {
      const line = await until("an incident line", () => child.output().split("\n").find((l) => l.startsWith("{")), 30_000);
      const rec = JSON.parse(line) as { stage: string; message: { reason: string; namespace: string } };
      expect(rec.stage).toBe("incident");
      expect(rec.message.namespace).toBe("default");
      expect(rec.message.reason).toBe("CrashLoopBackOff");
      child.proc.kill("SIGINT");
      expect(await child.exited).toBe(0);
    } finally {
      child.proc.kill("SIGKILL");
    }
  });

  it("run exits 2 on an invalid setting, naming it", { timeout: 60_000 }, async () => {
    const child = faro(["run", "correlator", "--consumer.concurrency=0"], { FARO_NATS_URL: nats.url, FARO_REDIS_URL: redis.url });
    expect(await child.exited).toBe(2);
    expect(child.output()).toMatch(/invalid configuration for correlator[\s\S]*consumer\.concurrency/);
    const bad = faro(["run", "nope"], {});
    expect(await bad.exited).toBe(2);
    expect(bad.output().trim()).toBe(`faro run: unknown service "nope" (services: ${SERVICE_NAMES.join(", ")})`);
  });
});
