// The gRPC sink against the reference receiver with mTLS certificates made here: per-message acknowledgement by
// idempotency key, the standard health check, a wrong client certificate refused with nothing acknowledged,
// and a receiver restarted mid-stream losing nothing (the sink reconnects with backoff).
import fs from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as grpc from "@grpc/grpc-js";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { jetstreamManager } from "@nats-io/jetstream";
import { loadServiceConfig, startService } from "@faro/kernel";
import { createLogger } from "@faro/observability";
import { forwarderService } from "../src/definition.js";
import { startIncidentReceiver, type IncidentReceiver } from "../src/grpc/receiver.js";
import { buildIncidentSubject, encodeIncidentContext, type Encodable, type IncidentContext } from "@faro/contracts";
import { jetstream } from "@nats-io/jetstream";
import { freePort, makeCerts, startNats, startRedis, until, type ManagedServer, type TestCerts } from "@faro/test-harness";
import { healthCheck, sampleIncident } from "./grpc-helpers.js";

let nats: ManagedServer;
let redis: ManagedServer;
let nc: NatsConnection;
let certs: TestCerts;
/** A second CA and its client certificate: a receiver trusting only `certs.ca` must refuse it. */
let strangers: TestCerts;

beforeAll(async () => {
  certs = makeCerts();
  strangers = makeCerts();
  [nats, redis] = await Promise.all([startNats(), startRedis()]);
  nc = await connect({ servers: nats.url });
});

afterAll(async () => {
  await nc?.close();
  await Promise.all([nats?.stop(), redis?.stop()]);
  for (const c of [certs, strangers]) if (c) fs.rmSync(c.dir, { recursive: true, force: true });
});

async function publish(inc: Encodable<IncidentContext>): Promise<number> {
  const ack = await jetstream(nc).publish(buildIncidentSubject(inc.tenant, inc.cluster, inc.namespace, inc.reason), encodeIncidentContext(inc), {
    msgID: `inc:${inc.cluster}:${inc.incidentId}:${inc.repeatCount}`,
  });
  return ack.seq;
}

async function forwarder(cluster: string, sink: Record<string, unknown>) {
  const config = loadServiceConfig(forwarderService, {
    env: { FARO_NATS_URL: nats.url, FARO_REDIS_URL: redis.url, FARO_CLUSTER: cluster },
    argv: [`--sinks=${JSON.stringify([sink])}`],
  });
  return startService(forwarderService, config, { logger: createLogger({ service: "forwarder", level: "silent", pretty: false }), http: false });
}

function mtlsReceiver(listen: string): Promise<IncidentReceiver> {
  return startIncidentReceiver({ listen, tls: { ca: certs.ca, cert: certs.serverCert, key: certs.serverKey, requireClientCert: true } });
}

const grpcSink = (name: string, address: string, client: TestCerts) => ({
  name,
  type: "grpc",
  maxDeliveries: 100,
  timeout: "2s",
  retry: { base: "50ms", max: "300ms" },
  grpc: { address, ca: certs.ca, cert: client.clientCert, key: client.clientKey, serverName: "localhost", reconnectBase: "50ms", reconnectMax: "300ms", keepaliveTime: "5s" },
});

async function consumerState(cluster: string, sink: string) {
  const info = await (await jetstreamManager(nc)).consumers.info("FARO_INCIDENT", `${cluster}_forwarder-${sink}`);
  return { delivered: info.delivered.stream_seq, ackFloor: info.ack_floor.stream_seq, ackPending: info.num_ack_pending, pending: info.num_pending };
}

