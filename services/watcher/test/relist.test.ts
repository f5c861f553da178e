// Across a 410 Gone (changes while the watch was disconnected pushed its resourceVersion out of the
// simulator's small history): the relist publishes exactly the final states and DELETEDs, nothing twice.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningService } from "@faro/kernel";
import type { Watcher } from "../src/index.js";
import { compare, metricSum, objectsOf, readRaw, startEnv, startWatcher, UNWATCHED_KINDS, until, watcherReady, type Env } from "./helpers.js";

let env: Env;
let watcher: RunningService<Watcher>;

beforeAll(async () => {
  env = await startEnv({ speed: 50, historySize: 20 });
  watcher = await startWatcher(env, { FARO_RESOURCES: "configmaps,namespaces", FARO_EVENTS_ENABLED: "false" });
  await until(() => watcherReady(watcher), "watcher ready");
});

afterAll(async () => {
  await watcher?.stop();
  await env?.stop();
});

describe("watcher across a 410", () => {
  it("relists and publishes what changed while disconnected, with DELETEDs and no invented ADDED", async () => {
    const s = env.cluster.store;
    const cms = s.typeFor("", "configmaps")!;
    for (let i = 0; i < 12; i++) s.create(cms, { apiVersion: "v1", kind: "ConfigMap", metadata: { name: `cm-${i}`, namespace: "default" }, data: { v: "0" } });
    const readyRv = env.cluster.store.currentRV();
    // On the stream means delivered by the watch: its resourceVersion is at least the last of them now.
    await until(async () => objectsOf(await readRaw(env.nc)).filter((o) => o.name.startsWith("cm-")).length === 12, "the first configmaps published");

    // Close every watch and, before the watcher can resume, make more changes than the history keeps.
    // One change per object: a relist can only report the latest state, never intermediate ones.
    const gap = new Set<string>();
    env.cluster.server.forceCloseWatches();
    for (let i = 0; i < 4; i++) gap.add(s.update(cms, { ...s.get(cms, "default", `cm-${i}`)!, data: { v: "1" } }).metadata.uid);
    for (let i = 4; i < 8; i++) gap.add(s.delete(cms, "default", `cm-${i}`).metadata.uid);
    for (let i = 0; i < 20; i++) gap.add(s.create(cms, { apiVersion: "v1", kind: "ConfigMap", metadata: { name: `gap-${i}`, namespace: "default" } }).metadata.uid);

    await until(async () => (await metricSum(watcher, "faro_kube_relists_total", /resource="configmaps",reason="expired"/)) >= 1, "a relist after 410");
    const truth = () => env.cluster.truth.changes().filter((c) => !UNWATCHED_KINDS.has(c.kind) && ["ConfigMap", "Namespace"].includes(c.kind));
    const result = await until(async () => {
      const r = compare(truth(), objectsOf(await readRaw(env.nc)), { sinceRv: readyRv, gapUids: gap });
      return r.missing.length === 0 ? r : undefined;
    }, "the stream to hold every final state");
    expect(result.duplicates).toEqual([]);
    expect(result.invented).toEqual([]);
    // Unchanged objects were not re-emitted by the relist (JetStream would have hidden a repeat: ask the watcher).
    expect(await metricSum(watcher, "faro_watcher_publish_duplicates_total", /resource="configmaps"/)).toBe(0);
    // The vanished ones got exactly one DELETED each.
    const deletes = objectsOf(await readRaw(env.nc)).filter((o) => o.type === "DELETED" && o.name.startsWith("cm-"));
    expect(deletes.map((d) => d.name).sort()).toEqual(["cm-4", "cm-5", "cm-6", "cm-7"]);

    // And live watching continues after the relist.
    const late = s.create(cms, { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "after", namespace: "default" } });
    await until(async () => objectsOf(await readRaw(env.nc)).some((o) => o.uid === late.metadata.uid), "a change after the relist");
  });
});
