// Integration tests of ResilientWatch against the kube-sim API server: list+watch, resume after a
// forced close without duplicates or gaps, relist on 410 with an exact diff, watchdog, seeding,
// handler failures and Secret stripping.
import { afterEach, describe, expect, it } from "vitest";
import { Registry } from "prom-client";
import { ResilientWatch, type ResourceRef, type WatchEvent } from "@faro/kube";
import { configMap, simAvailable, startApiServer, until, type Sim, type SimObject } from "./sim.js";

const CM: ResourceRef = { group: "", version: "v1", resource: "configmaps", kind: "ConfigMap", apiVersion: "v1", namespaced: true };
const SECRETS: ResourceRef = { group: "", version: "v1", resource: "secrets", kind: "Secret", apiVersion: "v1", namespaced: true };

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function sim(opts: { historySize?: number } = {}): Promise<Sim> {
  const s = await startApiServer(opts);
  cleanups.push(() => s.stop());
  return s;
}

function watch(s: Sim, opts: Partial<ConstructorParameters<typeof ResilientWatch>[1]> & { events?: WatchEvent[] } = {}) {
  const events = opts.events ?? [];
  const w = new ResilientWatch(s.kc, {
    resource: CM,
    namespace: "a",
    backoff: { baseMs: 20, maxMs: 200 },
    onEvent: (ev) => void events.push(ev),
    ...opts,
  }).start();
  cleanups.push(() => w.stop());
  return { w, events };
}

const sig = (e: WatchEvent) => `${e.type} ${e.object.metadata.name} ${e.object.metadata.resourceVersion}`;

function update(s: Sim, ns: string, name: string, data: Record<string, string>): SimObject {
  const t = s.store.typeFor("", "configmaps")!;
  const cur = s.store.get(t, ns, name)!;
  return s.store.update(t, { ...cur, data });
}

