// Integration: consumer-group semantics (ack, nak delay, poison and max-deliveries dead letters, sharing, drain).
import { startNats, type ManagedServer } from "@faro/test-harness";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { pino } from "pino";
import { Registry } from "prom-client";
import {
  ConsumerGroup,
  DLQ_HEADERS,
  connectBus,
  ensureDlqStream,
  ensureStream,
  PoisonError,
  Publisher,
  RetryableError,
  type Bus,
  type BusMessage,
  type ConsumerGroupOptions,
} from "../src/index.js";
import { decodeDeadLetter } from "@faro/contracts";
import { consumerSpec, dec, enc, streamSpec, waitFor } from "./helpers.js";

const silent = pino({ level: "silent" });

describe("ConsumerGroup", () => {
  let server: ManagedServer;
  let bus: Bus;
  let pub: Publisher;
  const registry = new Registry();
  const groups: ConsumerGroup[] = [];

  beforeAll(async () => {
    server = await startNats();
    bus = await connectBus({ servers: server.url, name: "cg-test", registry });
    await ensureDlqStream(bus.jsm, { name: "DLQ", subjects: ["dlq.>"], storage: "memory" });
    pub = new Publisher({ js: bus.js, registry });
  });
  afterAll(async () => {
    for (const g of groups) await g.stop();
    await pub?.close();
    await bus?.close();
    await server?.stop();
  });

  function group(stream: string, durable: string, handler: (m: BusMessage) => Promise<void>, over: Partial<ConsumerGroupOptions> = {}) {
    const g = new ConsumerGroup({
      nc: bus.nc,
      js: bus.js,
      jsm: bus.jsm,
      stream,
      consumer: consumerSpec(durable),
      handler,
      dlqSubject: `dlq.${stream}`,
      includePayload: true,
      service: "test-service",
      registry,
      logger: silent,
      pendingPollMs: 200,
      ...over,
    });
    groups.push(g);
    return g;
  }

  async function dlqMessages(stream: string) {
    const info = await bus.jsm.streams.info("DLQ", { subjects_filter: `dlq.${stream}` });
    const out = [];
    for (let seq = info.state.first_seq; seq <= info.state.last_seq && seq > 0; seq++) {
      const m = await bus.jsm.streams.getMessage("DLQ", { seq });
      if (m && m.subject === `dlq.${stream}`) out.push(m);
    }
    return out;
  }

  it("acks after the handler and naks a failure, which comes back after the nak delay", async () => {
    await ensureStream(bus.jsm, streamSpec("RETRY", ["retry.>"]));
    const seen: Array<{ at: number; count: number; msgId: string | undefined }> = [];
    const g = group(
      "RETRY",
      "worker",
      async (m) => {
        seen.push({ at: Date.now(), count: m.deliveryCount, msgId: m.msgId });
        if (m.deliveryCount === 1) throw new RetryableError("downstream not ready");
      },
      { nakBaseMs: 300, nakMaxMs: 1000 },
    );
    await g.start();
    await pub.publish("retry.a", enc("x"), { msgId: "r-1" });
    await waitFor(() => seen.length >= 2, 10_000, "redelivery");
    expect(seen[0]?.count).toBe(1);
    expect(seen[1]?.count).toBe(2);
    expect(seen[1]?.msgId).toBe("r-1");
    // Base 300 ms with 10 % jitter: the redelivery cannot come back before 270 ms.
    expect(seen[1]!.at - seen[0]!.at).toBeGreaterThanOrEqual(260);
    await waitFor(async () => (await bus.jsm.consumers.info("RETRY", "worker")).ack_floor.stream_seq === 1, 5000, "ack");
    expect(seen.length).toBe(2);
    expect(await registry.getSingleMetricAsString("faro_bus_naked_total")).toMatch(/consumer="worker"} 1/);
    await g.stop();
  });

  it("dead-letters a poison message with its reason and keeps processing the following ones", async () => {
    await ensureStream(bus.jsm, streamSpec("POISON", ["poison.>"]));
    const handled: string[] = [];
    const g = group("POISON", "worker", async (m) => {
      const body = dec(m.data);
      if (body === "bad") throw new PoisonError("cannot decode: bad magic");
      handled.push(body);
    });
    await g.start();
    await pub.publish("poison.a", enc("good-1"), { msgId: "p-1" });
    await pub.publish("poison.b", enc("bad"), { msgId: "p-2", headers: { "Faro-Tenant": "t1" } });
    await pub.publish("poison.c", enc("good-2"), { msgId: "p-3" });
    await waitFor(() => handled.length === 2, 10_000, "good messages");
    await waitFor(async () => (await dlqMessages("POISON")).length === 1, 10_000, "dead letter");
    const [dl] = await dlqMessages("POISON");
    const envelope = decodeDeadLetter(dl!.data);
    expect(envelope).toMatchObject({ service: "test-service", stage: "decode", originalSubject: "poison.b", error: "cannot decode: bad magic", payloadWithheld: false });
    expect(dec(envelope.payload)).toBe("bad");
    expect(dl!.header.get(DLQ_HEADERS.reason)).toBe("cannot decode: bad magic");
    expect(dl!.header.get(DLQ_HEADERS.service)).toBe("test-service");
    expect(dl!.header.get(DLQ_HEADERS.originalSubject)).toBe("poison.b");
    expect(dl!.header.get(DLQ_HEADERS.originalSeq)).toBe("2");
    expect(dl!.header.get("Faro-Tenant")).toBe("t1");
    expect(dl!.header.get("Nats-Msg-Id")).toBe("dl:test-service:decode:2");
    expect(handled).toEqual(["good-1", "good-2"]);
    // term()'ed: nothing left pending, never redelivered.
    await waitFor(async () => (await bus.jsm.consumers.info("POISON", "worker")).num_ack_pending === 0, 5000, "term");
    await g.stop();
  });

  it("dead-letters a message that exhausted max_deliver via the advisory, once", async () => {
    await ensureStream(bus.jsm, streamSpec("MAXDEL", ["maxdel.>"]));
    let calls = 0;
    const handler = async () => {
      calls++;
      throw new Error("always failing");
    };
    // Two replicas: only one dead letter may be stored.
    const spec = consumerSpec("worker", { maxDeliver: 2 });
    const a = group("MAXDEL", "worker", handler, { consumer: spec, nakBaseMs: 50 });
    const b = group("MAXDEL", "worker", handler, { consumer: spec, nakBaseMs: 50 });
    await a.start();
    await b.start();
    await pub.publish("maxdel.x", enc("doomed"), { msgId: "md-1" });
    await waitFor(async () => (await dlqMessages("MAXDEL")).length >= 1, 10_000, "max-deliveries dead letter");
    const [dl] = await dlqMessages("MAXDEL");
    const envelope = decodeDeadLetter(dl!.data);
    expect(envelope).toMatchObject({ stage: "deliver", reason: "max deliveries exceeded", deliveries: 2 });
    expect(dec(envelope.payload)).toBe("doomed");
    expect(dl!.header.get(DLQ_HEADERS.reason)).toBe("max deliveries exceeded");
    expect(dl!.header.get(DLQ_HEADERS.kind)).toBe("max_deliveries");
    expect(dl!.header.get(DLQ_HEADERS.deliveries)).toBe("2");
    expect(calls).toBe(2);
    await a.stop();
    await b.stop();
    expect((await dlqMessages("MAXDEL")).length).toBe(1);
  });

  it("splits work between two groups on the same durable, each message handled once", async () => {
    await ensureStream(bus.jsm, streamSpec("SHARE", ["share.>"]));
    const byGroup = [new Set<number>(), new Set<number>()];
    const counts = new Map<number, number>();
    const make = (i: number) => async (m: BusMessage) => {
      counts.set(m.seq, (counts.get(m.seq) ?? 0) + 1);
      byGroup[i]!.add(m.seq);
      await new Promise((r) => setTimeout(r, 5));
    };
    const a = group("SHARE", "worker", make(0), { concurrency: 4 });
    const b = group("SHARE", "worker", make(1), { concurrency: 4 });
    await a.start();
    await b.start();
    const n = 300;
    for (let i = 0; i < n; i++) void pub.publish("share.x", enc(`m${i}`), { msgId: `s-${i}` });
    await pub.flush();
    await waitFor(() => counts.size === n, 20_000, "all messages handled");
    await a.stop();
    await b.stop();
    expect([...counts.values()].every((c) => c === 1)).toBe(true);
    expect(byGroup[0]!.size).toBeGreaterThan(0);
    expect(byGroup[1]!.size).toBeGreaterThan(0);
    expect(byGroup[0]!.size + byGroup[1]!.size).toBe(n);
    await waitFor(async () => (await bus.jsm.consumers.info("SHARE", "worker")).ack_floor.stream_seq === n, 5000, "all acked");
  });

  it("stop() stops pulling and waits for running handlers, which are acked", async () => {
    await ensureStream(bus.jsm, streamSpec("DRAIN", ["drain.>"]));
    let started = 0;
    let finished = 0;
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const g = group(
      "DRAIN",
      "worker",
      async () => {
        started++;
        await gate;
        await new Promise((r) => setTimeout(r, 50));
        finished++;
      },
      { concurrency: 3, consumer: consumerSpec("worker", { ackWaitMs: 30_000 }) },
    );
    await g.start();
    for (let i = 0; i < 5; i++) await pub.publish("drain.x", enc(`d${i}`), { msgId: `d-${i}` });
    await waitFor(() => started === 3, 10_000, "three handlers running");
    expect(g.inflight).toBe(3);
    // Once the server reports 4 and 5 delivered, they sit in this client's buffer (the reply follows them on
    // the same connection): stop() must hand them back. A message still on the wire when the pull closes is
    // only redelivered after ack_wait, which is the at-least-once fallback, not what this test checks.
    await waitFor(async () => (await bus.jsm.consumers.info("DRAIN", "worker")).delivered.stream_seq === 5, 5000, "all delivered");
    const stopped = g.stop();
    let done = false;
    void stopped.then(() => (done = true));
    await new Promise((r) => setTimeout(r, 100));
    expect(done).toBe(false);
    release();
    await stopped;
    await g.stop();
    expect(finished).toBe(3);
    expect(started).toBe(3);
    expect(g.inflight).toBe(0);
    // Acks are fire-and-forget: poll (well inside ack_wait, 30 s) until the server has processed them.
    await waitFor(async () => (await bus.jsm.consumers.info("DRAIN", "worker")).ack_floor.stream_seq === 3, 5000, "acks of drained handlers");
    // The two messages never handled were handed back (nak): a new replica gets them at once, long before
    // ack_wait (30 s) would have expired.
    const later: BusMessage[] = [];
    const g2 = group("DRAIN", "worker", async (m) => void later.push(m), { consumer: consumerSpec("worker", { ackWaitMs: 30_000 }) });
    await g2.start();
    await waitFor(() => later.length === 2, 5000, "handed-back messages");
    expect(later.map((m) => m.seq).sort()).toEqual([4, 5]);
    await g2.stop();
  });
});
