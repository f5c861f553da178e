// Integration tests of the Lua state transitions against a real redis-server.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Redis } from "ioredis";
import { startRedis, type ManagedServer } from "@faro/test-harness";
import { CorrelatorState, type ApplyRequest, type DebounceRequest } from "../src/state.js";

let server: ManagedServer;
let redis: Redis;
let n = 0;
const fresh = (): CorrelatorState => new CorrelatorState(redis, `t${++n}:`);

beforeAll(async () => {
  server = await startRedis();
  redis = new Redis(server.url, { lazyConnect: false, maxRetriesPerRequest: 2 });
});
afterAll(async () => {
  redis?.disconnect();
  await server?.stop();
});

const story = { storyId: "s-1", tenant: "t", cluster: "c", namespace: "ns", rootKind: "Deployment", rootName: "web", rootApiVersion: "apps/v1", rootUid: "" };

function applyReq(over: Partial<ApplyRequest>): ApplyRequest {
  return { inputId: "i1", story, tsMs: 1000, sourceTime: true, wallMs: 1, n: 1, maxEntries: 100, graceMs: 1000, objTtlMs: 60_000, deletedTtlMs: 60_000, historyKeep: 4, historyTtlMs: 60_000, markerTtlMs: 60_000, replaceWindowMs: 600_000, ...over };
}

function debReq(over: Partial<DebounceRequest>): DebounceRequest {
  return { storyId: "s-1", cluster: "c", container: "app", reason: "CrashLoopBackOff", occurrenceId: "o1", incidentId: "i-a", tsMs: 0, wallMs: 1, windowMs: 300_000, ttlMs: 3_600_000, detection: "{}", context: "{}", ...over };
}

describe("apply", () => {
  it("opens a window once, memoises inputs, returns the previous version", async () => {
    const st = fresh();
    const pod = (rv: string) => ({ uid: "u1", rv, kind: "Pod", name: "p", json: JSON.stringify({ rv }), deleted: false });
    const a = await st.apply(applyReq({ inputId: "a", obj: pod("5") }));
    expect(a).toMatchObject({ window: 0, opened: true, prevWindow: -1, dup: false, stale: false });
    expect(a.prevJson).toBeUndefined();
    const b = await st.apply(applyReq({ inputId: "b", obj: pod("7") }));
    expect(b).toMatchObject({ window: 0, opened: false, prevRv: "5" });
    const again = await st.apply(applyReq({ inputId: "b", obj: pod("7") }));
    expect(again).toMatchObject({ dup: true, prevRv: "5", window: 0 });
    // a version handled out of order is compared with ITS predecessor, and does not replace the newest
    const stale = await st.apply(applyReq({ inputId: "c", obj: pod("6") }));
    expect(stale).toMatchObject({ stale: true, prevJson: JSON.stringify({ rv: "5" }) });
    expect((await st.getObject("c", "u1"))?.json).toBe(JSON.stringify({ rv: "7" }));
    const next = await st.apply(applyReq({ inputId: "d", obj: pod("9") }));
    expect(next.prevJson).toBe(JSON.stringify({ rv: "7" }));
  });

  it("keeps the newest lines of a log buffer, newest first, and a redelivered batch adds nothing", async () => {
    const st = fresh();
    const log = (lines: string[]) => ({ key: "pod/app#0", lines, limit: 3, ttlMs: 60_000, endOfStream: false });
    await st.apply(applyReq({ inputId: "l1", log: log(["a", "b"]) }));
    expect(await st.logLines("c", "pod/app#0", 10)).toEqual(["b", "a"]);
    await st.apply(applyReq({ inputId: "l2", log: log(["c", "d", "e", "f", "g"]) }));
    expect(await st.logLines("c", "pod/app#0", 10)).toEqual(["g", "f", "e"]);
    await st.apply(applyReq({ inputId: "l2", log: log(["c", "d", "e", "f", "g"]) }));
    expect(await st.logLines("c", "pod/app#0", 10)).toEqual(["g", "f", "e"]);
  });

  it("rolls over at the maximum length and pairs replacement pods", async () => {
    const st = fresh();
    await st.apply(applyReq({ inputId: "a", maxEntries: 2, obj: { uid: "p1", rv: "1", kind: "Pod", name: "web-1", json: "{}", deleted: false } }));
    await st.apply(applyReq({ inputId: "b", maxEntries: 2, obj: { uid: "p1", rv: "2", kind: "Pod", name: "web-1", json: "{}", deleted: false, gone: true } }));
    const c = await st.apply(applyReq({ inputId: "c", maxEntries: 2, obj: { uid: "p2", rv: "3", kind: "Pod", name: "web-2", json: "{}", deleted: false } }));
    expect(c).toMatchObject({ window: 1, rolledFrom: 0, opened: true, replaces: { uid: "p1", name: "web-1" } });
    const d = await st.apply(applyReq({ inputId: "d", maxEntries: 2, obj: { uid: "p3", rv: "4", kind: "Pod", name: "web-3", json: "{}", deleted: false } }));
    expect(d.replaces).toBeUndefined();
  });

  it("closes idle stories and root-deleted stories through the outbox, once", async () => {
    const st = fresh();
    await st.apply(applyReq({ inputId: "a", tsMs: 10_000, wallMs: 100 }));
    const other = { ...story, storyId: "s-2", rootName: "api" };
    await st.apply(applyReq({ inputId: "b", story: other, tsMs: 50_000, wallMs: 100, root: "deleted", graceMs: 5_000 }));
    // source clock 50s; s-1 idle since 10s; s-2 root deleted at 50s, grace 5s → not yet
    expect(await st.promote(100, 30_000)).toBe(1);
    expect(await st.promote(100, 30_000)).toBe(0);
    // 5 s of wall time later the quiet cluster's clock reaches 55 s
    expect(await st.promote(5_100, 30_000)).toBe(1);
    const leased = await st.lease(5_100, 10_000);
    expect(leased.map((l) => l.item).sort((x, y) => (x.type === "close" && y.type === "close" ? x.storyId.localeCompare(y.storyId) : 0))).toMatchObject([
      { type: "close", storyId: "s-1", window: 0, why: "idle", rootName: "web" },
      { type: "close", storyId: "s-2", window: 0, why: "root-deleted" },
    ]);
    expect(await st.lease(5_200, 10_000)).toHaveLength(0); // leased
    await st.done(leased[0]!.raw);
    expect(await st.lease(20_000, 10_000)).toHaveLength(1); // lease of the other expired
    const next = await st.apply(applyReq({ inputId: "c", tsMs: 60_000, wallMs: 20_000 }));
    expect(next).toMatchObject({ window: 1, opened: true, prevWindow: 0 });
  });
});

