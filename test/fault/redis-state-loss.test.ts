// Redis loses the log-streamer's state mid-run — FLUSHALL, then redis-server restarted empty — while two replicas
// follow containers that log continuously, crash, and finished before the fault. The bus is compared with the
// simulator's ground truth line by line: nothing lost, nothing twice, one endOfStream per instance; readiness
// reports the recovery while it happens, and the metrics count it.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Redis } from "ioredis";
import type { RunningService } from "@faro/kernel";
import type { LogStreamer } from "@faro/log-streamer";
import { collectLogs, compareLogs, finishPods, instanceKey, metricSum, podManifest, podsOf, startFaultEnv, startLogStreamer, startWatcher, until, type FaultEnv, type LogCollector } from "./helpers.js";

let env: FaultEnv;
let watcher: RunningService;
let replicas: RunningService<LogStreamer>[] = [];
let logs: LogCollector;

beforeAll(async () => {
  env = await startFaultEnv({ speed: 20 });
  logs = await collectLogs(env.nc, env.name);
  watcher = await startWatcher(env);
  replicas = [await startLogStreamer(env, "ls-a"), await startLogStreamer(env, "ls-b")];
}, 60_000);

afterAll(async () => {
  for (const r of replicas) await r.stop();
  await watcher?.stop();
  await logs?.stop();
  await env?.stop();
});

/** Pods of one phase: two steady loggers, a crash loop behind an init container, and one that completes before the fault. */
function createPods(tag: string): { names: string[]; done: string } {
  const store = env.cluster.store;
  const steady = [`${tag}-steady-0`, `${tag}-steady-1`];
  for (const n of steady) store.create(podsOf(env.cluster), podManifest(n, { "sim.faro.dev/log-lines": `${n} {n}`, "sim.faro.dev/log-rate": "20" }));
  const crashy = `${tag}-crashy`;
  store.create(
    podsOf(env.cluster),
    podManifest(crashy, { "sim.faro.dev/log-lines": "work {n}", "sim.faro.dev/log-rate": "20", "sim.faro.dev/app.crash-after": "20s", "sim.faro.dev/app.last-words": "panic: boom" }, { init: ["setup"] }),
  );
  const done = `${tag}-done`;
  store.create(podsOf(env.cluster), podManifest(done, { "sim.faro.dev/log-lines": `${done} {n}`, "sim.faro.dev/log-rate": "20", "sim.faro.dev/app.complete-after": "2s" }, { restartPolicy: "Never" }));
  return { names: [...steady, crashy, done], done };
}

const uidOf = (name: string) => env.cluster.store.get(podsOf(env.cluster), "default", name)?.metadata.uid ?? "";
const written = (name: string) => env.cluster.truth.lines({ pod: name }).length;
const published = (name: string) => logs.batches.filter((b) => b.pod === name).reduce((n, b) => n + b.lines.length, 0);

/** Every replica went unready with the recovery and is ready again; returns what they said while recovering. */
async function recoveryObserved(): Promise<string[]> {
  const details = await Promise.all(
    replicas.map((r) =>
      until(() => {
        const s = r.instance.readiness();
        return typeof s === "object" && !s.ok && /recovering/.test(s.detail ?? "") ? (s.detail ?? "") : undefined;
      }, "readiness reporting the recovery", 10_000),
    ),
  );
  await until(() => replicas.every((r) => r.instance.readiness() === true), "replicas ready again", 20_000);
  return details;
}

async function runPhase(tag: string, fault: () => Promise<void>): Promise<void> {
  const { names, done } = createPods(tag);
  // Before the fault: every stream is live and the completed pod's instance ended on the bus.
  await until(() => names.every((n) => published(n) > 30), "every stream publishing", 20_000);
  const doneUid = uidOf(done);
  await until(() => logs.ended.has(instanceKey({ podUid: doneUid, container: "app", restartCount: 0 })), "the completed pod's stream ended", 20_000);
  await until(() => (logs.lines.get(instanceKey({ podUid: uidOf(`${tag}-crashy`), container: "setup", restartCount: 0 })) ?? 0) > 0 && written(`${tag}-crashy`) > 0, "init container read");
  const lossesBefore = await Promise.all(replicas.map((r) => metricSum(r, "faro_log_streamer_state_losses_total")));
  const fromBus = async () => (await Promise.all(replicas.map((r) => metricSum(r, "faro_log_streamer_checkpoints_recovered_total", /from="bus"/)))).reduce((a, b) => a + b, 0);
  const fromBusBefore = await fromBus();

  await fault();
  const details = await recoveryObserved();
  expect(details.every((d) => d.includes("recovering from lost Redis state"))).toBe(true);
  for (const [i, r] of replicas.entries()) expect(await metricSum(r, "faro_log_streamer_state_losses_total")).toBeGreaterThan(lossesBefore[i]!);

  // The streams go on after the fault: more lines than before it, and a crash after it.
  const mark = names.map((n) => written(n));
  await until(() => names.slice(0, 2).every((n, i) => published(n) > mark[i]! + 100), "streams continuing after the fault", 20_000);
  const crashes = env.cluster.truth.instances().filter((i) => i.pod === `${tag}-crashy` && i.container === "app").length;
  await until(() => env.cluster.truth.instances().filter((i) => i.pod === `${tag}-crashy` && i.container === "app").length > crashes, "a crash after the fault", 30_000);

  const uids = await finishPods(env, logs, names);
  const cmp = compareLogs(env.cluster, logs.batches, uids);
  expect(cmp.problems).toEqual([]);
  expect({ lost: cmp.lost, duplicated: cmp.duplicated, extra: cmp.extra }).toEqual({ lost: 0, duplicated: 0, extra: 0 });
  expect(cmp.instances).toBeGreaterThanOrEqual(6); // 2 steady, setup, app ×≥2, done
  expect(cmp.lines).toBeGreaterThan(500);
  // Finished instances (the completed pod, the init container, earlier crashes) were found ended on the bus, not read again.
  expect(await fromBus()).toBeGreaterThan(fromBusBefore);
  // Nothing of these pods was unread (a stream resumed from the bus that could not read on would say so).
  expect(logs.batches.filter((b) => uids.has(b.podUid) && b.unreadReason)).toEqual([]);
}

describe("log-streamer: Redis loses its state mid-run", () => {
  it("FLUSHALL: leases reclaimed, checkpoints recovered, finished instances not read again — 0 lost, 0 duplicated", async () => {
    const redis = new Redis(env.redis.url);
    try {
      await runPhase("flush", async () => {
        await redis.flushall();
      });
    } finally {
      redis.disconnect();
    }
    const recovered = await Promise.all(replicas.map((r) => metricSum(r, "faro_log_streamer_checkpoints_recovered_total", /from="memory"/)));
    expect(recovered.reduce((a, b) => a + b, 0)).toBeGreaterThan(0);
  }, 60_000);

  it("redis-server killed and restarted empty: the same", async () => {
    await runPhase("restart", async () => {
      await env.redis.kill();
      await env.redis.restart();
    });
  }, 60_000);
});