describe("forwarder: gRPC sink with mTLS", () => {
  it("streams incidents, each acknowledged by idempotency key; the receiver answers the standard health check", { timeout: 30_000 }, async () => {
    const receiver = await mtlsReceiver("127.0.0.1:0");
    const fwd = await forwarder("g1", grpcSink("ai", `127.0.0.1:${receiver.port}`, certs));
    try {
      for (const [id, n] of [["crasher", 1], ["hungry", 1], ["crasher", 2]] as const) await publish(sampleIncident(id, n, { cluster: "g1" }));
      await until(() => receiver.accepted.size === 3, "three revisions received");
      await until(async () => (await consumerState("g1", "ai")).ackPending === 0, "all acked");
      expect([...receiver.accepted].sort()).toEqual(["crasher:1", "crasher:2", "hungry:1"]);
      expect(receiver.received.filter((r) => r.duplicate)).toEqual([]);
      const repeat = receiver.received.find((r) => r.key === "crasher:2")!;
      expect(repeat.incident).toMatchObject({ incidentId: "crasher", repeatCount: 2, isUpdate: true, cluster: "g1" });
      expect(repeat.sink).toBe("ai");
      // grpc.health.v1.Health/Check over the same mTLS.
      const creds = grpc.credentials.createSsl(fs.readFileSync(certs.ca), fs.readFileSync(certs.clientKey), fs.readFileSync(certs.clientCert));
      expect(await healthCheck(`127.0.0.1:${receiver.port}`, creds, "faro.v1.IncidentService")).toBe("SERVING");
      receiver.setServing(false);
      expect(await healthCheck(`127.0.0.1:${receiver.port}`, creds, "")).toBe("NOT_SERVING");
    } finally {
      await fwd.stop();
      await receiver.stop();
    }
  });

  it("a client certificate from another CA is refused and nothing is acknowledged", { timeout: 30_000 }, async () => {
    const receiver = await mtlsReceiver("127.0.0.1:0");
    const fwd = await forwarder("g2", grpcSink("ai", `127.0.0.1:${receiver.port}`, strangers));
    try {
      await publish(sampleIncident("crasher", 1, { cluster: "g2" }));
      const metric = async (name: string, kind?: string) =>
        ((await fwd.handle.metrics.registry.getSingleMetric(name)?.get())?.values ?? []).filter((v) => v.labels["sink"] === "ai" && (kind === undefined || v.labels["kind"] === kind)).reduce((a, v) => a + v.value, 0);
      await until(async () => (await metric("faro_forwarder_failed_total")) >= 2, "two refused attempts");
      expect(receiver.received).toEqual([]);
      expect(await metric("faro_forwarder_delivered_total")).toBe(0);
      const s = await consumerState("g2", "ai");
      expect(s.ackFloor).toBe(0);
      expect(s.ackPending + s.pending).toBe(1);
    } finally {
      await fwd.stop();
      await receiver.stop();
    }
  });

  it("a receiver restarted mid-stream loses nothing: the sink reconnects and redelivers what was not acknowledged", { timeout: 30_000 }, async () => {
    const port = await freePort();
    const listen = `127.0.0.1:${port}`;
    let receiver = await mtlsReceiver(listen);
    const fwd = await forwarder("g3", grpcSink("ai", listen, certs));
    const all = new Set<string>();
    try {
      const seqs: number[] = [];
      for (let i = 1; i <= 5; i++) seqs.push(await publish(sampleIncident(`w${i}`, 1, { cluster: "g3" })));
      await until(() => receiver.accepted.size === 5, "the first five");
      for (const k of receiver.accepted) all.add(k);
      await until(async () => (await consumerState("g3", "ai")).ackFloor === seqs[4], "the first five acked");
      await receiver.stop();
      for (let i = 6; i <= 10; i++) seqs.push(await publish(sampleIncident(`w${i}`, 1, { cluster: "g3" })));
      // Published while the receiver is down: attempted, refused, nothing acked.
      await until(async () => (await consumerState("g3", "ai")).delivered === seqs[9], "the next ones attempted");
      const metric = async (name: string) => ((await fwd.handle.metrics.registry.getSingleMetric(name)?.get())?.values ?? []).filter((v) => v.labels["sink"] === "ai").reduce((a, v) => a + v.value, 0);
      await until(async () => (await metric("faro_forwarder_failed_total")) >= 5, "failed attempts while the receiver is down");
      expect((await consumerState("g3", "ai")).ackFloor).toBe(seqs[4]);
      receiver = await mtlsReceiver(listen);
      await until(() => receiver.accepted.size === 5, "the other five after the restart", 20_000);
      for (const k of receiver.accepted) all.add(k);
      expect(all.size).toBe(10);
      await until(async () => (await consumerState("g3", "ai")).ackFloor === seqs[9], "all ten acked");
    } finally {
      await fwd.stop();
      await receiver.stop();
    }
  });
});
