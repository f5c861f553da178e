// The owner-chain cache in front of the ownership graph in Redis: bounded, sized on a gauge, consistent with Redis.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Redis } from "ioredis";
import { startRedis, type ManagedServer } from "@faro/test-harness";
import { Ownership } from "../src/ownership.js";
import { CorrelatorState } from "../src/state.js";

let server: ManagedServer;
let redis: Redis;

beforeAll(async () => {
  server = await startRedis();
  redis = new Redis(server.url, { lazyConnect: false, maxRetriesPerRequest: 2 });
});
afterAll(async () => {
  redis?.disconnect();
  await server?.stop();
});

const rs = (i: number) => ({ apiVersion: "apps/v1", kind: "ReplicaSet", name: `web${i}-7d9f`, uid: `rs-${i}`, controller: true });
const pod = (i: number) => ({ apiVersion: "v1", kind: "Pod", name: `web${i}-7d9f-abcde`, uid: `pod-${i}` });

async function graph(state: CorrelatorState, n: number): Promise<void> {
  for (let i = 0; i < n; i++) {
    await state.putOwner("c", `rs-${i}`, { apiVersion: "apps/v1", kind: "ReplicaSet", namespace: "ns", name: `web${i}-7d9f`, ownerUid: `dep-${i}`, ownerKind: "Deployment", ownerName: `web${i}`, ownerApiVersion: "apps/v1" }, 60_000);
    await state.putOwner("c", `dep-${i}`, { apiVersion: "apps/v1", kind: "Deployment", namespace: "ns", name: `web${i}`, ownerUid: "", ownerKind: "", ownerName: "", ownerApiVersion: "" }, 60_000);
  }
}

describe("owner-chain cache", () => {
  it("never holds more chains than its bound, reports its size, and resolves the same roots with or without it", async () => {
    const state = new CorrelatorState(redis, "own1:");
    await graph(state, 20);
    const sizes: number[] = [];
    const cached = new Ownership({ state, ttlMs: 60_000, cacheMax: 5, onCacheSize: (n) => sizes.push(n) });
    const uncached = new Ownership({ state, ttlMs: 60_000, cacheMax: 0, onCacheSize: (n) => sizes.push(-1 - n) });
    for (let round = 0; round < 2; round++) {
      for (let i = 0; i < 20; i++) {
        const a = await cached.resolve("c", "ns", pod(i), [rs(i)]);
        const b = await uncached.resolve("c", "ns", pod(i), [rs(i)]);
        expect(a.root).toEqual({ apiVersion: "apps/v1", kind: "Deployment", name: `web${i}`, uid: `dep-${i}` });
        expect(a).toEqual(b);
      }
    }
    expect(Math.max(...sizes.filter((n) => n >= 0))).toBe(5);
    expect(sizes.filter((n) => n < 0).every((n) => n === -1)).toBe(true); // cacheMax 0: always empty
  });

  it("serves a cached chain without Redis", async () => {
    const state = new CorrelatorState(redis, "own2:");
    await graph(state, 1);
    const o = new Ownership({ state, ttlMs: 60_000 });
    const first = await o.resolve("c", "ns", pod(0), [rs(0)]);
    await redis.del("own2:own:c:rs-0", "own2:own:c:dep-0");
    expect(await o.resolve("c", "ns", pod(0), [rs(0)])).toEqual(first);
    expect(first.root.uid).toBe("dep-0");
    // Without the cache the graph is gone: the chain ends at the ReplicaSet (its name has no template hash to guess from).
    expect((await new Ownership({ state, ttlMs: 60_000 }).resolve("c", "ns", pod(0), [rs(0)])).root).toEqual({ apiVersion: "apps/v1", kind: "ReplicaSet", name: "web0-7d9f", uid: "rs-0" });
  });
});
