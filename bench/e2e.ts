// End-to-end benchmark: the simulator's `load` scenario through the five services (separate `faro run`
// processes) into story files; prints log lines/s with a zero-loss check against the ground truth, and RSS
// per service.
//   tsx bench/e2e.ts [--pods 50] [--rate 400] [--seconds 20] [--progress 2] [--heap MiB] [--semi MiB] [--profile svc,svc] [--profile-dir DIR]
//   (rate = lines/s per container; progress = seconds between lag/CPU lines)
import { spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import { connect } from "@nats-io/transport-node";
import { pipelineConsumers, readStoryFiles, SERVICE_NAMES, waitDrained } from "@faro/cli";
import { decodeLogBatch, decodeStoryEntry, type LogBatch, type StoryFile } from "@faro/contracts";
import { startCluster } from "@faro/kube-sim";
import { startNats, startRedis } from "@faro/test-harness";

const arg = (name: string, dflt: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : dflt;
};
const PODS = arg("pods", 50);
const RATE = arg("rate", 400);
const SECONDS = arg("seconds", 20);
const PROGRESS = arg("progress", 2);
// --heap N caps each service's V8 old space at N MiB (not the writer's, see below); --profile a,b writes CPU profiles of those services
// (.cpuprofile files, opened with Chrome DevTools) into --profile-dir.
const HEAP = arg("heap", 0);
// --semi N caps the young generation's semi-spaces at N MiB (V8's default grows them to 16–32 MiB each).
const SEMI = arg("semi", 0);
const sarg = (name: string, dflt: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? (process.argv[i + 1] ?? dflt) : dflt;
};
const PROFILE = sarg("profile", "").split(",").filter(Boolean);
const PROFILE_DIR = path.resolve(sarg("profile-dir", "bench-profiles"));
const ROOT = path.resolve(import.meta.dirname, "..");

function rssMiB(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, "utf8"));
    return m ? Number(m[1]) / 1024 : 0;
  } catch (err) {
    // The process is gone (or not Linux): no sample.
    if ((err as NodeJS.ErrnoException).code !== "ENOENT") console.error(`rss of ${pid}: ${(err as Error).message}`);
    return 0;
  }
}

const [nats, redis] = await Promise.all([startNats(), startRedis()]);
const dir = fs.mkdtempSync(path.join(os.tmpdir(), "faro-bench-e2e-"));
const cluster = await startCluster({ speed: 1 });
const kubeconfig = path.join(dir, "kubeconfig");
cluster.writeKubeconfig(kubeconfig);
const env = {
  ...process.env,
  FARO_NATS_URL: nats.url,
  FARO_REDIS_URL: redis.url,
  FARO_CLUSTER: "bench",
  FARO_KUBE_KUBECONFIG: kubeconfig,
  FARO_HTTP_PORT: "0",
  FARO_LOG_LEVEL: "warn",
  FARO_LOG_PRETTY: "false",
};
const procs = new Map<string, ChildProcess>();
const peak = new Map<string, number>();
for (const s of SERVICE_NAMES) {
  // Story files must hold every line for the loss check (no elision), and are written when a window
  // closes: the deployments are deleted at the end and their windows close 10 s later, after the pods
  // finished terminating (no snapshots; a window closed before the last lines would leave them in a window
  // that closes only when idle).
  const extra: Record<string, string> =
    s === "writer"
      ? { FARO_DIR: path.join(dir, "stories"), FARO_SNAPSHOT_INTERVAL: "0", FARO_LIMITS_MAX_LOG_LINES: "100000000", FARO_LIMITS_MAX_BYTES: "4GiB" }
      : s === "correlator"
        ? { FARO_STORY_ROOT_DELETED_GRACE: "10s" }
        : {};
  // The writer is left uncapped: for the loss check it holds whole stories (every line, no elision) in memory.
  const capped = s !== "writer";
  const flags = [...(HEAP > 0 && capped ? [`--max-old-space-size=${HEAP}`] : []), ...(SEMI > 0 && capped ? [`--max-semi-space-size=${SEMI}`] : []), ...(PROFILE.includes(s) ? ["--cpu-prof", `--cpu-prof-dir=${PROFILE_DIR}`] : [])];
  const p = spawn(process.execPath, [...flags, "--import", "tsx", path.join(ROOT, "apps/cli/src/main.ts"), "run", s], { cwd: ROOT, env: { ...env, ...extra }, stdio: ["ignore", "ignore", "inherit"] });
  procs.set(s, p);
}
const sampler = setInterval(() => {
  for (const [s, p] of procs) peak.set(s, Math.max(peak.get(s) ?? 0, rssMiB(p.pid!)));
}, 500);
const nc = await connect({ servers: nats.url });
const jsm = await jetstreamManager(nc);
const js = jetstream(nc);

