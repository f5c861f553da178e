// Delivery latency of the whole pipeline to the forwarder's gRPC sink: from the simulator's pod status change (a
// container of one of BENCH_WORKLOADS crash-looping deployments terminates) to the reference receiver's receipt
// (`faro receive grpc`, its own process) of the incident. The pipeline (watcher, log-streamer, filter,
// correlator, writer, forwarder) runs in this process as `faro demo` runs it, against a nats-server and a
// redis-server started here and the simulator at speed 1 (its clock is the wall clock). Prints p50/p95/p99.
// Usage: node_modules/.bin/tsx bench/deliveries.ts  (BENCH_WORKLOADS=20, BENCH_TIMEOUT_S=90)
import { spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { startSession } from "@faro/cli";
import { startCluster, toScenario } from "@faro/kube-sim";
import { freePort, startNats, startRedis } from "@faro/test-harness";

const WORKLOADS = Number(process.env.BENCH_WORKLOADS ?? 20);
const TIMEOUT_S = Number(process.env.BENCH_TIMEOUT_S ?? 90);
const NS = "bench";
const root = path.resolve(import.meta.dirname, "..");

function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]! : NaN;
}

interface ContainerStatus {
  state?: { terminated?: unknown; waiting?: { reason?: string } };
  lastState?: { terminated?: unknown };
}

async function main(): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "faro-bench-deliveries-"));
  const [nats, redis] = await Promise.all([startNats(), startRedis()]);
  const cluster = await startCluster({ speed: 1 });
  const port = await freePort();
  const receiver = spawn(process.execPath, ["--import", "tsx", path.join(root, "apps/cli/src/main.ts"), "receive", "grpc", "--listen", `127.0.0.1:${port}`, "--insecure"], {
    cwd: root,
    stdio: ["ignore", "pipe", "pipe"],
  });
  // Wall time of each received incident's first revision, by pod uid.
  const received = new Map<string, number>();
  let buffered = "";
  receiver.stdout!.on("data", (d: Buffer) => {
    const now = Date.now();
    buffered += d.toString();
    const lines = buffered.split("\n");
    buffered = lines.pop()!;
    for (const l of lines) {
      if (!l.startsWith("{")) continue;
      const r = JSON.parse(l) as { incident: { repeatCount: number; pod?: { uid: string } } };
      const uid = r.incident.pod?.uid;
      if (uid && r.incident.repeatCount === 1 && !received.has(uid)) received.set(uid, now);
    }
  });
  await new Promise<void>((resolve, reject) => {
    receiver.stderr!.on("data", (d: Buffer) => d.toString().includes("listening on") && resolve());
    receiver.on("exit", (code) => reject(new Error(`faro receive exited ${code}`)));
  });
  // Wall time of each pod's first crash as the API shows it (its status change), by pod uid.
  const changed = new Map<string, number>();
  const unsubscribe = cluster.store.subscribe((ev) => {
    const o = ev.object as { kind?: string; metadata?: { uid?: string; namespace?: string }; status?: { containerStatuses?: ContainerStatus[] } };
    if (o.kind !== "Pod" || o.metadata?.namespace !== NS || !o.metadata.uid || changed.has(o.metadata.uid)) return;
    const crashed = (o.status?.containerStatuses ?? []).some((c) => c.state?.terminated || c.lastState?.terminated || c.state?.waiting?.reason === "CrashLoopBackOff");
    if (crashed) changed.set(o.metadata.uid, Date.now());
  });
  const kubeconfig = path.join(dir, "kubeconfig");
  cluster.writeKubeconfig(kubeconfig);
  const session = await startSession({
    tokenPrefix: "bench",
    kubeconfig,
    dir: path.join(dir, "stories"),
    logLevel: "warn",
    namespaces: [NS],
    env: {
      ...process.env,
      FARO_NATS_URL: nats.url,
      FARO_REDIS_URL: redis.url,
      FARO_SINKS: JSON.stringify([{ name: "ai", type: "grpc", grpc: { address: `127.0.0.1:${port}`, insecure: true } }]),
    },
  });
  const deployments = Array.from({ length: WORKLOADS }, (_, i) => `crasher-${i}`);
  cluster.runScenario(
    toScenario({
      name: "deliveries",
      speed: 1,
      namespaces: [NS],
      manifests: deployments.map((name) => ({
        apiVersion: "apps/v1",
        kind: "Deployment",
        metadata: { name, namespace: NS, labels: { app: name } },
        spec: {
          replicas: 1,
          selector: { matchLabels: { app: name } },
          template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: "app", image: "sim/crasher:1.0" }] } },
        },
      })),
      behaviors: deployments.map((workload, i) => ({ workload, logs: { lines: ["working {n}"], rate: 2 }, crashAfter: `${2 + (i % 5)}s`, exitCode: 1, lastWords: "fatal: boom" })),
    }),
  );
  const deadline = Date.now() + TIMEOUT_S * 1000;
  while (Date.now() < deadline && [...changed.keys()].filter((uid) => received.has(uid)).length < WORKLOADS) await new Promise((r) => setTimeout(r, 200));
  unsubscribe();
  const latencies = [...changed].filter(([uid]) => received.has(uid)).map(([uid, at]) => received.get(uid)! - at);
  await session.abort("bench finished");
  receiver.kill("SIGTERM");
  await cluster.stop();
  await Promise.all([nats.stop(), redis.stop()]);
  fs.rmSync(dir, { recursive: true, force: true });
  console.log(`deliveries: ${latencies.length}/${WORKLOADS} crash-looping workloads, status change → gRPC receipt (ms)`);
  console.log(`  p50 ${pct(latencies, 50)}  p95 ${pct(latencies, 95)}  p99 ${pct(latencies, 99)}  max ${Math.max(...latencies)}  (goal: p95 ≤ 150)`);
  if (latencies.length < WORKLOADS) process.exitCode = 1;
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
