// kubectl against the simulated cluster: rollout status, logs (-f), describe, get -w, set image,
// delete with garbage collection. Skipped visibly when kubectl is not installed.
import { execFile, execFileSync, spawn } from "node:child_process";
import { promisify } from "node:util";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startCluster, type Cluster } from "../src/index.js";
import { deployment, podsOf, until } from "./cluster-helpers.js";

const hasKubectl = (() => {
  try {
    execFileSync("kubectl", ["version", "--client"], { stdio: "ignore" });
    return true;
  } catch {
    console.warn("kubectl-cluster.test.ts: kubectl not found on PATH — SKIPPING the kubectl tests");
    return false;
  }
})();

let c: Cluster;
let dir: string;
let kcfg: string;
// async: the simulated API server runs in this process, a synchronous exec would block it
const run = promisify(execFile);
const kubectl = async (...args: string[]) => (await run("kubectl", ["--kubeconfig", kcfg, ...args], { encoding: "utf8", timeout: 30_000 })).stdout;

describe.skipIf(!hasKubectl)("kubectl against kube-sim", () => {
  beforeAll(async () => {
    c = await startCluster({ speed: 40 });
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "kube-sim-kubectl-"));
    kcfg = path.join(dir, "kubeconfig");
    c.writeKubeconfig(kcfg);
  });
  afterAll(async () => {
    await c?.stop();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it("apply + rollout status, set image creates a new ReplicaSet", async () => {
    fs.writeFileSync(path.join(dir, "web.json"), JSON.stringify(deployment("web", { replicas: 2, annotations: { "sim.faro.dev/log-lines": "hello {n}", "sim.faro.dev/log-rate": "5" } })));
    await kubectl("apply", "-f", path.join(dir, "web.json"));
    expect(await kubectl("rollout", "status", "deployment/web", "--timeout=30s")).toMatch(/successfully rolled out/);
    const before = (await kubectl("get", "rs", "-o", "name")).trim().split("\n");
    await kubectl("set", "image", "deployment/web", "app=sim/app:2.0");
    expect(await kubectl("rollout", "status", "deployment/web", "--timeout=30s")).toMatch(/successfully rolled out/);
    const after = (await kubectl("get", "rs", "-o", "name")).trim().split("\n");
    expect(after.length).toBe(before.length + 1);
  });

  it("logs, logs -f (ended by pod deletion) and describe pod", async () => {
    const pod = podsOf(c, "web").find((p) => !p.metadata.deletionTimestamp)!.metadata.name;
    await until(() => c.truth.lines({ pod }).length > 3, "some lines");
    expect(await kubectl("logs", pod)).toMatch(/hello \d+/);
    const child = spawn("kubectl", ["--kubeconfig", kcfg, "logs", "-f", pod], { stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    child.stdout.on("data", (d: Buffer) => (out += d.toString()));
    const exited = new Promise<number | null>((r) => child.on("exit", (code) => r(code)));
    const timer = setTimeout(() => child.kill("SIGKILL"), 30_000);
    await until(() => out.split("\n").length > 10, "followed lines");
    const describe = await kubectl("describe", "pod", pod);
    expect(describe).toMatch(/Status:\s+Running/);
    expect(describe).toMatch(/Successfully assigned default\/.* to sim-node-\d/);
    expect(describe).toMatch(/Started container app/);
    c.store.delete(c.store.typeFor("", "pods")!, "default", pod);
    await exited;
    clearTimeout(timer);
    expect(out).toMatch(/hello \d+\n/);
  });

  it("get -w sees a scale-up", async () => {
    const child = spawn("kubectl", ["--kubeconfig", kcfg, "get", "pods", "-w", "--no-headers"], { stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    child.stdout.on("data", (d: Buffer) => (out += d.toString()));
    try {
      await until(() => out.includes("web-"), "initial listing");
      await kubectl("scale", "deployment/web", "--replicas=4");
      await until(() => new Set([...out.matchAll(/^(web-\S+)/gm)].map((m) => m[1])).size >= 4, "4 pods seen by get -w");
    } finally {
      child.kill("SIGTERM");
    }
  });

  it("delete deploy garbage-collects ReplicaSets and Pods", async () => {
    await kubectl("delete", "deployment", "web", "--timeout=30s");
    await until(() => c.store.list(c.store.typeFor("apps", "replicasets")!, "default").filter((r) => r.metadata.name.startsWith("web-")).length === 0, "replicasets gone");
    await until(() => podsOf(c, "web").length === 0, "pods gone");
    expect((await kubectl("get", "pods", "-o", "name")).trim()).toBe("");
  });
});