// CPU seconds (user + system) a process has used so far, from /proc/<pid>/stat.
function cpuSeconds(pid: number): number {
  try {
    const f = (fs.readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1] ?? "").split(" ");
    return (Number(f[11]) + Number(f[12])) / 100;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "ENOENT") console.error(`cpu of ${pid}: ${(err as Error).message}`);
    return 0;
  }
}
const CONSUMERS: [string, string][] = pipelineConsumers("bench").map((c) => [c.stream, c.durable]);
// Per-stage lag (pending / unacked) and CPU share per process, every PROGRESS seconds, to see which stage falls behind.
let lastCpu = new Map<string, number>();
let lastAt = Date.now();
let progress: NodeJS.Timeout | undefined;
function startProgress(): void {
  const self = process.pid;
  lastCpu = new Map([...procs].map(([s, p]) => [s, cpuSeconds(p.pid!)]));
  lastCpu.set("bench+sim", cpuSeconds(self));
  lastAt = Date.now();
  progress = setInterval(() => void (async () => {
    const lag: string[] = [];
    for (const [stream, name] of CONSUMERS) {
      try {
        const ci = await jsm.consumers.info(stream, name);
        lag.push(`${name} ${ci.num_pending}/${ci.num_ack_pending}`);
      } catch (err) {
        lag.push(`${name} ?(${(err as Error).message})`);
      }
    }
    const now = Date.now();
    const cpu: string[] = [];
    for (const [s, pid] of [...[...procs].map(([s, p]) => [s, p.pid!] as const), ["bench+sim", self] as const]) {
      const c = cpuSeconds(pid);
      cpu.push(`${s} ${Math.round(((c - (lastCpu.get(s) ?? c)) / ((now - lastAt) / 1000)) * 100)}%`);
      lastCpu.set(s, c);
    }
    lastAt = now;
    console.log(`  t+${((now - t0) / 1000).toFixed(0)}s pending/unacked: ${lag.join(", ")} | cpu: ${cpu.join(", ")}`);
  })(), PROGRESS * 1000);
}
const deadline = Date.now() + 60_000;
for (;;) {
  const names: string[] = [];
  for (const stream of ["FARO_RAW", "FARO_CLEAN", "FARO_STORY"]) {
    try {
      for await (const ci of jsm.consumers.list(stream)) if (ci) names.push(ci.name);
    } catch (err) {
      if (!/not found/i.test((err as Error).message)) throw err;
    }
  }
  if (CONSUMERS.every(([, n]) => names.includes(n))) break;
  if (Date.now() > deadline) throw new Error("services did not start");
  await new Promise((r) => setTimeout(r, 200));
}

