// Incident latency of the correlator: time from a pod's CrashLoopBackOff status change entering the clean stream
// to its IncidentContext on the bus, at 20 failures/s with and without 10,000 log lines/s of background load,
// plus the correlator's resident memory. The correlator runs as its own process as in production — the esbuild
// bundle (`node apps/cli/dist/faro.mjs run correlator`, rebuilt when older than the sources) with the
// deployment's default NODE_OPTIONS for the correlator (deploy/helm/faro/values.yaml) — against a nats-server
// and redis-server started here. Upstream stages (watcher, filter) are not included.
import { execFileSync, spawn } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { parse as parseYaml } from "yaml";
import { connectBus, Publisher } from "@faro/bus";
import { scopedDurable } from "@faro/kernel";
import {
  buildCleanSubject,
  decodeIncidentContext,
  encodeLogBatch,
  encodeResourceChange,
  logBatchId,
  resourceChangeId,
  type LogBatch,
  type ResourceChange,
} from "@faro/contracts";
import { freePort, startNats, startRedis } from "@faro/test-harness";

const SECONDS = Number(process.env.BENCH_SECONDS ?? 15);
const FAILURES_PER_S = Number(process.env.BENCH_FAILURES ?? 20);
const LINES_PER_S = Number(process.env.BENCH_LINES ?? 10_000);
const LINES_PER_BATCH = 100;
// api.enabled as deployed (the default; its kubeconfig does not exist here, so @faro/kube is loaded but makes no
// requests); BENCH_KUBE=0 turns it off so the Kubernetes access code is never loaded.
const KUBE = process.env.BENCH_KUBE !== "0";
// BENCH_STRICT=0 turns off the correlator's stream lookups for object order across replicas (consumer.strictOrder).
const STRICT = process.env.BENCH_STRICT !== "0";
// BENCH_RUNTIME=tsx runs `apps/cli/src/main.ts run correlator` under the tsx loader instead of the bundle (for comparison).
const RUNTIME = process.env.BENCH_RUNTIME === "tsx" ? "tsx" : "bundle";
// BENCH_NODE_FLAGS replaces the deployment default NODE_OPTIONS ("" = V8 defaults).
const NODE_FLAGS = process.env.BENCH_NODE_FLAGS;
// BENCH_BUILD=1 rebuilds the bundle even when it is newer than every source file.
const FORCE_BUILD = process.env.BENCH_BUILD === "1";
const root = path.resolve(import.meta.dirname, "..");
const BUNDLE = path.join(root, "apps", "cli", "dist", "faro.mjs");
const TENANT = "bench";
const CLUSTER = "bench";
const NS = "load";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const iso = (ms: number) => new Date(ms).toISOString();

function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]! : NaN;
}

function podChange(name: string, uid: string, rv: number, restarts: number, finishedMs: number): ResourceChange {
  const rs = `${name.split("-").slice(0, -1).join("-")}`;
  const owner = { apiVersion: "apps/v1", kind: "ReplicaSet", name: rs, uid: `rs-${rs}`, controller: true };
  const obj = {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name, namespace: NS, uid, resourceVersion: String(rv), creationTimestamp: iso(finishedMs - 60_000), ownerReferences: [owner] },
    spec: { nodeName: "node-1", containers: [{ name: "app", image: "bench/app:1" }] },
    status: {
      phase: "Running",
      containerStatuses: [
        restarts === 0
          ? { name: "app", restartCount: 0, ready: true, state: { running: { startedAt: iso(finishedMs - 50_000) } } }
          : { name: "app", restartCount: restarts, ready: false, state: { waiting: { reason: "CrashLoopBackOff", message: "back-off 10s" } }, lastState: { terminated: { exitCode: 1, reason: "Error", finishedAt: iso(finishedMs) } } },
      ],
    },
  };
  return { schemaVersion: 1, cluster: CLUSTER, type: restarts === 0 ? "ADDED" : "MODIFIED", group: "", version: "v1", resource: "pods", kind: "Pod", namespace: NS, name, uid, resourceVersion: String(rv), observedAtMs: Date.now(), ownerRefs: [owner], labels: {}, objectJson: JSON.stringify(obj) };
}

function batch(pod: string, uid: string, seqStart: number, n: number, atMs: number, end: boolean): LogBatch {
  const rs = pod.split("-").slice(0, -1).join("-");
  return {
    schemaVersion: 1, cluster: CLUSTER, namespace: NS, pod, podUid: uid, container: "app", containerType: "regular", restartCount: 0, source: "follow", seqStart,
    lines: Array.from({ length: n }, (_, i) => ({ timestamp: iso(atMs + i), line: `request ${seqStart + i} handled in 12ms status=200 path=/api/items`, truncated: false, originalBytes: 48 })),
    podOwnerRefs: [{ apiVersion: "apps/v1", kind: "ReplicaSet", name: rs, uid: `rs-${rs}`, controller: true }], node: "node-1", observedAtMs: Date.now(), endOfStream: end, podLabels: {},
  };
}

