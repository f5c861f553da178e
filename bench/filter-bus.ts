// Benchmark, through-the-bus half of bench/filter.ts: log lines per second through the filter SERVICE
// over a real nats-server (FARO_RAW → filter → FARO_CLEAN), next to a pass-through consumer measured
// in the same run (consume + republish + ack, no decoding, rules or redaction). Run on its own with
// `npx tsx bench/filter-bus.ts [--batches N] [--lines N]`, or as the last section of bench/filter.ts.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { createLogger } from "@faro/observability";
import { ConsumerGroup, connectBus, ensureStream, Publisher, type Bus } from "@faro/bus";
import { buildRawSubject, encodeLogBatch, FARO_CLEAN, FARO_RAW, logBatchId } from "@faro/contracts";
import { filterService } from "@faro/filter";
import { loadServiceConfig, scopedDurable, startService } from "@faro/kernel";
import { startNats } from "@faro/test-harness";

// 20 rules (3 global, 17 in four tenants), 8 of them on log content, as in the in-process section.
const RULES_YAML = `
global:
  exclude:
    - { name: probes, log: "GET /(healthz|readyz|livez)" }
    - { name: kube-probe, log: "kube-probe/[0-9.]+" }
    - { name: pulled, reasons: [Pulled] }
tenants:
  - name: shop
    namespaces: [prod-shop, "shop-*"]
    include: [{ name: pods, pods: ["web-*", "api-*", "worker-*"] }, { name: apps, labels: "app in (web, api, worker)" }]
    exclude:
      - { name: sidecar, containers: [istio-proxy, linkerd-proxy] }
      - { name: debug, log: "^\\\\S+ DEBUG ", ignoreCase: true }
      - { name: metrics-scrape, log: "GET /metrics" }
      - { name: noisy-cache, log: "cache (hit|miss) key=" }
  - name: payments
    namespaces: ["/^pay-(eu|us)$/"]
    include: [{ name: team, labels: "team=payments" }, { name: ledger, pods: ["ledger-*"] }]
    exclude: [{ name: heartbeat, log: "heartbeat (ok|sent)" }, { name: cms, kinds: [ConfigMap] }]
  - name: search
    namespaces: [prod-shop]
    include: [{ name: search, names: ["search-*"] }, { name: warnings, kinds: [Event], types: [Warning] }]
    exclude: [{ name: trace, log: "\\\\bTRACE\\\\b" }, { name: scheduler, sources: [default-scheduler] }]
  - name: sre
    namespaces: ["*"]
    include: [{ name: errors, log: "\\\\b(ERROR|FATAL|panic|Exception)\\\\b" }, { name: infra, kinds: [Node, Event] }]
    exclude: [{ name: known-flake, log: "connection reset by peer" }]
`;

const LINE_TEMPLATES: ((i: number) => string)[] = [
  (i) => `2024-05-01T10:00:00.123Z INFO  GET /api/v1/orders/${i} 200 ${i % 90}ms request_id=7f3a9c1e-${i}`,
  (i) => `2024-05-01T10:00:00.200Z INFO  GET /healthz 200 0.${i % 9}ms`,
  (i) => `{"level":"info","msg":"order placed","order_id":${i},"amount":${i % 500}.99}`,
  (i) => `2024-05-01T10:00:00.300Z DEBUG cache hit key=user:${i} ttl=300`,
  (i) => `2024-05-01T10:00:00.400Z ERROR payment ${i} declined: upstream timeout after 3000ms`,
  (i) => `2024-05-01T10:00:00.700Z WARN  retrying request ${i} connection reset by peer`,
  (i) => `2024-05-01T10:00:00.800Z INFO  worker ${i % 8} processed batch of ${i % 64} jobs`,
  (i) => `2024-05-01T10:00:00.900Z DEBUG connecting to postgres://app:Pg${i}secret@db:5432/shop`,
  (i) => `2024-05-01T10:00:00.950Z INFO  login user=alice password=hunter${i} remote=10.0.3.7`,
];
const STREAMS: { namespace: string; pod: string; container: string; labels: Record<string, string> }[] = [
  { namespace: "prod-shop", pod: "web-5d8f7-abcde", container: "web", labels: { app: "web" } },
  { namespace: "prod-shop", pod: "api-6c9d4-fghij", container: "api", labels: { app: "api" } },
  { namespace: "pay-eu", pod: "ledger-0", container: "ledger", labels: { team: "payments" } },
  { namespace: "prod-shop", pod: "search-7b-klmno", container: "search", labels: { app: "search" } },
];

function arg(name: string, dflt: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : dflt;
}