const idle = [...procs].map(([s, p]) => `${s} ${rssMiB(p.pid!).toFixed(0)}`);
console.log(`RSS when consuming, before the load (MiB): ${idle.join(", ")}`);
console.log(`load: ${PODS} pods × ${RATE} lines/s for ${SECONDS}s = ${PODS * RATE} lines/s offered`);
const t0 = Date.now();
startProgress();
const run = cluster.runScenario("load", { pods: PODS, containersPerPod: 1, linesPerSecond: RATE, namespace: "load" });
await new Promise((r) => setTimeout(r, SECONDS * 1000));
run.stop();
for (let i = 0; i < Math.ceil(PODS / 10); i++) {
  await fetch(`${cluster.url}/apis/apps/v1/namespaces/load/deployments/load-${i}`, {
    method: "DELETE",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ kind: "DeleteOptions", apiVersion: "v1", propagationPolicy: "Background" }),
  });
}
const tLoadEnd = Date.now();
type PodList = { items: { status?: { phase?: string } }[] };
while (!((await (await fetch(`${cluster.url}/api/v1/namespaces/load/pods`)).json()) as PodList).items.every((p) => p.status?.phase === "Failed" || p.status?.phase === "Succeeded")) {
  await new Promise((r) => setTimeout(r, 100));
}
const tPodsGone = Date.now();
console.log(`  pods terminated ${((tPodsGone - tLoadEnd) / 1000).toFixed(1)}s after the load ended`);
const truth = cluster.truth.lines({ namespace: "load" });
const want = new Set(truth.map((l) => `${l.podUid}/${l.container}#${l.restartCount} ${l.timestamp}`));
await waitDrained(jsm, { consumers: pipelineConsumers("bench"), quietMs: 500, timeoutMs: 600_000 });
const tDrained = Date.now();
let got = 0;
let dupes = 0;
// Story files are large (every line): each one is parsed again only when it changed since the last look,
// and validated once at the end.
const storyDir = path.join(dir, "stories", "load");
const parsedFiles = new Map<string, { stamp: string; keys: string[] }>();
function linesOf(file: string): string[] {
  const st = fs.statSync(file);
  const stamp = `${st.mtimeMs}:${st.size}`;
  const cached = parsedFiles.get(file);
  if (cached?.stamp === stamp) return cached.keys;
  const story = JSON.parse(fs.readFileSync(file, "utf8")) as StoryFile;
  const uidOf = new Map(story.pods.map((p) => [p.name, p.uid]));
  const keys: string[] = [];
  for (const t of story.timeline) {
    if (t.kind !== "log") continue;
    for (const l of t.data.lines as { timestamp: string }[]) {
      const k = `${uidOf.get(t.pod ?? "")}/${String(t.data.container)}#${String(t.data.restartCount)} ${l.timestamp}`;
      keys.push(k);
    }
  }
  parsedFiles.set(file, { stamp, keys });
  return keys;
}
console.log(`  pipeline drained ${((Date.now() - tPodsGone) / 1000).toFixed(1)}s after the pods terminated; checking files`);
const checkDeadline = Date.now() + 120_000;
for (;;) {
  const seen = new Set<string>();
  dupes = 0;
  const files = fs.existsSync(storyDir) ? fs.readdirSync(storyDir).filter((f) => f.endsWith(".json")) : [];
  for (const f of files) {
    // A line twice in one file or in two files (two windows of one story) is a duplicate.
    for (const k of linesOf(path.join(storyDir, f))) {
      if (seen.has(k)) dupes++;
      seen.add(k);
    }
  }
  got = 0;
  for (const k of want) if (seen.has(k)) got++;
  if (got === want.size || Date.now() > checkDeadline) break;
  await new Promise((r) => setTimeout(r, 1000));
}
const tFiles = Date.now();
if (got < want.size) {
  // Which container instances lost lines, and where in their stream (start, middle or end).
  const seen = new Set<string>();
  for (const e of parsedFiles.values()) for (const k of e.keys) seen.add(k);
  const byInstance = new Map<string, { missing: number; total: number; firstMissing: string; lastMissing: string; last: string }>();
  for (const k of want) {
    const [inst = "", ts = ""] = k.split(" ");
    const e = byInstance.get(inst) ?? { missing: 0, total: 0, firstMissing: "", lastMissing: "", last: "" };
    e.total++;
    if (ts > e.last) e.last = ts;
    if (!seen.has(k)) {
      e.missing++;
      if (!e.firstMissing || ts < e.firstMissing) e.firstMissing = ts;
      if (ts > e.lastMissing) e.lastMissing = ts;
    }
    byInstance.set(inst, e);
  }
  // Where the missing lines are on the bus: in FARO_RAW (published by the log-streamer), in FARO_CLEAN
  // (passed the filter), in FARO_STORY (and in which story window), or nowhere.
  const missing = new Set([...want].filter((k) => !seen.has(k)));
  const where = { raw: 0, clean: 0, story: new Map<string, number>() };
  const keysOfBatch = (lb: LogBatch) => lb.lines.map((l) => `${lb.podUid}/${lb.container}#${lb.restartCount} ${l.timestamp}`);
  for (const [stream, decode] of [
    ["FARO_RAW", (d: Uint8Array, subj: string) => (subj.includes(".log.") ? keysOfBatch(decodeLogBatch(d)).map((k) => ["raw", k] as const) : [])],
    ["FARO_CLEAN", (d: Uint8Array, subj: string) => (subj.includes(".log.") ? keysOfBatch(decodeLogBatch(d)).map((k) => ["clean", k] as const) : [])],
    [
      "FARO_STORY",
      (d: Uint8Array) => {
        const e = decodeStoryEntry(d);
        if (e.entryKind !== "log") return [];
        const pl = e.log;
        return pl.lines.map((l) => [`${e.storyId}#${e.window}`, `${e.pod?.uid}/${pl.container}#${pl.restartCount} ${l.timestamp}`] as const);
      },
    ],
  ] as const) {
    const oc = await js.consumers.get(stream);
    const total = (await jsm.streams.info(stream)).state.messages;
    let n = 0;
    for await (const m of await oc.consume()) {
      for (const [place, k] of decode(m.data, m.subject)) {
        if (!missing.has(k)) continue;
        if (place === "raw") where.raw++;
        else if (place === "clean") where.clean++;
        else where.story.set(place, (where.story.get(place) ?? 0) + 1);
      }
      if (++n >= total) break;
    }
  }
  console.log(`missing lines found on the bus: FARO_RAW ${where.raw}, FARO_CLEAN ${where.clean}, FARO_STORY ${[...where.story].map(([w, c]) => `${w}: ${c}`).join(", ") || 0}`);
  const lossy = [...byInstance].filter(([, e]) => e.missing > 0);
  console.log(`lines missing in ${lossy.length} of ${byInstance.size} container instances; e.g.:`);
  for (const [inst, e] of lossy.slice(0, 5)) console.log(`  ${inst}: ${e.missing} of ${e.total} missing, ${e.firstMissing} … ${e.lastMissing} (last line ${e.last})`);
}
const invalid = readStoryFiles(path.join(dir, "stories"), { namespace: "load" }).filter((f) => f.errors.length > 0);
clearInterval(sampler);
clearInterval(progress);
const cpuTotal = [...procs].map(([s, p]) => `${s} ${cpuSeconds(p.pid!).toFixed(1)}`);
const msgs: string[] = [];
for (const stream of ["FARO_RAW", "FARO_CLEAN", "FARO_STORY"]) {
  const si = await jsm.streams.info(stream);
  msgs.push(`${stream} ${si.state.messages} (${(truth.length / Math.max(1, si.state.messages)).toFixed(1)} lines/msg)`);
}

