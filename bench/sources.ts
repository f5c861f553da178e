// Sources benchmark: what the watcher and the log-streamer publish to FARO_RAW on this machine, and their
// resident memory. Each section runs its service as a child process against a simulated cluster and a
// nats-server/redis-server started here. Prints figures; never asserts timings.
// Usage: tsx bench/sources.ts [watcher|log-streamer ...]   (no argument = every section)
// The services run with their NODE_OPTIONS from the Helm chart; BENCH_NODE_FLAGS replaces them ("" = V8 defaults).
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { parse as parseYaml } from "yaml";
import { connectBus, ensureStream, Publisher } from "@faro/bus";
import { encodeLogBatch, encodeResourceChange, FARO_RAW } from "@faro/contracts";
import { startCluster } from "@faro/kube-sim";
import { freePort, startNats, startRedis } from "@faro/test-harness";

const root = path.resolve(import.meta.dirname, "..");
const fmt = (n: number) => Math.round(n).toLocaleString("en-US");
const MiB = 1024 * 1024;

/** Sums every series of a metric in a Prometheus text exposition. */
function metricSum(text: string, name: string): number {
  let total = 0;
  for (const m of text.matchAll(new RegExp(`^${name}(?:\\{[^}]*\\})? ([0-9.e+]+)$`, "gm"))) total += Number(m[1]);
  return total;
}

/** Resident memory of a process from /proc/<pid>/status: current (VmRSS) and peak (VmHWM), bytes. */
function procRss(pid: number): { rss: number; hwm: number } {
  try {
    const text = fs.readFileSync(`/proc/${pid}/status`, "utf8");
    const kb = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, "m").exec(text)?.[1] ?? 0) * 1024;
    return { rss: kb("VmRSS"), hwm: kb("VmHWM") };
  } catch {
    // the process has exited (or no procfs): no figure rather than a wrong one
    return { rss: 0, hwm: 0 };
  }
}

// How the services run. Default: as in production, the bundle (`node apps/cli/dist/faro.mjs run <name>`,
// built here first by scripts/build.ts). BENCH_RUNTIME=tsx: the sources through the tsx loader, for comparison.
const RUNTIME = process.env.BENCH_RUNTIME === "tsx" ? "tsx" : "bundle";
let built = false;
function ensureBundle(): void {
  if (RUNTIME !== "bundle" || built) return;
  execFileSync(process.execPath, ["--import", "tsx", "scripts/build.ts"], { cwd: root, stdio: "inherit" });
  built = true;
}

/** A service's NODE_OPTIONS in the Helm chart (services.<name>.nodeOptions, else the chart-wide default). */
function deploymentNodeOptions(name: string): string {
  const values = parseYaml(fs.readFileSync(path.join(root, "deploy", "helm", "faro", "values.yaml"), "utf8")) as { nodeOptions?: string; services?: Record<string, { nodeOptions?: string }> };
  return values.services?.[name]?.nodeOptions ?? values.nodeOptions ?? "";
}

/** A Faro service as a child process (the bundle, or the sources under tsx), scraped over HTTP. */
async function startService(name: string, env: Record<string, string>): Promise<{ child: ChildProcess; metrics(): Promise<string>; rss(): { rss: number; hwm: number }; output(): string; stop(): Promise<void> }> {
  ensureBundle();
  const port = await freePort();
  let output = "";
  // As deployed: the service's NODE_OPTIONS from the Helm chart. BENCH_NODE_FLAGS replaces them (e.g.
  // "--max-old-space-size=64"; "" = V8 defaults). Passed as NODE_OPTIONS (not argv), as in a pod.
  const flags = process.env.BENCH_NODE_FLAGS ?? deploymentNodeOptions(name);
  const args = RUNTIME === "bundle" ? ["apps/cli/dist/faro.mjs", "run", name] : ["--import", "tsx", "apps/cli/src/main.ts", "run", name];
  const child = spawn(process.execPath, args, {
    cwd: root,
    env: {
      ...process.env,
      NODE_OPTIONS: flags,
      FARO_HTTP_PORT: String(port), FARO_HTTP_HOST: "127.0.0.1", FARO_LOG_LEVEL: "warn", FARO_LOG_PRETTY: "false", ...env,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  console.log(`${name}: node ${args.join(" ")} (NODE_OPTIONS="${flags}"${process.env.BENCH_NODE_FLAGS === undefined ? ", the deployment default" : ""})`);
  child.stdout!.on("data", (d: Buffer) => (output = (output + d.toString()).slice(-4000)));
  child.stderr!.on("data", (d: Buffer) => (output = (output + d.toString()).slice(-4000)));
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 120_000;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`${name} exited with ${child.exitCode ?? child.signalCode}:\n${output}`);
    try {
      if ((await fetch(`${url}/healthz`)).status === 200) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`${name} did not come up:\n${output}`);
    await sleep(100);
  }
  return {
    child,
    metrics: async () => await (await fetch(`${url}/metrics`)).text(),
    rss: () => procRss(child.pid!),
    output: () => output,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((r) => child.once("exit", r));
      child.kill("SIGTERM");
      await exited;
    },
  };
}

