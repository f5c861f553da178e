// The log-streamer as child processes (`faro run log-streamer`): kill -9 and restart, and two
// replicas with one killed mid-stream — every line of every container instance still appears exactly once.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { checkServiceContract } from "@faro/observability";
import { collectBatches, envVars, finishAndCompare, metricValue, pod, podType, spawnLogStreamer, startEnv, startPodFeed, until, type Child, type Collector, type Env } from "./helpers.js";

let env: Env;
let feed: { stop(): Promise<void> };
let collector: Collector;
const children: Child[] = [];

beforeAll(async () => {
  env = await startEnv({ speed: 10 });
  feed = await startPodFeed(env);
  collector = await collectBatches(env.nc);
}, 60_000);

afterAll(async () => {
  for (const c of children) if (c.proc.exitCode === null && c.proc.signalCode === null) c.proc.kill("SIGKILL");
  await Promise.all(children.map((c) => c.exited));
  await collector?.stop();
  await feed?.stop();
  await env?.stop();
});

async function spawn(extra: Record<string, string>): Promise<Child> {
  const c = await spawnLogStreamer(envVars(env, extra));
  children.push(c);
  const exited = () => c.proc.exitCode !== null || c.proc.signalCode !== null;
  try {
    // A child that exits (bad config, failed start) fails the wait at once instead of at the deadline.
    const state = await until(async () => (exited() ? "exited" : (await fetch(`${c.url}/readyz`)).status === 200 && "ready"), `log-streamer ${extra.FARO_REPLICA ?? ""} ready`, 60_000);
    if (state === "exited") throw new Error(`log-streamer ${extra.FARO_REPLICA ?? ""} exited with ${c.proc.exitCode ?? c.proc.signalCode} before it was ready`);
  } catch (err) {
    throw new Error(`${(err as Error).message}; child output: ${c.output().slice(-3000)}`);
  }
  return c;
}

describe("log-streamer processes", () => {
  it("kill -9 and restart: no line twice, none missing, across crashes during the downtime", async () => {
    const store = env.cluster.store;
    // Same replica id after the restart, like a StatefulSet pod coming back: it resumes its own leases at once.
    const vars = { FARO_REPLICA: "ls-0" };
    const a = await spawn(vars);
    store.create(podType(env.cluster), pod("steady", { "sim.faro.dev/log-lines": "steady {n}", "sim.faro.dev/log-rate": "50" }));
    // Runs 6 s (wall) per instance, longer than the restart takes: an instance that crashes during the
    // downtime is read from its `previous` log.
    store.create(
      podType(env.cluster),
      pod("crashy", { "sim.faro.dev/log-lines": "work {n}", "sim.faro.dev/log-rate": "30", "sim.faro.dev/crash-after": "60s", "sim.faro.dev/last-words": "panic: boom" }),
    );
    const report = await checkServiceContract(a.url, { expectReady: true });
    expect(report.readyStatus).toBe(200);
    await until(() => collector.batches.filter((b) => b.batch.pod === "steady").length >= 5, "steady batches published");

    a.proc.kill("SIGKILL");
    expect(await a.exited).toBeNull();
    const b = await spawn(vars);
    try {
    const restarts = () =>
      ((store.get(podType(env.cluster), "default", "crashy")?.status as { containerStatuses?: { restartCount: number }[] } | undefined)?.containerStatuses?.[0]?.restartCount ?? 0);
    await until(() => restarts() >= 2, "two crashes", 60_000);

    const cmp = await finishAndCompare(env, collector, ["steady", "crashy"]);
    expect(cmp.problems).toEqual([]);
    expect(cmp.instances).toBeGreaterThanOrEqual(3); // steady + crashy 0 and 1 (2 may not have started)
    expect(cmp.lines).toBeGreaterThan(100);
    expect(await metricValue(b.url, "faro_log_streamer_instances_lost_total")).toBe(0);

    b.proc.kill("SIGTERM");
    expect(await b.exited).toBe(0);
    } finally {
      b.proc.kill("SIGKILL");
    }
  }, 180_000);

  it("two replicas share the streams; the survivor resumes the killed one's from its checkpoints", async () => {
    const store = env.cluster.store;
    const x = await spawn({ FARO_REPLICA: "ls-x", FARO_STREAMS_MAX: "5" });
    const y = await spawn({ FARO_REPLICA: "ls-y", FARO_STREAMS_MAX: "5" });
    try {
    const names = [0, 1, 2, 3, 4].map((i) => `shared-${i}`);
    for (const n of names) store.create(podType(env.cluster), pod(n, { "sim.faro.dev/log-lines": `${n} {n}`, "sim.faro.dev/log-rate": "40" }));
    const active = async (c: Child) => await metricValue(c.url, "faro_log_streamer_streams_active");
    await until(async () => (await active(x)) + (await active(y)) === 5, "five streams followed");
    await until(async () => names.every((n) => env.cluster.truth.lines({ pod: n }).length > 50), "lines flowing");
    // Kill the replica that holds more streams, mid-stream.
    const [victim, survivor] = (await active(x)) >= (await active(y)) ? [x, y] : [y, x];
    victim.proc.kill("SIGKILL");
    await victim.exited;
    await until(async () => (await active(survivor)) === 5, "survivor follows all five streams", 30_000);
    expect(await metricValue(survivor.url, "faro_log_streamer_lease_takeovers_total")).toBeGreaterThan(0);

    const cmp = await finishAndCompare(env, collector, names);
    expect(cmp.problems).toEqual([]);
    expect(cmp.instances).toBe(5);
    survivor.proc.kill("SIGTERM");
    expect(await survivor.exited).toBe(0);
    } finally {
      x.proc.kill("SIGKILL");
      y.proc.kill("SIGKILL");
    }
  }, 180_000);
});
