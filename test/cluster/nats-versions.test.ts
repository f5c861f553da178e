// The bus against every nats-server binary on this machine (Debian's 2.9.10, the oldest supported, and a current
// one from `go install`, see scripts/setup.sh): provisioning with its read-back checks (single node and R3 on a
// 3-node cluster), publishing with duplicate message ids, and a consumer group receiving each message once.
import { afterAll, describe, expect, it } from "vitest";
import { createLogger, createMetrics } from "@faro/observability";
import { ConsumerGroup, Publisher, connectBus, ensureDlqStream, ensureStream, type Bus, type StreamSpec } from "@faro/bus";
import { natsServerBinaries, startNats, startNatsCluster, until, type ManagedServer, type NatsCluster } from "@faro/test-harness";

const silent = createLogger({ service: "versions", level: "silent", pretty: "false" });
const registry = () => createMetrics("versions", { version: "test", defaultMetrics: false }).registry;
const binaries = natsServerBinaries();
const spec = (name: string, replicas = 1): StreamSpec => ({
  name,
  subjects: [`${name.toLowerCase()}.>`],
  maxAgeMs: 3600_000,
  maxBytes: 64 * 1024 * 1024,
  duplicateWindowMs: 120_000,
  storage: "file",
  replicas,
});

describe.each(binaries.map((b) => [b.version, b.path] as const))("nats-server %s (%s)", (_version, bin) => {
  const servers: Array<ManagedServer | NatsCluster> = [];
  const buses: Bus[] = [];
  afterAll(async () => {
    for (const b of buses) await b.close();
    for (const s of servers) await s.stop();
  });

  it("provisions, dedupes by message id and delivers each message once to a consumer group", { timeout: 30_000 }, async () => {
    const server = await startNats({ bin });
    servers.push(server);
    const metrics = registry();
    const bus = await connectBus({ servers: server.url, name: "versions", registry: metrics });
    buses.push(bus);
    await ensureStream(bus.jsm, spec("V"));
    await ensureStream(bus.jsm, spec("V")); // idempotent: the update path's read-back agrees too
    await ensureDlqStream(bus.jsm, { name: "VDLQ", subjects: ["vdlq.>"] });
    const pub = new Publisher({ js: bus.js, registry: metrics, logger: silent });
    // 100 messages, every tenth published twice with the same id: the stream keeps 100.
    for (let i = 0; i < 100; i++) {
      await pub.publish(`v.${i % 4}`, new TextEncoder().encode(String(i)), { msgId: `m-${i}` });
      if (i % 10 === 0) await pub.publish(`v.${i % 4}`, new TextEncoder().encode(String(i)), { msgId: `m-${i}` });
    }
    await pub.close();
    expect((await bus.jsm.streams.info("V")).state.messages).toBe(100);
    const seen: string[] = [];
    const group = new ConsumerGroup({
      nc: bus.nc,
      js: bus.js,
      jsm: bus.jsm,
      stream: "V",
      consumer: { durable: "v-worker", ackWaitMs: 5000, maxDeliver: 5, maxAckPending: 100 },
      handler: async (m) => {
        seen.push(new TextDecoder().decode(m.data));
      },
      dlqSubject: "vdlq.v",
      includePayload: false,
      service: "versions",
      registry: metrics,
      logger: silent,
    });
    await group.start();
    await until(async () => (await bus.jsm.consumers.info("V", "v-worker")).ack_floor.stream_seq === 100, "every message acked", 15_000);
    await group.stop();
    expect(seen.length).toBe(100);
    expect(new Set(seen).size).toBe(100);
  });

  it("provisions R3 streams on a 3-node cluster and the read-back agrees", { timeout: 30_000 }, async () => {
    const cluster = await startNatsCluster({ bin });
    servers.push(cluster);
    const bus = await connectBus({ servers: [...cluster.urls], name: "versions-r3", registry: registry() });
    buses.push(bus);
    const info = await ensureStream(bus.jsm, spec("V3", 3));
    expect(info.config.num_replicas).toBe(3);
    expect(info.cluster?.replicas ?? []).toHaveLength(2);
    // Scaling an existing stream from R1 to R3 (nats.replicas raised on a running deployment).
    await ensureStream(bus.jsm, spec("V1", 1));
    expect((await ensureStream(bus.jsm, spec("V1", 3))).config.num_replicas).toBe(3);
  });
});

it("finds at least Debian's nats-server", () => {
  expect(binaries.length).toBeGreaterThan(0);
});