function rssMiB(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, "utf8"));
  return m ? Number(m[1]) / 1024 : NaN;
}

/** The correlator's NODE_OPTIONS in the Helm chart (services.correlator.nodeOptions, else the chart-wide default). */
function deploymentNodeOptions(): string {
  const values = parseYaml(fs.readFileSync(path.join(root, "deploy", "helm", "faro", "values.yaml"), "utf8")) as { nodeOptions?: string; services?: { correlator?: { nodeOptions?: string } } };
  return values.services?.correlator?.nodeOptions ?? values.nodeOptions ?? "";
}

function newestSource(dir: string): number {
  let newest = 0;
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    if (e.name === "node_modules" || e.name === "dist" || e.name === "test") continue;
    const p = path.join(dir, e.name);
    if (e.isDirectory()) newest = Math.max(newest, newestSource(p));
    else if (e.name.endsWith(".ts") && !e.name.endsWith(".test.ts")) newest = Math.max(newest, fs.statSync(p).mtimeMs);
  }
  return newest;
}

/** Builds the bundle (`npm run build`) unless it is newer than every workspace source file. */
function ensureBundle(): void {
  const sources = Math.max(newestSource(path.join(root, "packages")), newestSource(path.join(root, "services")));
  if (!FORCE_BUILD && fs.existsSync(BUNDLE) && fs.statSync(BUNDLE).mtimeMs > sources) return;
  execFileSync(process.execPath, ["--import", "tsx", "scripts/build.ts"], { cwd: root, stdio: "inherit" });
}

/** Heap figures from the correlator's /metrics (prom-client default metrics), in MiB. */
async function heapMiB(url: string): Promise<string> {
  try {
    const text = await (await fetch(`${url}/metrics`)).text();
    const v = (name: string) => Number(new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, "m").exec(text)?.[1] ?? NaN) / 2 ** 20;
    return `heap used/total ${v("nodejs_heap_size_used_bytes").toFixed(0)}/${v("nodejs_heap_size_total_bytes").toFixed(0)} MiB, external ${v("nodejs_external_memory_bytes").toFixed(0)} MiB`;
  } catch (err) {
    return `heap figures unavailable (${(err as Error).message})`;
  }
}

