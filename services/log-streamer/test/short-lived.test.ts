// Containers that live only a few hundred milliseconds (pods deleted right after they start, the `churn`
// scenario at 20× speed): every line they wrote must still be published — compared with the ground truth.
// A pod's logs go with the pod object (as on a real cluster), so the streams must start within the pod's
// short life: new instances are leased and started from the pod change itself, not by a later scan.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningService } from "@faro/kernel";
import { collectBatches, compareWithTruth, instanceOf, pod, podType, startEnv, startLogStreamer, startPodFeed, until, type Collector, type Env } from "./helpers.js";

const SPEED = 20;
let env: Env;
let feed: { stop(): Promise<void> };
let streamer: RunningService;
let collector: Collector;

beforeAll(async () => {
  env = await startEnv({ speed: SPEED });
  feed = await startPodFeed(env);
  collector = await collectBatches(env.nc);
  // The periodic scan is slowed down so that it cannot be what starts these streams in time.
  streamer = await startLogStreamer(env, { FARO_STREAMS_SCAN_INTERVAL: "10s" });
}, 60_000);

afterAll(async () => {
  await streamer?.stop();
  await collector?.stop();
  await feed?.stop();
  await env?.stop();
});

const running = (name: string) => {
  const p = env.cluster.store.get(podType(env.cluster), "default", name);
  const cs = (p?.status as { containerStatuses?: { state?: { running?: unknown } }[] } | undefined)?.containerStatuses ?? [];
  return cs.length > 0 && cs.every((c) => c.state?.running !== undefined);
};

describe("short-lived containers", () => {
  it("publishes every line of pods deleted right after they start", async () => {
    const store = env.cluster.store;
    const names = Array.from({ length: 6 }, (_, i) => `brief-${i}`);
    // On SIGTERM the containers take 20 simulated seconds to stop (1 s here, about what a real kubelet needs
    // to notice the exit and remove the pod); then the pod and its logs are gone.
    for (const n of names) env.cluster.behaviors.add({ workload: n, behavior: { stopMs: 20_000 } });
    for (const n of names) store.create(podType(env.cluster), pod(n, { "sim.faro.dev/log-lines": `${n} {n}`, "sim.faro.dev/log-rate": "20" }));
    // Deleted (gracefully) as soon as they run.
    await Promise.all(
      names.map(async (n) => {
        await until(() => running(n), `${n} running`, 30_000);
        store.delete(podType(env.cluster), "default", n);
      }),
    );
    await until(() => names.every((n) => !store.get(podType(env.cluster), "default", n)), "pods gone");
    const want = new Set(env.cluster.truth.instances().filter((i) => names.includes(i.pod)).map(instanceOf));
    expect(want.size).toBe(names.length);
    await until(() => [...want].every((i) => collector.ended.has(i)), "every instance ended", 30_000);
    const cmp = compareWithTruth(env.cluster, collector.batches, { only: (i) => want.has(i), requireEnd: want });
    expect(cmp.problems).toEqual([]);
    expect(cmp.lines).toBeGreaterThan(0);
  });

  it("publishes every line of the churn scenario at 20× speed", { timeout: 120_000 }, async () => {
    const run = env.cluster.runScenario("churn");
    await run.done;
    run.stop();
    // The last pods the scenario replaced live a little while (as in the end-to-end test), then all go.
    const t0 = env.cluster.clock.now();
    await until(() => env.cluster.clock.now() - t0 >= 20_000, "20 simulated seconds");
    const res = await fetch(`${env.cluster.url}/apis/apps/v1/namespaces/default/deployments/churner`, {
      method: "DELETE",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ kind: "DeleteOptions", apiVersion: "v1", propagationPolicy: "Background" }),
    });
    expect(res.status).toBeLessThan(300);
    const churner = () => env.cluster.store.list(podType(env.cluster), "default").filter((p) => p.metadata.name.startsWith("churner-"));
    // Gone, or terminal: the simulator keeps an evicted (Failed) pod; its container is stopped.
    await until(() => churner().every((p) => ["Failed", "Succeeded"].includes((p.status as { phase?: string } | undefined)?.phase ?? "")), "churner pods gone or terminal", 60_000);
    const want = new Set(env.cluster.truth.instances().filter((i) => i.pod.startsWith("churner-")).map(instanceOf));
    await until(() => [...want].every((i) => collector.ended.has(i)), "every instance ended", 30_000).catch(() => undefined);
    const cmp = compareWithTruth(env.cluster, collector.batches, { only: (i) => want.has(i), requireEnd: want });
    expect(cmp.problems).toEqual([]);
    // 4 replicas, 3 deletions, a scale-up to 8, one eviction: at least 12 instances.
    expect(cmp.instances).toBeGreaterThanOrEqual(12);
  });
});
