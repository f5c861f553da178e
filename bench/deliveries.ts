// Two parts (BENCH_PART=latency|burst|all, default all):
// - latency: the whole pipeline to the forwarder's gRPC sink, from the simulator's pod status change (a container of
//   one of BENCH_WORKLOADS crash-looping deployments terminates) to the reference receiver's receipt
//   (`faro receive grpc`, its own process) of the incident. The pipeline (watcher, log-streamer, filter,
//   correlator, writer, forwarder) runs in this process as `faro demo` runs it, against a nats-server and a
//   redis-server started here and the simulator at speed 1 (its clock is the wall clock). Prints p50/p95/p99.
// - burst: BENCH_BURST incident revisions (default 1,000) published within BENCH_BURST_S seconds (60) to
//   `faro run forwarder` (its own process) with BENCH_CHANNELS Slack sinks (one channel each, routed by namespace),
//   against a Slack-shaped receiver that answers 429 + Retry-After: 1 above 1 message/s per channel. Checks that
//   every revision is shown exactly once (a top-level message or a thread reply) and that each thread's replies
//   arrive in revision order; prints the figures.
// Usage: node_modules/.bin/tsx bench/deliveries.ts  (BENCH_WORKLOADS=20, BENCH_TIMEOUT_S=90; BENCH_BURST=1000,
// BENCH_BURST_S=60, BENCH_CHANNELS=20, BENCH_REVISIONS=4, BENCH_BURST_TIMEOUT_S=300)
import { spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { jetstream } from "@nats-io/jetstream";
import { connect } from "@nats-io/transport-node";
import { buildIncidentSubject, encodeIncidentContext, type Encodable, type IncidentContext } from "@faro/contracts";
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

async function latency(): Promise<void> {
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

/** A revision of a crash-looping pod's incident, as the correlator publishes it. */
function burstIncident(cluster: string, namespace: string, id: string, repeatCount: number): Encodable<IncidentContext> {
  const now = new Date().toISOString();
  return {
    schemaVersion: 1, incidentId: id, storyId: `s-${id}`, tenant: "bench", cluster, namespace, reason: "CrashLoopBackOff", severity: "high",
    detectedAt: now, k8sTimestamp: now, firstSeen: now, lastSeen: now, repeatCount, isUpdate: repeatCount > 1,
    ownerChain: [{ apiVersion: "apps/v1", kind: "Deployment", name: id, uid: `dep-${id}` }],
    pod: { name: `${id}-pod`, uid: `pod-${id}`, node: "node-1", replacesPodUid: "" }, container: "app", exitCode: 1, restartCount: repeatCount,
    message: "back-off restarting failed container", logTail: [{ timestamp: now, line: "fatal: boom", truncated: false, originalBytes: 11 }],
    previousLog: [], previousLogSource: "buffer", events: [], manifests: [], recentChanges: [],
  } as Encodable<IncidentContext>;
}

async function burst(): Promise<void> {
  const TOTAL = Number(process.env.BENCH_BURST ?? 1000);
  const WINDOW_S = Number(process.env.BENCH_BURST_S ?? 60);
  const CHANNELS = Number(process.env.BENCH_CHANNELS ?? 20);
  const REVISIONS = Number(process.env.BENCH_REVISIONS ?? 4);
  const LIMIT_S = Number(process.env.BENCH_BURST_TIMEOUT_S ?? 300);
  const cluster = "burst";
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "faro-bench-burst-"));
  const [nats, redis] = await Promise.all([startNats(), startRedis()]);
  // The Slack Web API shape: chat.postMessage / chat.update; 1 accepted message per second per channel, else 429.
  const lastAccepted = new Map<string, number>();
  const threads = new Map<string, number[]>(); // parent ts → reply counts in arrival order
  const parents = new Map<string, string>(); // incident id → parent ts
  const shown = new Map<string, number>(); // `<id>:<count>` → times shown
  let throttled = 0;
  let updates = 0;
  let n = 0;
  const server = http.createServer((req, res) => {
    let body = "";
    req.on("data", (d: Buffer) => (body += d.toString()));
    req.on("end", () => {
      const b = JSON.parse(body) as { channel: string; ts?: string; thread_ts?: string; text: string };
      const now = Date.now();
      if (now - (lastAccepted.get(b.channel) ?? 0) < 1000) {
        throttled++;
        res.writeHead(429, { "content-type": "application/json", "retry-after": "1" });
        res.end(JSON.stringify({ ok: false, error: "ratelimited" }));
        return;
      }
      lastAccepted.set(b.channel, now);
      const m = /\/Deployment\/(\S+) .*×(\d+)$/.exec(b.text);
      const id = m?.[1] ?? "?";
      const count = Number(m?.[2] ?? 0);
      let ts = b.ts ?? `1700000000.${String(++n).padStart(6, "0")}`;
      if (req.url?.endsWith("chat.update")) updates++;
      else {
        shown.set(`${id}:${count}`, (shown.get(`${id}:${count}`) ?? 0) + 1);
        if (b.thread_ts) threads.get(b.thread_ts)?.push(count);
        else {
          parents.set(id, ts);
          threads.set(ts, []);
        }
      }
      ts = b.ts ?? ts;
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify({ ok: true, channel: b.channel, ts }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const api = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api`;
  fs.writeFileSync(path.join(dir, "token"), "xoxb-bench");
  const sinks = Array.from({ length: CHANNELS }, (_, c) => ({
    name: `chat-${c}`,
    type: "slack",
    concurrency: 8,
    retry: { base: "200ms", max: "5s", maxRetryAfter: "60s" },
    slack: { apiUrl: api, channel: `C${c}`, token: { file: path.join(dir, "token") } },
  }));
  const routes = sinks.map((s, c) => ({ sinks: [s.name], namespaces: [`ns-${c}`] }));
  const fwd: ChildProcess = spawn(process.execPath, ["--import", "tsx", path.join(root, "apps/cli/src/main.ts"), "run", "forwarder"], {
    cwd: root,
    stdio: ["ignore", "ignore", "pipe"],
    env: { ...process.env, FARO_NATS_URL: nats.url, FARO_REDIS_URL: redis.url, FARO_CLUSTER: cluster, FARO_HTTP_PORT: String(await freePort()), FARO_LOG_LEVEL: "warn", FARO_SINKS: JSON.stringify(sinks), FARO_ROUTES: JSON.stringify(routes) },
  });
  let stderr = "";
  fwd.stderr!.on("data", (d: Buffer) => (stderr += d.toString()));
  const nc = await connect({ servers: nats.url });
  const js = jetstream(nc);
  // Wait for the forwarder's durables (it provisions the streams).
  const jsm = await js.jetstreamManager();
  for (const started = Date.now(); ; ) {
    const ok = await jsm.consumers.info("FARO_INCIDENT", `${cluster}_forwarder-chat-${CHANNELS - 1}`).then(() => true, () => false);
    if (ok) break;
    if (Date.now() - started > 60_000 || fwd.exitCode !== null) throw new Error(`the forwarder did not start: ${stderr.slice(-2000)}`);
    await new Promise((r) => setTimeout(r, 200));
  }
  const incidents = Math.ceil(TOTAL / REVISIONS);
  const t0 = Date.now();
  for (let k = 0; k < TOTAL; k++) {
    // Revision r of incident i: all first revisions first, then the repeats, spread evenly over the window.
    const r = Math.floor(k / incidents) + 1;
    const i = k % incidents;
    const ns = `ns-${i % CHANNELS}`;
    const inc = burstIncident(cluster, ns, `inc-${i}`, r);
    await js.publish(buildIncidentSubject(inc.tenant, cluster, ns, inc.reason), encodeIncidentContext(inc), { msgID: `inc:${cluster}:inc-${i}:${r}` });
    const due = t0 + ((k + 1) * WINDOW_S * 1000) / TOTAL;
    if (due > Date.now()) await new Promise((res) => setTimeout(res, due - Date.now()));
  }
  const published = Date.now() - t0;
  // Every revision shown, and every repeat's chat.update of its thread's first message done.
  const done = () => shown.size >= TOTAL && updates >= TOTAL - incidents;
  const deadline = Date.now() + LIMIT_S * 1000;
  while (!done() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 250));
  const drained = Date.now() - t0;
  const twice = [...shown.values()].filter((v) => v > 1).length;
  let outOfOrder = 0;
  for (const replies of threads.values()) for (let j = 1; j < replies.length; j++) if (replies[j]! < replies[j - 1]!) outOfOrder++;
  fwd.kill("SIGTERM");
  await new Promise((r) => fwd.once("exit", r));
  await nc.close();
  server.close();
  await Promise.all([nats.stop(), redis.stop()]);
  fs.rmSync(dir, { recursive: true, force: true });
  console.log(`burst: ${TOTAL} revisions (${incidents} incidents × ${REVISIONS}) published in ${(published / 1000).toFixed(1)} s to ${CHANNELS} Slack channels limited to 1 message/s each`);
  console.log(`  shown ${shown.size}/${TOTAL} (twice: ${twice}), threads ${parents.size}, replies out of order ${outOfOrder}, chat.update ${updates}/${TOTAL - incidents}, 429 answered ${throttled}`);
  console.log(`  all shown ${(drained / 1000).toFixed(1)} s after the first publish (receiver floor: ${Math.ceil((incidents + (TOTAL - incidents) * 2) / CHANNELS)} s per channel)`);
  if (!done() || twice > 0 || outOfOrder > 0) process.exitCode = 1;
}

async function main(): Promise<void> {
  const part = process.env.BENCH_PART ?? "all";
  if (part === "latency" || part === "all") await latency();
  if (part === "burst" || part === "all") await burst();
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