/** Fills FARO_RAW with `batches` log batches of `lines` lines each (published with a window). */
async function fillRaw(bus: Bus, batches: number, lines: number): Promise<void> {
  const pub = new Publisher({ js: bus.js, window: 1024, name: "bench-raw" });
  const pending: Promise<unknown>[] = [];
  for (let b = 0; b < batches; b++) {
    const s = STREAMS[b % STREAMS.length]!;
    const seqStart = Math.floor(b / STREAMS.length) * lines;
    const data = encodeLogBatch({
      cluster: "bench", namespace: s.namespace, pod: s.pod, podUid: `uid-${s.pod}`, container: s.container, containerType: "regular",
      restartCount: 0, source: "follow", seqStart, node: "n1", observedAtMs: Date.now(), endOfStream: false, podLabels: s.labels, podOwnerRefs: [],
      lines: Array.from({ length: lines }, (_, i) => {
        const line = LINE_TEMPLATES[(b * lines + i) % LINE_TEMPLATES.length]!(b * lines + i);
        return { timestamp: "2024-05-01T10:00:00.000000000Z", line, truncated: false, originalBytes: line.length };
      }),
    });
    pending.push(pub.publish(buildRawSubject("bench", s.namespace, { category: "log", pod: s.pod, container: s.container }), data, { msgId: logBatchId(`uid-${s.pod}`, s.container, 0, seqStart) }));
  }
  await Promise.all(pending);
  await pub.close();
}

/** Waits until the durable has delivered and acked everything in the stream; returns when that happened. */
async function drained(bus: Bus, durable: string): Promise<number> {
  for (;;) {
    try {
      const info = await bus.jsm.consumers.info(FARO_RAW.name, durable);
      if (info.num_pending === 0 && info.num_ack_pending === 0 && info.delivered.stream_seq > 0) return performance.now();
    } catch {
      // The durable is created by the consumer under test a moment after it starts; poll again.
    }
    await new Promise((r) => setTimeout(r, 20));
  }
}

export async function benchFilterThroughBus(opts: { batches?: number; lines?: number } = {}): Promise<{ passThrough: number; filter: number }> {
  const batches = opts.batches ?? 2000;
  const lines = opts.lines ?? 100;
  const total = batches * lines;
  console.log(`\nthrough the bus: ${batches} log batches × ${lines} lines = ${total.toLocaleString("en-US")} lines in FARO_RAW, nats-server ${"(JetStream, file storage)"}`);
  const fmt = (label: string, rate: number, msgs: number, ms: number) =>
    console.log(`${label.padEnd(58)} ${Math.round(rate).toLocaleString("en-US").padStart(11)} lines/s  (${Math.round((msgs / ms) * 1000).toLocaleString("en-US")} batches/s)`);

  // Baseline: the same bytes consumed and republished unchanged by a ConsumerGroup (the bus's own cost).
  let passThrough: number;
  {
    const server = await startNats();
    const bus = await connectBus({ servers: server.url, name: "bench-pass" });
    try {
      await ensureStream(bus.jsm, FARO_RAW);
      await ensureStream(bus.jsm, FARO_CLEAN);
      await fillRaw(bus, batches, lines);
      const pub = new Publisher({ js: bus.js, window: 1024, name: "bench-pass" });
      const t0 = performance.now();
      const group = new ConsumerGroup({
        nc: bus.nc, js: bus.js, jsm: bus.jsm, stream: FARO_RAW.name, service: "bench", concurrency: 64,
        consumer: { durable: "pass", ackWaitMs: 30_000, maxDeliver: 5, maxAckPending: 1024 },
        handler: async (m) => {
          await pub.publish(m.subject.replace("faro.v1.raw.", "faro.v1.clean.all."), m.data, { msgId: `${m.msgId}:all` });
        },
      });
      await group.start();
      const t1 = await drained(bus, "pass");
      passThrough = total / ((t1 - t0) / 1000);
      fmt("baseline: pass-through consumer (consume, republish, ack)", passThrough, batches, t1 - t0);
      await group.stop();
      await pub.close();
    } finally {
      await bus.close();
      await server.stop();
    }
  }

  // The filter service: decode, 20 rules, redaction of every line, one copy per tenant, ack after publish.
  let filterRate: number;
  {
    const server = await startNats();
    const bus = await connectBus({ servers: server.url, name: "bench-filter" });
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "faro-bench-filter-"));
    try {
      await ensureStream(bus.jsm, FARO_RAW);
      await fillRaw(bus, batches, lines);
      fs.writeFileSync(path.join(dir, "filter.yaml"), RULES_YAML);
      const config = loadServiceConfig(filterService, { file: path.join(dir, "filter.yaml"), env: { FARO_NATS_URL: server.url, FARO_CLUSTER: "bench" } });
      const t0 = performance.now();
      const filter = await startService(filterService, config, { http: false, logger: createLogger({ service: "filter", level: "warn", pretty: false }) });
      const t1 = await drained(bus, scopedDurable("bench", "filter"));
      filterRate = total / ((t1 - t0) / 1000);
      fmt("filter service (20 rules, redaction, fan-out per tenant)", filterRate, batches, t1 - t0);
      const clean = await bus.jsm.streams.info(FARO_CLEAN.name);
      console.log(`  clean messages published: ${clean.state.messages.toLocaleString("en-US")} (one per tenant that kept lines of a batch)`);
      await filter.stop();
    } finally {
      await bus.close();
      await server.stop();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }
  console.log(`filter / pass-through: ${(filterRate / passThrough).toFixed(2)}×`);
  return { passThrough, filter: filterRate };
}

const isEntry = process.argv[1] !== undefined && /filter-bus\.ts$/.test(process.argv[1]);
if (isEntry) {
  await benchFilterThroughBus({ batches: arg("batches", 2000), lines: arg("lines", 100) });
}
