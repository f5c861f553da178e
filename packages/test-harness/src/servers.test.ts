import net from "node:net";
import { afterAll, describe, expect, it } from "vitest";
import { canConnect, startNats, startRedis, type ManagedServer } from "./index.js";

function redisPing(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, "127.0.0.1", () => s.write("PING\r\n"));
    s.once("data", (d) => {
      resolve(d.toString().trim());
      s.destroy();
    });
    s.once("error", reject);
  });
}

describe("test harness", () => {
  const started: ManagedServer[] = [];
  afterAll(async () => {
    for (const s of started) await s.stop();
  });

  it("starts, kills and restarts nats-server on the same port", async () => {
    const nats = await startNats();
    started.push(nats);
    expect(await canConnect(nats.port)).toBe(true);
    await nats.kill();
    expect(nats.running()).toBe(false);
    expect(await canConnect(nats.port)).toBe(false);
    await nats.restart();
    expect(await canConnect(nats.port)).toBe(true);
  });

  it("starts redis-server that answers PING", async () => {
    const redis = await startRedis();
    started.push(redis);
    expect(await redisPing(redis.port)).toBe("+PONG");
  });
});
