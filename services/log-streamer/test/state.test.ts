// The Redis scripts behind leases and checkpoints when Redis loses its state, against a real redis-server: the epoch
// tells a loss from a first start, followers reclaim their streams from memory, instances without a checkpoint are
// held back for the grace period, and a reclaim never takes a stream another replica resumed.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Redis } from "ioredis";
import { startRedis, until, type ManagedServer } from "@faro/test-harness";
import { StreamState, epochInfo } from "../src/state.js";
import { instanceKey, type WantedInstance } from "../src/instances.js";

let server: ManagedServer;
const clients: Redis[] = [];

beforeAll(async () => {
  server = await startRedis();
}, 30_000);

afterAll(async () => {
  for (const c of clients) c.disconnect();
  await server?.stop();
});

function replica(name: string, prefix: string, graceMs = 60_000) {
  const redis = new Redis(server.url);
  clients.push(redis);
  const losses: { epoch: string; previous: string }[] = [];
  const state = new StreamState({ redis, prefix, replica: name, leaseTtlMs: 60_000, checkpointTtlMs: 60_000, recoveryGraceMs: graceMs, onEpoch: (epoch, previous) => losses.push({ epoch, previous }) });
  return { state, losses, redis };
}

const inst = (podUid: string): WantedInstance => ({ podUid, container: "app", restartCount: 0, namespace: "default", pod: podUid, containerType: "regular", node: "n1", podOwnerRefs: [], podLabels: {}, seenAtMs: 0 });
const cp = (seq: number) => ({ seq, pos: { ts: `2026-01-01T00:00:0${seq}.000000000Z`, atTs: 1 }, pend: undefined });

describe("StreamState when Redis loses its state", () => {
  it("a first start creates the epoch; a loss is told with the epoch known before, and followers reclaim from memory", async () => {
    const a = replica("a", "t1");
    const b = replica("b", "t1");
    await a.state.renew([]);
    await b.state.renew([]);
    expect(a.losses).toHaveLength(1);
    expect(a.losses[0]!.previous).toBe("");
    expect(epochInfo(a.state.epoch).afterLoss).toBe(false);
    expect(b.state.epoch).toBe(a.state.epoch);

    const x = inst("x");
    const key = instanceKey(x);
    const { claimed } = await a.state.registerAndClaim([x], instanceKey, 1);
    expect(claimed.map((c) => c.cp.fresh)).toEqual([true]);
    await a.state.write(key, cp(5));

    await a.redis.flushall();
    // A pod change on the other replica after the loss: the instance is wanted again but not leased (grace period).
    const after = await b.state.registerAndClaim([x], instanceKey, 1);
    expect(after).toMatchObject({ added: 1, claimed: [] });
    expect(b.losses.at(-1)!.previous).toBe(a.losses[0]!.epoch);
    expect(epochInfo(b.state.epoch).afterLoss).toBe(true);
    expect(await b.state.acquire(key)).toBeUndefined();
    expect(await b.state.recovering()).toBe(true);

    // The follower notices (its lease is gone, not taken) and reclaims with its checkpoint.
    expect(await a.state.renew([key])).toEqual({ taken: [], gone: [key] });
    expect(a.losses.at(-1)!.epoch).toBe(b.state.epoch);
    expect(await a.state.reclaim(x, key, cp(7))).toBe("reclaimed");
    expect(await a.state.reclaim(x, key, cp(7))).toBe("held");
    expect(await a.state.read(key)).toMatchObject({ seq: 7, owner: "a", fresh: false });
    expect(await a.state.renew([key])).toEqual({ taken: [], gone: [] });
    expect(await b.state.renew([key])).toEqual({ taken: [key], gone: [] });
    expect(await a.state.wantedCount()).toBe(1);
  });

  it("a reclaim never takes a stream another replica resumed or ended", async () => {
    const a = replica("a", "t2", 50);
    const b = replica("b", "t2", 50);
    await a.state.renew([]);
    const y = inst("y");
    const key = instanceKey(y);
    await a.state.registerAndClaim([y], instanceKey, 1);
    await a.state.write(key, cp(3));
    await a.redis.flushall();
    await b.state.renew([]); // b notices first: the grace period starts (50 ms here)
    await b.state.register([y], instanceKey);
    await until(async () => !(await b.state.recovering()), "the grace period over", 5000, 10);
    // After the grace period b takes the instance that has no checkpoint (it will ask the bus) and writes one.
    const got = await b.state.acquire(key);
    expect(got).toMatchObject({ fresh: true, seq: 0 });
    await b.state.write(key, cp(4));
    expect(await a.state.reclaim(y, key, cp(3))).toBe("lost");
    // b ends it; a late reclaim must not bring it back.
    await b.state.finish(key, cp(4));
    expect(await a.state.reclaim(y, key, cp(3))).toBe("lost");
    expect(await a.state.read(key)).toMatchObject({ done: true, owner: "b" });
  });
});

