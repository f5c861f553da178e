// Active-active: two watcher replicas publish the same changes under the same message ids; JetStream's
// duplicate window keeps each change exactly once on FARO_RAW, and losing one replica loses nothing.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningService } from "@faro/kernel";
import type { Watcher } from "../src/index.js";
import { compare, deployment, eventsOf, metricSum, objectsOf, readRaw, startEnv, startWatcher, UNWATCHED_KINDS, until, watcherReady, type Env } from "./helpers.js";

let env: Env;
let a: RunningService<Watcher>;
let b: RunningService<Watcher>;
let readyRv = 0;

beforeAll(async () => {
  env = await startEnv({ speed: 50 });
  // Each with its own connections and metrics registry, as two processes would have.
  a = await startWatcher(env);
  b = await startWatcher(env);
  await until(() => watcherReady(a) && watcherReady(b), "both replicas ready");
  readyRv = env.cluster.store.currentRV();
});

afterAll(async () => {
  await Promise.all([a?.stop(), b?.stop()]);
  await env?.stop();
});

async function exactlyOnce() {
  return await until(async () => {
    const published = await readRaw(env.nc);
    const all = env.cluster.truth.changes();
    const objects = compare(all.filter((c) => !UNWATCHED_KINDS.has(c.kind)), objectsOf(published), { sinceRv: readyRv });
    const events = compare(all.filter((c) => c.kind === "Event"), eventsOf(published), { sinceRv: readyRv });
    return objects.missing.length === 0 && events.missing.length === 0 ? { objects, events } : undefined;
  }, "the stream to catch up with the ground truth");
}

describe("two watcher replicas", () => {
  it("put every change and Event on the stream exactly once", async () => {
    const s = env.cluster.store;
    s.create(s.typeFor("apps", "deployments")!, deployment("ha", "default", 3));
    const cms = s.typeFor("", "configmaps")!;
    for (let i = 0; i < 20; i++) s.create(cms, { apiVersion: "v1", kind: "ConfigMap", metadata: { name: `ha-${i}`, namespace: "default" } });
    for (let i = 0; i < 10; i++) s.delete(cms, "default", `ha-${i}`);
    await until(() => env.cluster.truth.events({ reason: "Started" }).length >= 3, "pods started");
    const { objects, events } = await exactlyOnce();
    expect(objects.checked).toBeGreaterThan(30);
    expect(objects.duplicates).toEqual([]);
    expect(objects.invented).toEqual([]);
    expect(events.duplicates).toEqual([]);
    expect(events.invented).toEqual([]);
    // Both replicas offered the changes (which one JetStream stored first is a race); the later copy of each
    // was dropped as a duplicate.
    const offered = async (w: RunningService) => (await metricSum(w, "faro_watcher_changes_published_total")) + (await metricSum(w, "faro_watcher_publish_duplicates_total"));
    expect(await offered(a)).toBeGreaterThan(30);
    expect(await offered(b)).toBeGreaterThan(30);
    expect((await metricSum(a, "faro_watcher_publish_duplicates_total")) + (await metricSum(b, "faro_watcher_publish_duplicates_total"))).toBeGreaterThan(30);
  });

  it("keeps publishing everything when one replica stops", async () => {
    expect((await a.stop()).code).toBe(0);
    const s = env.cluster.store;
    const cms = s.typeFor("", "configmaps")!;
    for (let i = 0; i < 10; i++) s.create(cms, { apiVersion: "v1", kind: "ConfigMap", metadata: { name: `solo-${i}`, namespace: "default" } });
    s.delete(s.typeFor("apps", "deployments")!, "default", "ha");
    const { objects, events } = await exactlyOnce();
    expect(objects.duplicates).toEqual([]);
    expect(objects.invented).toEqual([]);
    expect(events.duplicates).toEqual([]);
  });
});
