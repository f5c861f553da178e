// StateStore against a real redis-server: load/apply round trip, newer-wins between replicas, deletions.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Redis } from "ioredis";
import { startRedis, type ManagedServer } from "@faro/test-harness";
import { StateStore } from "../src/index.js";

let server: ManagedServer;
let redis: Redis;

beforeAll(async () => {
  server = await startRedis();
  redis = new Redis(server.url);
});
afterAll(async () => {
  await redis?.quit();
  await server?.stop();
});

const v = (rv: string, name = "n") => ({ resourceVersion: rv, name, namespace: "ns" });

describe("StateStore", () => {
  it("writes a hash per resource type and reads it back", async () => {
    const store = new StateStore(redis, "t1", "c");
    const updates = new Map(Array.from({ length: 1500 }, (_, i) => [`u${i}`, { rv: String(i + 1), value: v(String(i + 1), `o${i}`) }] as const));
    await store.apply("deployments.apps", updates);
    expect(await redis.hlen("t1:c:rv:deployments.apps")).toBe(1500);
    const loaded = await store.load("deployments.apps");
    expect(loaded.size).toBe(1500);
    expect(loaded.get("u7")).toEqual(v("8", "o7"));
  });

  it("lets the newer resourceVersion win whatever order replicas flush in, and deletes", async () => {
    const a = new StateStore(redis, "t2", "c");
    const b = new StateStore(redis, "t2", "c");
    await a.apply("pods", new Map([["x", { rv: "10", value: v("10") }]]));
    await b.apply("pods", new Map([["x", { rv: "9", value: v("9") }]])); // a lagging replica
    expect((await a.load("pods")).get("x")?.resourceVersion).toBe("10");
    await b.apply("pods", new Map([["x", { rv: "8", value: null }]])); // stale deletion: ignored
    expect((await a.load("pods")).has("x")).toBe(true);
    await a.apply("pods", new Map([["x", { rv: "12", value: null }]]));
    expect((await a.load("pods")).has("x")).toBe(false);
  });
});
