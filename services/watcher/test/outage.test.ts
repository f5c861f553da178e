// A NATS outage longer than publish.retryFor (the common publish settings): publishing gives up, the watch
// restarts from the acked state in Redis once NATS is back, and the stream ends up with every final state
// exactly once.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { pino } from "pino";
import type { RunningService } from "@faro/kernel";
import type { Watcher } from "../src/index.js";
import { compare, metricSum, objectsOf, readRaw, startEnv, startWatcher, until, watcherReady, type Env } from "./helpers.js";

let env: Env;
let watcher: RunningService<Watcher>;

beforeAll(async () => {
  env = await startEnv({ speed: 50 });
  const extra = { FARO_RESOURCES: "configmaps", FARO_EVENTS_ENABLED: "false", FARO_PUBLISH_TIMEOUT: "300ms", FARO_PUBLISH_RETRY_FOR: "1s" };
  watcher = await startWatcher(env, extra, { logger: pino({ level: "silent" }) });
  await until(() => watcherReady(watcher), "watcher ready");
});

afterAll(async () => {
  await watcher?.stop();
  await env?.stop();
});

describe("watcher during a NATS outage", () => {
  it("restarts the watch from Redis after publishing gives up, and loses nothing", async () => {
    const s = env.cluster.store;
    const cms = s.typeFor("", "configmaps")!;
    const readyRv = s.currentRV();
    for (let i = 0; i < 10; i++) s.create(cms, { apiVersion: "v1", kind: "ConfigMap", metadata: { name: `o-${i}`, namespace: "default" }, data: { v: "0" } });
    await until(async () => objectsOf(await readRaw(env.nc)).filter((o) => o.name.startsWith("o-")).length === 10, "the first changes published");

    await env.nats.kill();
    const downRv = s.currentRV();
    for (let i = 0; i < 5; i++) s.update(cms, { ...s.get(cms, "default", `o-${i}`)!, data: { v: "1" } });
    for (let i = 5; i < 8; i++) s.delete(cms, "default", `o-${i}`);
    for (let i = 0; i < 5; i++) s.create(cms, { apiVersion: "v1", kind: "ConfigMap", metadata: { name: `during-${i}`, namespace: "default" } });
    await until(async () => (await metricSum(watcher, "faro_watcher_publish_errors_total", /kind="gave_up"/)) > 0, "publishing to give up");
    expect(watcherReady(watcher)).toBe(false); // the restarted watch has not synced while its state is being reloaded or relisted
    await env.nats.restart();

    const gap = new Set(env.cluster.truth.changes().filter((c) => Number(c.resourceVersion) > downRv).map((c) => c.uid));
    const result = await until(async () => {
      const truth = env.cluster.truth.changes().filter((c) => c.kind === "ConfigMap");
      const r = compare(truth, objectsOf(await readRaw(env.nc)), { sinceRv: readyRv, gapUids: gap });
      return r.missing.length === 0 ? r : undefined;
    }, "every final state on the stream after NATS came back", 30_000);
    expect(result.duplicates).toEqual([]);
    expect(result.invented).toEqual([]);
    expect(await metricSum(watcher, "faro_watcher_watch_resets_total")).toBeGreaterThan(0);
    await until(() => watcherReady(watcher), "ready again");
  });
});