const secs = (ms: number) => (ms / 1000).toFixed(1);
console.log(`lines written by the cluster: ${truth.length} in ${secs(tLoadEnd - t0)}s (${Math.round(truth.length / ((tLoadEnd - t0) / 1000))} lines/s)`);
console.log(`pipeline drained ${secs(tDrained - tLoadEnd)}s after the load ended; all lines in files after ${secs(tFiles - t0)}s`);
console.log(`end to end: ${Math.round(truth.length / ((tDrained - t0) / 1000))} lines/s (cluster → story stream), ${Math.round(truth.length / ((tFiles - t0) / 1000))} lines/s (→ files)`);
console.log(`loss: ${want.size - got} of ${want.size} lines missing from the files; ${dupes} duplicates`);
console.log(`story files: ${parsedFiles.size}, ${invalid.length} invalid${invalid.length ? ` (${invalid[0]!.path}: ${invalid[0]!.errors[0]})` : ""}`);
console.log(`messages per stream: ${msgs.join(", ")}`);
console.log(`CPU seconds per process: ${cpuTotal.join(", ")}`);
console.log(`peak RSS (MiB): ${[...peak].map(([s, m]) => `${s} ${m.toFixed(0)}`).join(", ")}`);

await nc.close();
for (const p of procs.values()) p.kill("SIGTERM");
await Promise.all([...procs.values()].map((p) => new Promise((r) => (p.exitCode !== null ? r(null) : p.on("exit", r)))));
await cluster.stop();
await Promise.all([nats.stop(), redis.stop()]);
fs.rmSync(dir, { recursive: true, force: true });