async function main(): Promise<void> {
  if (RUNTIME === "bundle") ensureBundle();
  const [nats, redis] = await Promise.all([startNats(), startRedis()]);
  const nodeOptions = NODE_FLAGS ?? deploymentNodeOptions();
  const args = RUNTIME === "bundle" ? [BUNDLE, "run", "correlator"] : ["--import", "tsx", "apps/cli/src/main.ts", "run", "correlator"];
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  console.log(`correlator: node ${args.map((a) => path.relative(root, a) || a).join(" ")} (NODE_OPTIONS="${nodeOptions}")`);
  const child = spawn(process.execPath, args, {
    cwd: root,
    env: { ...process.env, NODE_OPTIONS: nodeOptions, FARO_NATS_URL: nats.url, FARO_REDIS_URL: redis.url, FARO_HTTP_HOST: "127.0.0.1", FARO_HTTP_PORT: String(port), FARO_LOG_LEVEL: process.env.BENCH_LOG_LEVEL ?? "error", FARO_CLUSTER: CLUSTER, KUBECONFIG: "/nonexistent", FARO_KUBE_KUBECONFIG: "/nonexistent", FARO_API_ENABLED: KUBE ? "true" : "false", FARO_CONSUMER_STRICT_ORDER: STRICT ? "true" : "false" },
    stdio: ["ignore", "inherit", "inherit"],
  });
  const bus = await connectBus({ servers: nats.url, name: "bench-incidents" });
  const pub = new Publisher({ js: bus.js, name: "bench", window: 1024 });
  try {
    for (let i = 0; ; i++) {
      try {
        await bus.jsm.consumers.info("FARO_CLEAN", scopedDurable(CLUSTER, "correlator"));
        break;
      } catch {
        // the durable appears once the correlator has started
        if (i > 300) throw new Error("the correlator did not start");
        await sleep(100);
      }
    }
    await sleep(1000);
    console.log(`correlator idle RSS after start: ${rssMiB(child.pid!).toFixed(0)} MiB, ${await heapMiB(url)} (api.enabled=${KUBE}, consumer.strictOrder=${STRICT})`);
    const sent = new Map<string, number>();
    const latencies: number[] = [];
    const sub = bus.nc.subscribe("faro.v1.incident.>", {
      callback: (_err, m) => {
        const inc = decodeIncidentContext(m.data);
        const t0 = sent.get(inc.pod?.name ?? "");
        if (t0 !== undefined && !inc.isUpdate) latencies.push(performance.now() - t0);
      },
    });
    let rv = 1;
    let podSeq = 0;
    let peakRss = 0;
    const phase = async (label: string, withLoad: boolean) => {
      latencies.length = 0;
      sent.clear();
      const started = performance.now();
      let loadLines = 0;
      const loadSeq = new Map<number, number>();
      const loadTimer = withLoad
        ? setInterval(() => {
            // background: 10 pods writing LINES_PER_S in batches of LINES_PER_BATCH, every 100 ms
            const per = (LINES_PER_S / 10 / LINES_PER_BATCH) | 0;
            for (let k = 0; k < per; k++) {
              const p = k % 10;
              const seq = loadSeq.get(p) ?? 0;
              loadSeq.set(p, seq + LINES_PER_BATCH);
              const b = batch(`busy-7f8g9h-p${p}aaa`, `busy-${label}-${p}`, seq, LINES_PER_BATCH, Date.now(), false);
              void pub.publish(buildCleanSubject(TENANT, CLUSTER, NS, { category: "log", pod: b.pod, container: "app" }), encodeLogBatch(b), { msgId: logBatchId(b.podUid, "app", 0, seq) });
              loadLines += LINES_PER_BATCH;
            }
          }, 100)
        : undefined;
      const rssTimer = setInterval(() => (peakRss = Math.max(peakRss, rssMiB(child.pid!))), 250);
      const total = SECONDS * FAILURES_PER_S;
      for (let i = 0; i < total; i++) {
        const due = started + (i * 1000) / FAILURES_PER_S;
        const wait = due - performance.now();
        if (wait > 0) await sleep(wait);
        // every failure is a new deployment, so none is debounced into another
        const n = podSeq++;
        const name = `app${n}-5c6d7f-x${n}`;
        const uid = `pod-${label}-${n}`;
        const now = Date.now();
        const subject = buildCleanSubject(TENANT, CLUSTER, NS, { category: "obj", resource: "pods", group: "", name });
        const running = podChange(name, uid, rv++, 0, now - 1000);
        await pub.publish(subject, encodeResourceChange(running), { msgId: resourceChangeId(uid, running.resourceVersion, running.type) });
        const crash = podChange(name, uid, rv++, 1, now);
        sent.set(name, performance.now());
        void pub.publish(subject, encodeResourceChange(crash), { msgId: resourceChangeId(uid, crash.resourceVersion, crash.type) });
        // the crash's last lines arrive a moment after the status change, as from the log-streamer
        const last = batch(name, uid, 0, 5, now - 5, true);
        setTimeout(() => void pub.publish(buildCleanSubject(TENANT, CLUSTER, NS, { category: "log", pod: name, container: "app" }), encodeLogBatch(last), { msgId: logBatchId(uid, "app", 0, 0) }), 20);
      }
      const deadline = performance.now() + 30_000;
      while (latencies.length < total && performance.now() < deadline) await sleep(50);
      if (loadTimer) clearInterval(loadTimer);
      clearInterval(rssTimer);
      const secs = (performance.now() - started) / 1000;
      console.log(
        `${label.padEnd(28)} incidents ${latencies.length}/${total}  p50 ${pct(latencies, 50).toFixed(0)} ms  p95 ${pct(latencies, 95).toFixed(0)} ms  p99 ${pct(latencies, 99).toFixed(0)} ms  max ${Math.max(...latencies).toFixed(0)} ms` +
          (withLoad ? `  background ${Math.round(loadLines / secs)} lines/s` : "") + `  peak RSS ${peakRss.toFixed(0)} MiB  (at end: ${await heapMiB(url)})`,
      );
    };
    console.log(`correlator incident latency: ${FAILURES_PER_S} failures/s for ${SECONDS}s per phase, settle ends on the final log batch (sent 20 ms after the status change)`);
    await phase("baseline (no log load)", false);
    await phase(`with ${LINES_PER_S} lines/s`, true);
    sub.unsubscribe();
  } finally {
    child.kill("SIGTERM");
    await new Promise((r) => child.once("exit", r));
    await pub.close();
    await bus.close();
    await Promise.all([nats.stop(), redis.stop()]);
  }
}

await main();
