// Integration: kill -9 of nats-server (file storage) while publishing; retries under the same msgId lose and
// duplicate nothing.
import { startNats, type ManagedServer } from "@faro/test-harness";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { pino } from "pino";
import { Registry } from "prom-client";
import { DeliverPolicy } from "@nats-io/jetstream";
import { connectBus, ensureStream, Publisher, type Bus } from "../src/index.js";
import { streamSpec, waitFor } from "./helpers.js";

describe("publisher across a nats-server crash", () => {
  let server: ManagedServer;
  let bus: Bus;
  const registry = new Registry();

  beforeAll(async () => {
    server = await startNats();
    bus = await connectBus({
      servers: server.url,
      name: "crash-test",
      registry,
      reconnectTimeWaitMs: 50,
      reconnectMaxWaitMs: 250,
      logger: pino({ level: "silent" }),
    });
  });
  afterAll(async () => {
    await bus?.close();
    await server?.stop();
  });

  it("stores exactly 10,000 unique messages when the server is killed mid-stream and restarted", async () => {
    await ensureStream(bus.jsm, streamSpec("CRASH", ["crash.>"], { storage: "file" }));
    const pub = new Publisher({
      js: bus.js,
      registry,
      window: 512,
      timeoutMs: 1000,
      retryForMs: 30_000,
      retryBaseMs: 50,
      retryMaxMs: 500,
      logger: pino({ level: "silent" }),
    });
    const n = 10_000;
    const payload = new Uint8Array(200).fill(120);
    let acked = 0;
    const all: Promise<unknown>[] = [];
    const producing = (async () => {
      for (let i = 0; i < n; i++) {
        all.push(pub.publish(`crash.p${i % 16}`, payload, { msgId: `crash-${i}` }).then(() => acked++));
        // Yield when the window is full so the crash happens while publishes are in flight.
        if (pub.inflight >= pub.window) await new Promise((r) => setImmediate(r));
      }
    })();
    await waitFor(() => acked >= 3000, 20_000, "3000 acks before the crash");
    await server.kill();
    expect(acked).toBeLessThan(n);
    await server.restart();
    await producing;
    await Promise.all(all);
    await pub.close();
    expect(acked).toBe(n);

    const info = await bus.jsm.streams.info("CRASH");
    expect(info.state.messages).toBe(n);
    // Read every stored message back: each msgId exactly once.
    const ids = new Set<string>();
    let read = 0;
    const oc = await bus.js.consumers.get("CRASH", { deliver_policy: DeliverPolicy.All });
    const iter = await oc.consume({ max_messages: 1000 });
    for await (const m of iter) {
      read++;
      ids.add(m.headers?.get("Nats-Msg-Id") ?? "");
      if (read === n) break;
    }
    expect(read).toBe(n);
    expect(ids.size).toBe(n);
    for (let i = 0; i < n; i += 997) expect(ids.has(`crash-${i}`)).toBe(true);
    const text = await registry.metrics();
    // The crash forced retries; proving the test exercised the retry path.
    expect(text).toMatch(/faro_bus_publish_retries_total \d*[1-9]/);
    await waitFor(async () => (await registry.getSingleMetricAsString("faro_bus_connected")).includes('connection="crash-test"} 1'), 5000, "gauge");
  });
});
