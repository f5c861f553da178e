// The order gate against real NATS and Redis: later versions of an object wait for earlier ones in flight
// or still unprocessed in the stream.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Redis } from "ioredis";
import { connectBus, ensureStream, type Bus } from "@faro/bus";
import { startNats, startRedis, type ManagedServer } from "@faro/test-harness";
import { OrderGate } from "../src/order.js";

let nats: ManagedServer;
let redis: ManagedServer;
let bus: Bus;
let client: Redis;

beforeAll(async () => {
  [nats, redis] = await Promise.all([startNats(), startRedis()]);
  bus = await connectBus({ servers: nats.url, name: "order-test" });
  client = new Redis(redis.url, { maxRetriesPerRequest: 2 });
  await ensureStream(bus.jsm, { name: "ORD", subjects: ["ord.>"], maxAgeMs: 60_000, maxBytes: 1e8, duplicateWindowMs: 1000, storage: "memory" });
});
afterAll(async () => {
  client?.disconnect();
  await bus?.close();
  await Promise.all([nats?.stop(), redis?.stop()]);
});

function gate(lookups: boolean, maxWaitMs = 300): OrderGate {
  return new OrderGate({ redis: client, prefix: `g${lookups ? 1 : 0}:`, nc: bus.nc, stream: "ORD", ackFloor: () => 0, horizonMs: 60_000, doneTtlMs: 60_000, maxWaitMs, lookups });
}

describe("order gate", () => {
  it("waits for an earlier change unprocessed in the stream, then for one in flight", async () => {
    const seqs: number[] = [];
    for (const s of ["ord.a", "ord.b", "ord.a", "ord.a"]) seqs.push((await bus.js.publish(s, new Uint8Array([1]))).seq);
    const [a1, b1, a2, a3] = seqs as [number, number, number, number];
    const g = gate(true);
    const noop = () => undefined;
    // a2 arrives first (a1 was pulled by a replica that died): the stream shows a1 unprocessed
    expect(await g.enter("ord.a", a2, noop)).toBe("timeout");
    await g.leave("ord.a", a2, false);
    expect(await g.enter("ord.b", b1, noop)).toBe("immediate");
    expect(await g.enter("ord.a", a1, noop)).toBe("immediate");
    // a2 now waits for a1 in flight (the gate calls working() when it starts waiting), and goes as soon as a1 is done
    let isWaiting!: () => void;
    const queued = new Promise<void>((resolve) => (isWaiting = resolve));
    const waiting = g.enter("ord.a", a2, () => isWaiting());
    await queued;
    await g.leave("ord.a", a1, true);
    expect(await waiting).toBe("waited");
    await g.leave("ord.a", a2, true);
    expect(await g.enter("ord.a", a3, noop)).toBe("immediate");
  });

  it("without lookups only changes in flight are waited for", async () => {
    const a1 = (await bus.js.publish("ord.c", new Uint8Array([1]))).seq;
    const a2 = (await bus.js.publish("ord.c", new Uint8Array([1]))).seq;
    const g = gate(false);
    expect(await g.enter("ord.c", a2, () => undefined)).toBe("immediate");
    expect(a1).toBeLessThan(a2);
  });
});
