// The clustered servers: a 3-node JetStream cluster that keeps a leader when one node is killed, and Redis
// with Sentinel that promotes the replica when the primary is killed.
import { afterAll, describe, expect, it } from "vitest";
import { startNatsCluster, startRedisSentinel, redisCommand, type NatsCluster, type RedisSentinelSet } from "./index.js";

describe("clustered servers", () => {
  let nats: NatsCluster | undefined;
  let redis: RedisSentinelSet | undefined;
  afterAll(async () => {
    await Promise.all([nats?.stop(), redis?.stop()]);
  });

  it("starts a 3-node JetStream cluster whose meta leader survives kill -9 of a node", { timeout: 30_000 }, async () => {
    nats = await startNatsCluster();
    expect(nats.urls).toHaveLength(3);
    expect(nats.url.split(",")).toEqual(nats.urls);
    await nats.nodes[0]!.kill();
    expect(nats.nodes[0]!.running()).toBe(false);
    await nats.ready();
    await nats.nodes[0]!.restart();
    await nats.ready();
    expect(nats.nodes.every((n) => n.running())).toBe(true);
  });

  it("starts Redis with Sentinel that fails over when the primary is killed", { timeout: 30_000 }, async () => {
    redis = await startRedisSentinel();
    const first = await redis.currentPrimaryPort();
    expect(first).toBe(redis.primary.port);
    expect(await redisCommand(redis.primary.port, "SET k v")).toBe("+OK\r\n");
    await redis.primary.kill();
    const next = await redis.waitForFailover(first);
    expect(next).toBe(redis.replica.port);
    expect(await redisCommand(next, "GET k")).toBe("$1\r\nv\r\n");
  });
});