describe("source clock", () => {
  it("moves only with Kubernetes timestamps; changes without a newer timestamp take the clock's time", async () => {
    const st = fresh();
    await st.apply(applyReq({ inputId: "a", tsMs: 50_000 }));
    await st.apply(applyReq({ inputId: "b", tsMs: 9_000_000, sourceTime: false }));
    expect(await st.clock("c", 0)).toBe(50_000);
    const r = await st.apply(applyReq({ inputId: "c", tsMs: 10_000, floorToClock: true }));
    expect(r.tsMs).toBe(50_000);
    expect((await st.apply(applyReq({ inputId: "c", tsMs: 10_000, floorToClock: true }))).tsMs).toBe(50_000);
  });
});

describe("debounce", () => {
  it("ten crashes in five minutes: one episode counting ten, one update", async () => {
    const st = fresh();
    const outcomes = [];
    for (let i = 0; i < 10; i++) outcomes.push(await st.debounce(debReq({ occurrenceId: `crash-${i}`, incidentId: `i-${i}`, tsMs: i * 29_000 })));
    expect(outcomes.filter((o) => o.kind === "new")).toHaveLength(1);
    expect(outcomes[9]).toMatchObject({ kind: "repeat", incidentId: "i-0", count: 10 });
    // a redelivered occurrence replays its outcome and does not count
    expect(await st.debounce(debReq({ occurrenceId: "crash-3", incidentId: "i-3", tsMs: 3 * 29_000 }))).toMatchObject({ dup: true, kind: "repeat", count: 4 });
    expect((await st.incident("i-0"))?.count).toBe(10);
    await st.promote(1, 300_000); // source clock at 261 s: window not over
    expect(await st.lease(1, 1000)).toHaveLength(0);
    const after = await st.debounce(debReq({ occurrenceId: "crash-late", incidentId: "i-late", tsMs: 301_000 }));
    expect(after).toMatchObject({ kind: "new", incidentId: "i-late" });
    await st.promote(1, 300_000);
    expect((await st.lease(1, 1000)).map((l) => l.item)).toEqual([{ type: "update", incidentId: "i-0", count: 10 }]);
  });

  it("concurrent processors agree", async () => {
    const st1 = fresh();
    const st2 = new CorrelatorState(redis, st1.prefix);
    const occ = Array.from({ length: 20 }, (_, i) => debReq({ occurrenceId: `o${i % 10}`, incidentId: `i-${i % 10}`, tsMs: (i % 10) * 1000 }));
    const res = await Promise.all(occ.map((r, i) => (i % 2 ? st1 : st2).debounce(r)));
    expect(new Set(res.map((r) => r.incidentId))).toEqual(new Set(["i-0"]));
    expect((await st1.incident("i-0"))?.count).toBe(10);
  });
});
