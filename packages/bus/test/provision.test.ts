// Integration: provisioning reads settings back, and publishing dedupes by msgId, against a real nats-server.
import { startNats, type ManagedServer } from "@faro/test-harness";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Registry } from "prom-client";
import {
  connectBus,
  ensureConsumer,
  ensureStream,
  InvalidSpecError,
  ProvisioningError,
  Publisher,
  type Bus,
} from "../src/index.js";
import { consumerSpec, enc, streamSpec } from "./helpers.js";

describe("provisioning and dedupe", () => {
  let server: ManagedServer;
  let bus: Bus;
  const registry = new Registry();

  beforeAll(async () => {
    server = await startNats();
    bus = await connectBus({ servers: server.url, name: "provision-test", registry });
  });
  afterAll(async () => {
    await bus?.close();
    await server?.stop();
  });

  it("creates a stream, is idempotent, applies updates and reads them back", async () => {
    const spec = streamSpec("PROV", ["prov.>"]);
    const a = await ensureStream(bus.jsm, spec);
    const b = await ensureStream(bus.jsm, spec);
    expect(b.config.max_age).toBe(a.config.max_age);
    const c = await ensureStream(bus.jsm, { ...spec, maxBytes: 1024 * 1024, duplicateWindowMs: 30_000 });
    expect(c.config.max_bytes).toBe(1024 * 1024);
    expect(c.config.duplicate_window).toBe(30_000 * 1_000_000);
  });

  it("rejects a stream without max age or max bytes", async () => {
    await expect(ensureStream(bus.jsm, streamSpec("NOAGE", ["noage.>"], { maxAgeMs: 0 }))).rejects.toBeInstanceOf(InvalidSpecError);
    await expect(
      ensureStream(bus.jsm, { ...streamSpec("NOBYTES", ["nobytes.>"]), maxBytes: undefined as unknown as number }),
    ).rejects.toThrow(/maxBytes/);
  });

  it("names the setting when the server refuses or keeps a different value", async () => {
    await ensureStream(bus.jsm, streamSpec("PROV2", ["prov2.>"]));
    // Storage cannot change on an existing stream.
    const err = await ensureStream(bus.jsm, streamSpec("PROV2", ["prov2.>"], { storage: "file" })).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ProvisioningError);

    // With a backoff list the server replaces ack_wait by its first entry: the read-back catches that.
    const e1 = await ensureConsumer(bus.jsm, "PROV2", consumerSpec("c0", { backoffMs: [100, 200] })).catch((e: unknown) => e);
    expect(e1).toBeInstanceOf(ProvisioningError);
    expect((e1 as ProvisioningError).setting).toBe("ack_wait");

    const spec = consumerSpec("c1", { filterSubject: "prov2.a", ackWaitMs: 100, backoffMs: [100, 200] });
    await ensureConsumer(bus.jsm, "PROV2", spec);
    const same = await ensureConsumer(bus.jsm, "PROV2", spec);
    expect(same.config.backoff).toEqual([100_000_000, 200_000_000]);
    // deliver_policy is not editable: the read-back must report it rather than silently keep "all".
    const e2 = await ensureConsumer(bus.jsm, "PROV2", { ...spec, deliverPolicy: "new" }).catch((e: unknown) => e);
    expect(e2).toBeInstanceOf(ProvisioningError);
    expect((e2 as ProvisioningError).message).toMatch(/deliver_policy/);
  });

  it("deduplicates a re-published msgId: one message stored, PubAck says duplicate", async () => {
    await ensureStream(bus.jsm, streamSpec("DEDUPE", ["dedupe.>"]));
    const pub = new Publisher({ js: bus.js, registry, name: "dedupe" });
    const first = await pub.publish("dedupe.x", enc("hello"), { msgId: "id-1" });
    const second = await pub.publish("dedupe.x", enc("hello again"), { msgId: "id-1" });
    expect(first.duplicate).toBe(false);
    expect(second.duplicate).toBe(true);
    expect(second.seq).toBe(first.seq);
    const info = await bus.jsm.streams.info("DEDUPE");
    expect(info.state.messages).toBe(1);
    const metrics = await registry.getSingleMetricAsString("faro_bus_publish_duplicates_total");
    expect(metrics).toMatch(/faro_bus_publish_duplicates_total\{stream="DEDUPE"\} 1/);
    await pub.close();
    await expect(pub.publish("dedupe.x", enc("late"), { msgId: "id-2" })).rejects.toThrow(/stopped/);
  });

  it("bounds publishes in flight to the window", async () => {
    await ensureStream(bus.jsm, streamSpec("WINDOW", ["window.>"]));
    const pub = new Publisher({ js: bus.js, registry, name: "window", window: 8 });
    let maxSeen = 0;
    const all: Promise<unknown>[] = [];
    for (let i = 0; i < 200; i++) {
      all.push(pub.publish("window.x", enc(`m${i}`), { msgId: `w-${i}` }));
      maxSeen = Math.max(maxSeen, pub.inflight);
    }
    await pub.flush();
    await Promise.all(all);
    expect(maxSeen).toBe(8);
    expect(pub.inflight).toBe(0);
    expect((await bus.jsm.streams.info("WINDOW")).state.messages).toBe(200);
    await pub.close();
  });

  it("shares one registry between two buses without double registration", async () => {
    const other = await connectBus({ servers: server.url, name: "second", registry });
    await other.close();
    await other.close();
    const text = await registry.metrics();
    expect(text).toMatch(/faro_bus_connected\{connection="second"\} 0/);
    expect(text).toMatch(/faro_bus_connected\{connection="provision-test"\} 1/);
  });
});