// ====================================================================================================
// watcher — changes/s published with 10,000 pods churning, and the watcher's RSS
// ====================================================================================================

const WATCHER_PODS = Number(process.env.BENCH_WATCHER_PODS ?? 10_000);
const WATCHER_CHANGES = Number(process.env.BENCH_WATCHER_CHANGES ?? 30_000);

function benchPod(i: number) {
  const app = `app-${i % 100}`;
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: {
      name: `pod-${i}`,
      namespace: `bench-${i % 10}`,
      labels: { app, tier: "backend", "pod-template-hash": "5d8f7c9b6d" },
      annotations: { "faro.dev/bench": "true" },
    },
    spec: {
      nodeName: `sim-node-${(i % 3) + 1}`,
      containers: [
        {
          name: "app",
          image: `registry.example.com/team/${app}:1.${i % 7}.0`,
          ports: [{ containerPort: 8080, protocol: "TCP" }],
          env: [
            { name: "LOG_LEVEL", value: "info" },
            { name: "REGION", value: "eu-west-1" },
          ],
          resources: { requests: { cpu: "50m", memory: "64Mi" }, limits: { memory: "128Mi" } },
        },
      ],
    },
  };
}

async function benchWatcher(): Promise<void> {
  console.log(`\n## watcher: ${fmt(WATCHER_PODS)} pods, ${fmt(WATCHER_CHANGES)} pod changes`);
  const [nats, redis, cluster] = await Promise.all([startNats(), startRedis(), startCluster({ port: 0, speed: 1, truthLines: false, nodes: 3 })]);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "faro-bench-watcher-"));
  const kubeconfig = path.join(dir, "kubeconfig");
  cluster.writeKubeconfig(kubeconfig);
  // The kubelet would start 10,000 containers with logs and Events; this section measures the watcher,
  // so the pods' changes are driven directly (status/label updates), at a known count.
  cluster.kubelet.stop();
  const s = cluster.store;
  const pods = s.typeFor("", "pods")!;
  const nsType = s.typeFor("", "namespaces")!;
  for (let n = 0; n < 10; n++) s.create(nsType, { apiVersion: "v1", kind: "Namespace", metadata: { name: `bench-${n}` } });
  for (let i = 0; i < WATCHER_PODS; i++) {
    s.create(pods, benchPod(i));
    if (i % 1000 === 999) await sleep(0);
  }
  let svc: Awaited<ReturnType<typeof startService>> | undefined;
  try {
    // Baseline, same machine and run: the windowed Publisher alone, publishing pre-encoded pod changes.
    const bus = await connectBus({ servers: nats.url, name: "bench-baseline" });
    await ensureStream(bus.jsm, FARO_RAW);
    const sample = encodeResourceChange({
      cluster: "bench", type: "MODIFIED", group: "", version: "v1", resource: "pods", kind: "Pod", namespace: "bench-0", name: "pod-0",
      uid: "u", resourceVersion: "1", observedAtMs: Date.now(), ownerRefs: [], labels: {}, objectJson: JSON.stringify(s.list(pods, "bench-0")[0]),
    });
    const pub = new Publisher({ js: bus.js, window: 1024, name: "baseline" });
    const N = 20_000;
    let t0 = performance.now();
    for (let i = 0; i < N; i++) void pub.publish(`faro.v1.raw.baseline.bench-0.obj.pods.p${i % 100}`, sample, { msgId: `baseline-${i}` });
    await pub.flush();
    const baselineRate = (N * 1000) / (performance.now() - t0);
    await pub.close();
    await bus.jsm.streams.purge(FARO_RAW.name);
    await bus.close();
    console.log(`baseline: Publisher (window 1024) alone, ${sample.length} B pod messages: ${fmt(baselineRate)} msg/s`);

    // The watcher process: initial list of every object, then live changes.
    t0 = performance.now();
    svc = await startService("watcher", {
      FARO_CLUSTER: "bench",
      FARO_NATS_URL: nats.url,
      FARO_REDIS_URL: redis.url,
      FARO_KUBE_KUBECONFIG: kubeconfig,
    });
    const idleRss = svc.rss().rss;
    let peakRss = 0;
    const published = async () => {
      const text = await svc!.metrics();
      peakRss = Math.max(peakRss, svc!.rss().hwm);
      return { pods: metricSum(text.split("\n").filter((l) => l.includes('resource="pods"')).join("\n"), "faro_watcher_changes_published_total"), ready: metricSum(text, "faro_service_ready"), text };
    };
    let p = await published();
    while (p.pods < WATCHER_PODS) {
      await sleep(100);
      p = await published();
    }
    const syncS = (performance.now() - t0) / 1000;
    console.log(`initial list: ${fmt(WATCHER_PODS)} pods published in ${syncS.toFixed(1)} s including process start (${fmt(WATCHER_PODS / syncS)} pods/s)`);

    // Churn: WATCHER_CHANGES pod updates (label + status), round-robin, as fast as the store takes them.
    const before = p.pods;
    t0 = performance.now();
    const churn = (async () => {
      for (let i = 0; i < WATCHER_CHANGES; i++) {
        const name = `pod-${i % WATCHER_PODS}`;
        const ns = `bench-${(i % WATCHER_PODS) % 10}`;
        const cur = s.get(pods, ns, name)!;
        s.update(pods, { ...cur, metadata: { ...cur.metadata, labels: { ...cur.metadata.labels, rev: String(i) } }, status: { phase: "Running", observedRevision: i } });
        if (i % 500 === 499) await sleep(0);
      }
    })();
    const rssSamples: number[] = [];
    for (;;) {
      await sleep(250);
      p = await published();
      rssSamples.push(svc.rss().rss);
      if (p.pods - before >= WATCHER_CHANGES) break;
    }
    await churn;
    const churnS = (performance.now() - t0) / 1000;
    const inflightMax = metricSum(p.text, "faro_queue_capacity");
    console.log(`churn: ${fmt(WATCHER_CHANGES)} pod changes published in ${churnS.toFixed(1)} s = ${fmt(WATCHER_CHANGES / churnS)} changes/s (window ${fmt(inflightMax)})`);
    console.log(`watcher RSS: peak ${(peakRss / MiB).toFixed(0)} MiB, at end ${(rssSamples.at(-1)! / MiB).toFixed(0)} MiB (target ≤ 128 MiB)`);
    console.log(`watcher heap: used ${(metricSum(p.text, "nodejs_heap_size_used_bytes") / MiB).toFixed(0)} MiB of ${(metricSum(p.text, "nodejs_heap_size_total_bytes") / MiB).toFixed(0)} MiB, external ${(metricSum(p.text, "nodejs_external_memory_bytes") / MiB).toFixed(0)} MiB; RSS when /healthz first answered ${(idleRss / MiB).toFixed(0)} MiB`);
    console.log(`publish errors: ${metricSum(p.text, "faro_watcher_publish_errors_total")}, JetStream duplicates: ${metricSum(p.text, "faro_watcher_publish_duplicates_total")}`);
  } finally {
    await svc?.stop();
    await cluster.stop();
    await Promise.all([nats.stop(), redis.stop()]);
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

// ====================================================================================================
// log-streamer — lines/s published by one replica following 1,000 containers, and its RSS
// ====================================================================================================

const LS_CONTAINERS = Number(process.env.BENCH_LS_CONTAINERS ?? 1000);
const LS_LINES = Number(process.env.BENCH_LS_LINES ?? 500);

async function benchLogStreamer(): Promise<void> {
  const total = LS_CONTAINERS * LS_LINES;
  console.log(`\n## log-streamer: ${fmt(LS_CONTAINERS)} containers × ${fmt(LS_LINES)} lines = ${fmt(total)} lines`);
  // 110 pods fit on a node, as on a real kubelet.
  const nodes = Math.ceil(LS_CONTAINERS / 100);
  const [nats, redis, cluster] = await Promise.all([startNats(), startRedis(), startCluster({ port: 0, speed: 1, truthLines: false, nodes })]);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "faro-bench-ls-"));
  const kubeconfig = path.join(dir, "kubeconfig");
  cluster.writeKubeconfig(kubeconfig);
  const s = cluster.store;
  const pods = s.typeFor("", "pods")!;
  const ns = "bench-logs";
  s.create(s.typeFor("", "namespaces")!, { apiVersion: "v1", kind: "Namespace", metadata: { name: ns } });
  // Every container writes LS_LINES typical ~120-byte lines when it starts, so the log-streamer meets a
  // backlog it reads as fast as it can (the simulator then idles and does not compete for the CPU).
  const startup = Array.from(
    { length: LS_LINES },
    (_, i) => `level=info ts=2026-01-01T00:00:00Z msg="request handled" path=/api/v1/orders/${i} status=200 duration_ms=${i % 97} user=u${i % 13}`,
  );
  cluster.behaviors.add({ namespace: ns, behavior: { logs: { startup } } });
  for (let i = 0; i < LS_CONTAINERS; i++) {
    s.create(pods, { apiVersion: "v1", kind: "Pod", metadata: { name: `logs-${i}`, namespace: ns, labels: { app: `app-${i % 50}` } }, spec: { containers: [{ name: "app", image: "sim/app:1.0" }] } });
    if (i % 200 === 199) await sleep(0);
  }
  const running = () => s.list(pods, ns).filter((p) => (p.status as { phase?: string } | undefined)?.phase === "Running").length;
  for (const until = Date.now() + 120_000; running() < LS_CONTAINERS; await sleep(200)) {
    if (Date.now() > until) throw new Error(`only ${running()} of ${LS_CONTAINERS} pods running`);
  }
  await sleep(500);

  let svc: Awaited<ReturnType<typeof startService>> | undefined;
  try {
    const bus = await connectBus({ servers: nats.url, name: "bench-ls" });
    await ensureStream(bus.jsm, FARO_RAW);
    // Baseline, same machine and run: the windowed Publisher alone, publishing pre-encoded 500-line batches.
    const batch = encodeLogBatch({
      cluster: "bench", namespace: ns, pod: "p", podUid: "u", container: "app", containerType: "regular", restartCount: 0, source: "follow", seqStart: 0,
      lines: startup.map((line, i) => ({ timestamp: `2026-01-01T00:00:00.${String(i).padStart(9, "0")}Z`, line, truncated: false, originalBytes: line.length })),
      podOwnerRefs: [], node: "n", observedAtMs: Date.now(), endOfStream: false, podLabels: {},
    });
    const pub = new Publisher({ js: bus.js, window: 1024, name: "baseline" });
    const N = 2000;
    let t0 = performance.now();
    for (let i = 0; i < N; i++) void pub.publish(`faro.v1.raw.baseline.${ns}.log.p${i % 100}.app`, batch, { msgId: `baseline-${i}` });
    await pub.flush();
    const baseS = (performance.now() - t0) / 1000;
    console.log(`baseline: Publisher alone, ${fmt(batch.length)} B batches of ${LS_LINES} lines: ${fmt(N / baseS)} batches/s = ${fmt((N * LS_LINES) / baseS)} lines/s`);
    await bus.jsm.streams.purge(FARO_RAW.name);

    // The pod changes the watcher would publish: one per pod, with its running status.
    const feed = new Publisher({ js: bus.js, window: 1024, name: "feed" });
    for (const p of s.list(pods, ns)) {
      const data = encodeResourceChange({
        cluster: "bench", type: "MODIFIED", group: "", version: "v1", resource: "pods", kind: "Pod", namespace: ns, name: p.metadata.name,
        uid: p.metadata.uid, resourceVersion: p.metadata.resourceVersion, observedAtMs: Date.now(), ownerRefs: [], labels: {}, objectJson: JSON.stringify(p),
      });
      void feed.publish(`faro.v1.raw.bench.${ns}.obj.pods.${p.metadata.name}`, data, { msgId: `rc-${p.metadata.uid}-${p.metadata.resourceVersion}` });
    }
    await feed.close();
    await bus.close();

    t0 = performance.now();
    svc = await startService("log-streamer", {
      FARO_CLUSTER: "bench",
      FARO_NATS_URL: nats.url,
      FARO_REDIS_URL: redis.url,
      FARO_KUBE_KUBECONFIG: kubeconfig,
      FARO_STREAMS_SCAN_INTERVAL: "200ms",
    });
    const startS = (performance.now() - t0) / 1000;
    const idleRss = svc.rss().rss;
    let peakRss = 0;
    let firstAt = 0;
    let text = "";
    let lines = 0;
    const deadline = Date.now() + 600_000;
    for (;;) {
      try {
        text = await svc.metrics();
      } catch (err) {
        // A crashed service (e.g. out of heap under a too small --max-old-space-size) says why in its output.
        await sleep(500);
        if (svc.child.exitCode !== null || svc.child.signalCode !== null) throw new Error(`log-streamer exited (${svc.child.exitCode ?? svc.child.signalCode}):\n${svc.output()}`);
        throw err;
      }
      peakRss = Math.max(peakRss, svc.rss().hwm);
      lines = metricSum(text, "faro_log_streamer_lines_total");
      if (lines > 0 && firstAt === 0) firstAt = performance.now();
      if (lines >= total || Date.now() > deadline) break;
      await sleep(100);
    }
    const endAt = performance.now();
    const allS = (endAt - t0) / 1000;
    const flowS = (endAt - firstAt) / 1000;
    console.log(`process start to ready: ${startS.toFixed(1)} s; streams active: ${fmt(metricSum(text, "faro_log_streamer_streams_active"))}`);
    console.log(
      `published: ${fmt(lines)} lines in ${fmt(metricSum(text, "faro_log_streamer_batches_total"))} batches, ${(metricSum(text, "faro_log_streamer_bytes_total") / MiB).toFixed(0)} MiB; ` +
        `${allS.toFixed(1)} s from process start = ${fmt(lines / allS)} lines/s; first to last line ${flowS.toFixed(1)} s = ${fmt(lines / flowS)} lines/s (target ≥ 50,000)`,
    );
    console.log(`log-streamer RSS: peak ${(peakRss / MiB).toFixed(0)} MiB, at end ${(svc.rss().rss / MiB).toFixed(0)} MiB (target ≤ 128 MiB)`);
    console.log(`heap used ${(metricSum(text, "nodejs_heap_size_used_bytes") / MiB).toFixed(0)} MiB of ${(metricSum(text, "nodejs_heap_size_total_bytes") / MiB).toFixed(0)} MiB, external ${(metricSum(text, "nodejs_external_memory_bytes") / MiB).toFixed(0)} MiB; RSS when /healthz first answered ${(idleRss / MiB).toFixed(0)} MiB; read errors ${metricSum(text, "faro_log_streamer_read_errors_total")}; lost instances ${metricSum(text, "faro_log_streamer_instances_lost_total")}`);
  } finally {
    await svc?.stop();
    await cluster.stop();
    await Promise.all([nats.stop(), redis.stop()]);
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

const SECTIONS: Record<string, () => Promise<void>> = {
  watcher: benchWatcher,
  "log-streamer": benchLogStreamer,
};

const wanted = process.argv.slice(2).filter((a) => !a.startsWith("-"));
for (const name of wanted.length > 0 ? wanted : Object.keys(SECTIONS)) {
  const run = SECTIONS[name];
  if (!run) {
    console.error(`unknown section ${name} (have: ${Object.keys(SECTIONS).join(", ")})`);
    process.exit(2);
  }
  await run();
}
