// Redis with Sentinel: the pipeline reaches Redis through three sentinels (redis.sentinels, redis.name); the
// primary is killed with -9 mid-stream, the sentinels promote the replica, ioredis follows the failover and the
// pipeline goes on. The story equals the simulator's ground truth: nothing lost, nothing duplicated.
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startNats, startRedisSentinel, type ManagedServer, type RedisSentinelSet } from "@faro/test-harness";
import { runWithFault } from "./helpers.js";

let nats: ManagedServer;
let redis: RedisSentinelSet;

beforeAll(async () => {
  [nats, redis] = await Promise.all([startNats(), startRedisSentinel({ name: "faro" })]);
}, 30_000);

afterAll(async () => {
  await Promise.all([nats?.stop(), redis?.stop()]);
}, 30_000);

describe("pipeline on Redis with Sentinel", () => {
  it("the primary killed mid-stream: Sentinel fails over, the services follow, nothing lost or duplicated", { timeout: 90_000 }, async () => {
    let newPrimary = 0;
    let stateOnNewPrimary = 0;
    const env = { FARO_NATS_URL: nats.url, FARO_REDIS_SENTINELS: redis.sentinelList, FARO_REDIS_NAME: redis.name, FARO_REDIS_URL: "redis://unused.invalid:6379" };
    const r = await runWithFault({
      env,
      natsServers: [nats.url],
      async fault() {
        const old = await redis.currentPrimaryPort();
        expect(old).toBe(redis.primary.port);
        await redis.primary.kill();
        newPrimary = await redis.waitForFailover(old);
      },
      async recover() {
        // The services write their state to the promoted replica after the failover (checked before the run ends:
        // a finished run removes its keys).
        const c = new Redis({ port: newPrimary, host: "127.0.0.1", lazyConnect: true });
        try {
          await c.connect();
          stateOnNewPrimary = (await c.keys("faro:*")).length;
        } finally {
          c.disconnect();
        }
        // The old primary comes back; the sentinels turn it into a replica of the new one.
        await redis.primary.restart();
      },
    });
    expect(newPrimary).toBe(redis.replica.port);
    expect(r.rawBeforeFault).toBeGreaterThan(0);
    expect(r.finishCode).toBe(0);
    expect(r.problems).toEqual([]);
    expect(r.stories.flatMap((s) => s.story.timeline).filter((t) => t.kind === "log").length).toBeGreaterThan(0);
    expect(stateOnNewPrimary).toBeGreaterThan(0);
  });
});
