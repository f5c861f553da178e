// Bus throughput on this machine: awaited publishes (baseline) vs the windowed Publisher, and ConsumerGroup
// consume+ack, against a nats-server started here (file storage, ~200 B messages).
import { startNats } from "@faro/test-harness";
import { AckPolicy } from "@nats-io/jetstream";
import { ConsumerGroup, connectBus, ensureStream, Publisher } from "@faro/bus";

const N = Number(process.env.BENCH_BUS_N ?? 20_000);
const SIZE = 200;

function rate(n: number, ms: number): number {
  return Math.round((n * 1000) / ms);
}

async function main(): Promise<void> {
  const server = await startNats();
  const bus = await connectBus({ servers: server.url, name: "bench-bus" });
  try {
    await ensureStream(bus.jsm, {
      name: "BENCH",
      subjects: ["bench.>"],
      maxAgeMs: 3600_000,
      maxBytes: 1024 ** 3,
      duplicateWindowMs: 120_000,
      storage: "file",
    });
    const payload = new Uint8Array(SIZE).fill(97);

    // Warm-up (JIT, connection, stream files).
    for (let i = 0; i < 500; i++) await bus.js.publish("bench.warm", payload, { msgID: `warm-${i}` });

    // 1. Baseline: each publish awaited before the next.
    let t0 = performance.now();
    for (let i = 0; i < N; i++) await bus.js.publish(`bench.a.${i % 32}`, payload, { msgID: `a-${i}` });
    const awaitedMs = performance.now() - t0;

    // 2. Publisher with a window of 1024 publishes in flight.
    const pub = new Publisher({ js: bus.js, window: 1024, name: "bench" });
    t0 = performance.now();
    for (let i = 0; i < N; i++) void pub.publish(`bench.w.${i % 32}`, payload, { msgId: `w-${i}` });
    await pub.flush();
    const windowedMs = performance.now() - t0;
    await pub.close();

    // 3. ConsumerGroup consume + ack of the windowed batch, at two concurrency settings.
    const consume = async (durable: string, concurrency: number): Promise<number> => {
      let seen = 0;
      let resolveDone!: () => void;
      const done = new Promise<void>((r) => (resolveDone = r));
      const group = new ConsumerGroup({
        nc: bus.nc,
        js: bus.js,
        jsm: bus.jsm,
        stream: "BENCH",
        consumer: { durable, filterSubject: "bench.w.>", ackWaitMs: 30_000, maxDeliver: 5, maxAckPending: 10_000 },
        handler: async () => {
          if (++seen === N) resolveDone();
        },
        dlqSubject: "bench.dlq",
        service: "bench",
        concurrency,
        pendingPollMs: 0,
      });
      const start = performance.now();
      await group.start();
      await done;
      const ms = performance.now() - start;
      await group.stop();
      return ms;
    };
    // Baseline: the client's own consume iterator acking each message, no handler machinery.
    await bus.jsm.consumers.add("BENCH", {
      durable_name: "benchraw",
      filter_subject: "bench.w.>",
      ack_policy: AckPolicy.Explicit,
      max_ack_pending: 10_000,
    });
    t0 = performance.now();
    const raw = await (await bus.js.consumers.get("BENCH", "benchraw")).consume({ max_messages: 256 });
    let rawSeen = 0;
    for await (const m of raw) {
      m.ack();
      if (++rawSeen === N) break;
    }
    const rawMs = performance.now() - t0;

    const c64Ms = await consume("bench64", 64);
    const c256Ms = await consume("bench256", 256);

    const awaited = rate(N, awaitedMs);
    const windowed = rate(N, windowedMs);
    console.log(`bus bench: ${N} messages of ${SIZE} B, nats-server file storage, one run`);
    console.log(`publish awaited one by one (baseline): ${awaited} msg/s`);
    console.log(`publish via Publisher, window 1024:     ${windowed} msg/s`);
    console.log(`windowed / awaited:                     ${(windowed / awaited).toFixed(1)}x`);
    console.log(`consume+ack raw iterator (baseline):    ${rate(N, rawMs)} msg/s`);
    console.log(`consume+ack ConsumerGroup, conc. 64:    ${rate(N, c64Ms)} msg/s`);
    console.log(`consume+ack ConsumerGroup, conc. 256:   ${rate(N, c256Ms)} msg/s`);
  } finally {
    await bus.close();
    await server.stop();
  }
}

await main();