describe.skipIf(!simAvailable)("ResilientWatch against kube-sim (simulator API server not exported yet when skipped)", () => {
  it("lists in pages, then delivers ADDED/MODIFIED/DELETED live, only for its namespace", async () => {
    const s = await sim();
    const t = s.store.typeFor("", "configmaps")!;
    for (let i = 0; i < 5; i++) s.store.create(t, configMap("a", `pre-${i}`, { i: String(i) }));
    s.store.create(t, configMap("b", "elsewhere"));
    const registry = new Registry();
    const { w, events } = watch(s, { pageSize: 2, registry });
    expect(await w.synced).toBe(true);
    expect(w.isSynced).toBe(true);
    expect(events.map((e) => `${e.origin} ${e.type} ${e.object.metadata.name}`).sort()).toEqual(
      [0, 1, 2, 3, 4].map((i) => `list ADDED pre-${i}`),
    );
    // list items get kind/apiVersion like watch objects
    expect(events[0]!.object.kind).toBe("ConfigMap");
    expect(events[0]!.object.apiVersion).toBe("v1");

    events.length = 0;
    const c = s.store.create(t, configMap("a", "live", { v: "1" }));
    const m = update(s, "a", "live", { v: "2" });
    s.store.create(t, configMap("b", "other-ns"));
    const d = s.store.delete(t, "a", "live");
    await until(() => events.length >= 3, "3 live events");
    expect(events.map((e) => `${e.origin} ${e.type}`)).toEqual(["watch ADDED", "watch MODIFIED", "watch DELETED"]);
    expect(events[0]!.object.metadata.resourceVersion).toBe(c.metadata.resourceVersion);
    expect(events[1]!.object.data).toEqual({ v: "2" });
    expect(events[1]!.object.metadata.resourceVersion).toBe(m.metadata.resourceVersion);
    expect(events[2]!.object.metadata.uid).toBe(d.metadata.uid);
    expect(w.state().has(c.metadata.uid)).toBe(false);
    expect(w.size).toBe(5);

    const metrics = await registry.getMetricsAsJSON();
    const active = metrics.find((x) => x.name === "faro_kube_watches_active")!;
    expect(active.values.find((v) => v.labels.resource === "configmaps")?.value).toBe(1);
    const evs = metrics.find((x) => x.name === "faro_kube_watch_events_total")!;
    expect(evs.values.find((v) => v.labels.type === "ADDED")?.value).toBe(6);
    await w.stop();
    await w.stop(); // idempotent
    const after = await registry.getMetricsAsJSON();
    expect(after.find((x) => x.name === "faro_kube_watches_active")!.values[0]?.value).toBe(0);
  });

  it("delivers the same object identically from a list and from a watch, without managedFields", async () => {
    const s = await sim();
    const t = s.store.typeFor("", "configmaps")!;
    s.store.create(t, configMap("z", "seed"));
    const live = watch(s);
    await live.w.synced;
    const obj = configMap("a", "twin", { k: "v" }) as { metadata: Record<string, unknown> };
    obj.metadata.managedFields = [{ manager: "kubectl", operation: "Apply", fieldsV1: { "f:data": {} } }];
    obj.metadata.labels = { app: "twin" };
    s.store.create(t, obj);
    expect(s.store.get(t, "a", "twin")!.metadata.managedFields).toBeDefined(); // the server sends them
    await until(() => live.events.length === 1, "watch event");
    const listed = watch(s);
    await listed.w.synced;
    expect(listed.events).toHaveLength(1);
    expect(JSON.stringify(listed.events[0]!.object)).toBe(JSON.stringify(live.events[0]!.object));
    expect(live.events[0]!.object.metadata.managedFields).toBeUndefined();
    expect(Object.keys(live.events[0]!.object).slice(0, 2)).toEqual(["kind", "apiVersion"]);
  });

  it("resumes after forced closes without duplicates or gaps (compared with the store's own events)", async () => {
    const s = await sim();
    const t = s.store.typeFor("", "configmaps")!;
    const truth: string[] = [];
    const off = s.store.subscribe((ev) => {
      if (ev.resource.resource === "configmaps" && ev.object.metadata.namespace === "a")
        truth.push(`${ev.type} ${ev.object.metadata.name} ${ev.object.metadata.resourceVersion}`);
    });
    cleanups.push(async () => off());
    // a non-empty cluster: list RV "0" would mean "from now, with synthetic ADDEDs" to the server
    s.store.create(t, configMap("z", "seed"));
    const registry = new Registry();
    const { w, events } = watch(s, { registry });
    await w.synced;
    for (let round = 0; round < 5; round++) {
      // rounds 0-2 let the watch catch up first; 3-4 close while events are still in flight
      if (round < 3) await until(() => events.length === truth.length, `round ${round} caught up`);
      for (let i = 0; i < 4; i++) {
        const name = `cm-${round}-${i}`;
        s.store.create(t, configMap("a", name));
        update(s, "a", name, { round: String(round) });
        if (i % 2 === 0) s.store.delete(t, "a", name);
      }
      s.forceCloseWatches();
      // changes made while the watch is (possibly) reconnecting
      s.store.create(t, configMap("a", `gap-${round}`));
    }
    await until(() => events.length >= truth.length, `${truth.length} events`);
    await new Promise((r) => setImmediate(r));
    expect(events.map(sig)).toEqual(truth);
    expect(new Set(events.map(sig)).size).toBe(events.length);
    const restarts = (await registry.getMetricsAsJSON()).find((x) => x.name === "faro_kube_watch_restarts_total")!;
    expect(restarts.values.find((v) => v.labels.reason === "closed")?.value).toBeGreaterThanOrEqual(1);
    const relists = (await registry.getMetricsAsJSON()).find((x) => x.name === "faro_kube_relists_total")!;
    expect(relists.values.map((v) => `${v.labels.reason}=${v.value}`)).toEqual(["initial=1"]);
  });

  it("relists on 410 and emits exactly the DELETED/ADDED/MODIFIED that happened while disconnected", async () => {
    const s = await sim({ historySize: 5 });
    const t = s.store.typeFor("", "configmaps")!;
    for (const n of ["keep-1", "keep-2", "mod", "del-1", "del-2"]) s.store.create(t, configMap("a", n));
    s.store.create(t, configMap("z", "churn"));
    let gate: (() => void) | undefined;
    let blocked = false;
    const events: WatchEvent[] = [];
    const registry = new Registry();
    const { w } = watch(s, {
      registry,
      onEvent: async (ev) => {
        events.push(ev);
        if (ev.object.metadata.name === "trigger") {
          blocked = true;
          await new Promise<void>((r) => (gate = r));
        }
      },
    });
    await w.synced;
    expect(events).toHaveLength(5);
    events.length = 0;
    const del1 = s.store.get(t, "a", "del-1")!;
    s.store.create(t, configMap("a", "trigger"));
    await until(() => blocked, "handler blocked on trigger");
    s.forceCloseWatches();
    // while the watch is held: more changes than the history keeps
    const mod = update(s, "a", "mod", { changed: "yes" });
    s.store.delete(t, "a", "del-1");
    s.store.delete(t, "a", "del-2");
    const added = s.store.create(t, configMap("a", "new"));
    for (let i = 0; i < 10; i++) update(s, "z", "churn", { i: String(i) });
    gate!();
    await until(() => events.length >= 5, "relist events");
    await new Promise((r) => setTimeout(r, 50));
    const got = events.slice(1).map((e) => `${e.origin} ${e.type} ${e.object.metadata.name}${e.synthetic ? " synthetic" : ""}`);
    expect(got.sort()).toEqual(
      ["relist ADDED new", "relist DELETED del-1 synthetic", "relist DELETED del-2 synthetic", "relist MODIFIED mod"].sort(),
    );
    const byName = new Map(events.map((e) => [e.object.metadata.name, e]));
    expect(byName.get("mod")!.object.metadata.resourceVersion).toBe(mod.metadata.resourceVersion);
    expect(byName.get("new")!.object.metadata.uid).toBe(added.metadata.uid);
    // DELETED carries the last known object, not a stub
    expect(byName.get("del-1")!.object.metadata.uid).toBe(del1.metadata.uid);
    expect(byName.get("del-1")!.object.metadata.creationTimestamp).toBe(del1.metadata.creationTimestamp);
    const relists = (await registry.getMetricsAsJSON()).find((x) => x.name === "faro_kube_relists_total")!;
    expect(relists.values.find((v) => v.labels.reason === "expired")?.value).toBe(1);
    // and it keeps watching afterwards
    events.length = 0;
    s.store.create(t, configMap("a", "after"));
    await until(() => events.some((e) => e.object.metadata.name === "after" && e.origin === "watch"), "live event after relist");
    expect(new Set(w.state().keys())).toEqual(new Set(s.store.list(t, "a").map((o) => o.metadata.uid)));
  });

  it("seeded with a previous state, emits only what changed meanwhile", async () => {
    const s = await sim();
    const t = s.store.typeFor("", "configmaps")!;
    for (const n of ["same", "changed", "gone"]) s.store.create(t, configMap("a", n));
    const first = watch(s);
    await first.w.synced;
    const remembered = first.w.snapshot();
    await first.w.stop();
    update(s, "a", "changed", { x: "1" });
    s.store.delete(t, "a", "gone");
    s.store.create(t, configMap("a", "fresh"));
    const { w, events } = watch(s, { initialState: remembered, retainObjects: false });
    await w.synced;
    expect(events.map((e) => `${e.origin} ${e.type} ${e.object.metadata.name}`).sort()).toEqual(
      ["relist ADDED fresh", "relist DELETED gone", "relist MODIFIED changed"].sort(),
    );
    const gone = events.find((e) => e.type === "DELETED")!;
    expect(gone.synthetic).toBe(true);
    expect(gone.object.kind).toBe("ConfigMap");
    expect(remembered.has(gone.object.metadata.uid)).toBe(true);

    // with only uid → RV remembered, the DELETED carries identity without a name
    const { w: w3, events: ev3 } = watch(s, { initialState: { "uid-of-something-long-gone": "3" } });
    await w3.synced;
    const stub = ev3.find((e) => e.type === "DELETED")!;
    expect(stub.object.metadata).toEqual({ uid: "uid-of-something-long-gone", name: "", namespace: "a", resourceVersion: "3" });
    expect(ev3.filter((e) => e.type === "ADDED")).toHaveLength(3);
  });

  it("aborts a quiet watch after watchdogMs and keeps delivering", async () => {
    const s = await sim();
    const t = s.store.typeFor("", "configmaps")!;
    const registry = new Registry();
    const { w, events } = watch(s, { watchdogMs: 200, registry });
    await w.synced;
    const restarts = async () =>
      (await registry.getMetricsAsJSON()).find((x) => x.name === "faro_kube_watch_restarts_total")?.values.find((v) => v.labels.reason === "watchdog")?.value ?? 0;
    await until(async () => (await restarts()) >= 2, "two watchdog restarts");
    s.store.create(t, configMap("a", "late"));
    await until(() => events.some((e) => e.object.metadata.name === "late"), "event after watchdog restarts");
    expect(events.filter((e) => e.object.metadata.name === "late")).toHaveLength(1);
  });

  it("re-watches after the server-side timeoutSeconds without losing events", async () => {
    const s = await sim();
    const t = s.store.typeFor("", "configmaps")!;
    s.store.create(t, configMap("z", "seed"));
    const registry = new Registry();
    const { w, events } = watch(s, { timeoutSeconds: 1, registry });
    await w.synced;
    const closed = async () =>
      (await registry.getMetricsAsJSON()).find((x) => x.name === "faro_kube_watch_restarts_total")?.values.find((v) => v.labels.reason === "closed")?.value ?? 0;
    await until(async () => (await closed()) >= 1, "a server-side timeout close", 5_000);
    const c = s.store.create(t, configMap("a", "after-timeout"));
    await until(() => events.length >= 1, "event after timeout");
    expect(events.map(sig)).toEqual([`ADDED after-timeout ${c.metadata.resourceVersion}`]);
  });

  it("redelivers an event whose handler failed, then continues", async () => {
    const s = await sim();
    const t = s.store.typeFor("", "configmaps")!;
    let failNext = true;
    const delivered: string[] = [];
    const { w } = watch(s, {
      onEvent: (ev) => {
        if (ev.object.metadata.name === "flaky" && failNext) {
          failNext = false;
          throw new Error("bus unavailable");
        }
        delivered.push(sig(ev));
      },
    });
    await w.synced;
    const a = s.store.create(t, configMap("a", "flaky"));
    const b = s.store.create(t, configMap("a", "next"));
    await until(() => delivered.length >= 2, "both events");
    expect(delivered).toEqual([`ADDED flaky ${a.metadata.resourceVersion}`, `ADDED next ${b.metadata.resourceVersion}`]);
  });

  it("never delivers Secret values", async () => {
    const s = await sim();
    const t = s.store.typeFor("", "secrets")!;
    s.store.create(t, {
      apiVersion: "v1",
      kind: "Secret",
      metadata: { name: "db", namespace: "a", annotations: { "kubectl.kubernetes.io/last-applied-configuration": '{"data":{"pw":"aHVudGVyMg=="}}' } },
      data: { pw: "aHVudGVyMg==" },
    });
    const events: WatchEvent[] = [];
    const { w } = watch(s, { resource: SECRETS, events });
    await w.synced;
    const cur = s.store.get(t, "a", "db")!;
    s.store.update(t, { ...cur, data: { pw: "c2VjcmV0Mg==", extra: "eA==" } });
    await until(() => events.length >= 2, "secret events");
    expect(events.map((e) => e.object.data)).toEqual([{ pw: "" }, { pw: "", extra: "" }]);
    const text = JSON.stringify(events);
    expect(text).not.toContain("aHVudGVyMg==");
    expect(text).not.toContain("c2VjcmV0Mg==");
    expect(text).not.toContain("last-applied");
  });
});
