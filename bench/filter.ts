// Benchmark: log lines per second through the filter's rule engine and redaction, in-process on
// one core, next to baselines measured in the same run. Run: `pnpm bench:filter [--seconds N]`.
import { createRedactor } from "@faro/redact";
import { compileTenants, type FilterRulesConfig, type TenantMatcher } from "@faro/filter";

type LogStreamFacts = Parameters<TenantMatcher["filterLogBatch"]>[0];

const secondsArg = process.argv.indexOf("--seconds");
const SECONDS = secondsArg > 0 ? Number(process.argv[secondsArg + 1]) : 3;
const BATCH = 100;

// 20 rules: 3 global, 17 across four tenants; 8 of them match log content (RE2), the rest pods,
// containers, labels, kinds and Event fields.
const config: FilterRulesConfig = {
  global: {
    excludeNamespaces: ["kube-system", "kube-*"],
    exclude: [
      { name: "probes", log: "GET /(healthz|readyz|livez)" },
      { name: "kube-probe", log: "kube-probe/[0-9.]+" },
      { name: "pulled", reasons: ["Pulled"] },
    ],
  },
  tenants: [
    {
      name: "shop",
      namespaces: ["prod-shop", "shop-*"],
      include: [{ pods: ["web-*", "api-*", "worker-*"] }, { labels: "app in (web, api, worker)" }],
      exclude: [
        { name: "sidecar", containers: ["istio-proxy", "linkerd-proxy"] },
        { name: "debug", log: "^\\S+ DEBUG ", ignoreCase: true },
        { name: "metrics-scrape", log: "GET /metrics" },
        { name: "noisy-cache", log: "cache (hit|miss) key=" },
      ],
    },
    {
      name: "payments",
      namespaces: ["/^pay-(eu|us)$/"],
      include: [{ labels: "team=payments" }, { name: "ledger", pods: ["ledger-*"] }],
      exclude: [{ name: "heartbeat", log: "heartbeat (ok|sent)" }, { kinds: ["ConfigMap"] }],
    },
    {
      name: "search",
      namespaces: ["prod-shop"],
      include: [{ names: ["search-*"] }, { kinds: ["Event"], types: ["Warning"] }],
      exclude: [{ name: "trace", log: "\\bTRACE\\b" }, { sources: ["default-scheduler"] }],
    },
    {
      name: "sre",
      namespaces: ["*"],
      include: [{ name: "errors", log: "\\b(ERROR|FATAL|panic|Exception)\\b" }, { kinds: ["Node", "Event"] }],
      exclude: [{ name: "known-flake", log: "connection reset by peer" }],
    },
  ],
};

const ruleCount =
  (config.global?.exclude?.length ?? 0) + config.tenants.reduce((n, t) => n + (t.include?.length ?? 0) + (t.exclude?.length ?? 0), 0);

// A realistic mix: access logs, probes, structured JSON, errors, debug noise, ids that look like
// secrets but are not, and ~5% lines with real credential formats.
const templates: ((i: number) => string)[] = [
  (i) => `2024-05-01T10:00:${pad(i)}.123Z INFO  GET /api/v1/orders/${i} 200 ${i % 90}ms request_id=7f3a9c1e-2b4d-4e6f-8a0b-${hex(i, 12)}`,
  (i) => `2024-05-01T10:00:${pad(i)}.200Z INFO  GET /healthz 200 0.${i % 9}ms`,
  (i) => `10.0.${i % 255}.7 - - [01/May/2024:10:00:${pad(i)} +0000] "GET /readyz HTTP/1.1" 200 2 "-" "kube-probe/1.29"`,
  (i) => `{"level":"info","ts":"2024-05-01T10:00:${pad(i)}Z","msg":"order placed","order_id":${i},"user_id":${i * 7},"amount":${i % 500}.99}`,
  (i) => `2024-05-01T10:00:${pad(i)}.300Z DEBUG cache hit key=user:${i} ttl=300`,
  (i) => `2024-05-01T10:00:${pad(i)}.400Z ERROR payment ${i} declined: upstream timeout after 3000ms`,
  (i) => `2024-05-01T10:00:${pad(i)}.500Z INFO  pulled image sha256:${hex(i, 64)} in ${i % 30}s`,
  (i) => `2024-05-01T10:00:${pad(i)}.600Z INFO  span=${hex(i, 16)} trace=${hex(i * 3, 32)} db.query duration=${i % 40}ms rows=${i % 100}`,
  (i) => `2024-05-01T10:00:${pad(i)}.700Z WARN  retrying request ${i} (attempt ${i % 5}) connection reset by peer`,
  (i) => `2024-05-01T10:00:${pad(i)}.800Z INFO  GET /metrics 200 ${i % 9}ms`,
  (i) => `2024-05-01T10:00:${pad(i)}.900Z INFO  uploaded blob ${hex(i, 32)} size=${i * 13} content_type=application/json`,
  (i) => `2024-05-01T10:00:${pad(i)}.950Z INFO  worker ${i % 8} processed batch of ${i % 64} jobs, queue depth ${i % 1000}`,
];
const secretTemplates: ((i: number) => string)[] = [
  (i) => `2024-05-01T10:00:${pad(i)}.111Z DEBUG connecting to postgres://app:Pg${hex(i, 12)}@db:5432/shop`,
  (i) => `2024-05-01T10:00:${pad(i)}.222Z DEBUG Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiI${hex(i, 8)}In0.${hex(i, 43)}`,
  (i) => `2024-05-01T10:00:${pad(i)}.333Z INFO  login user=alice password=${hex(i, 14)} remote=10.0.3.7`,
  (i) => `2024-05-01T10:00:${pad(i)}.444Z DEBUG using token ghp_${hex(i, 36)}`,
];
function pad(i: number): string {
  return String(i % 60).padStart(2, "0");
}
function hex(i: number, n: number): string {
  let s = "";
  let x = (i + 1) * 2654435761;
  while (s.length < n) {
    x = (x * 1103515245 + 12345) % 2147483648;
    s += (x % 16).toString(16);
  }
  return s;
}

const LINES = 20_000;
const lines = Array.from({ length: LINES }, (_, i) =>
  i % 20 === 0 ? secretTemplates[(i / 20) % secretTemplates.length]!(i) : templates[i % templates.length]!(i),
);
const batches: string[][] = [];
for (let i = 0; i < lines.length; i += BATCH) batches.push(lines.slice(i, i + BATCH));
const streams: LogStreamFacts[] = [
  { namespace: "prod-shop", pod: "web-5d8f7-abcde", container: "web", labels: { app: "web" } },
  { namespace: "prod-shop", pod: "api-6c9d4-fghij", container: "api", labels: { app: "api" } },
  { namespace: "pay-eu", pod: "ledger-0", container: "ledger", labels: { team: "payments" } },
  { namespace: "prod-shop", pod: "search-7b-klmno", container: "search", labels: { app: "search" } },
];

function measure(label: string, perBatch: (batch: string[], k: number) => void): number {
  // Warm up (JIT, RE2 pattern-set cache), then run for SECONDS.
  for (let k = 0; k < 50; k++) perBatch(batches[k % batches.length]!, k);
  let n = 0;
  let k = 0;
  const t0 = performance.now();
  let elapsed = 0;
  while (elapsed < SECONDS * 1000) {
    for (let j = 0; j < 20; j++, k++) {
      const b = batches[k % batches.length]!;
      perBatch(b, k);
      n += b.length;
    }
    elapsed = performance.now() - t0;
  }
  const rate = n / (elapsed / 1000);
  console.log(`${label.padEnd(58)} ${Math.round(rate).toLocaleString("en-US").padStart(11)} lines/s`);
  return rate;
}

console.log(`filter bench: ${LINES} distinct lines, batches of ${BATCH}, ${ruleCount} rules, ${SECONDS}s per case, node ${process.version}`);

const noRules = compileTenants({ tenants: [{ name: "all", namespaces: ["*"] }] });
const matcher = compileTenants(config);
const redactor = createRedactor();
const redactorWithUserRules = createRedactor({
  rules: [
    { name: "acme-order-token", pattern: "ord_tok_[A-Za-z0-9]{16}" },
    { name: "session", keys: ["session*", "sid"] },
  ],
});

let sink = 0;
measure("baseline: JSON round-trip of each batch", (b) => {
  sink += (JSON.parse(JSON.stringify(b)) as string[]).length;
});
measure("baseline: 1 tenant, no rules, no redaction", (b, k) => {
  const s = streams[k % streams.length]!;
  for (const t of noRules.tenantsForLogStream(s)) sink += noRules.filterLogLines(t, s, b).kept.length;
});
measure(`rules only (${ruleCount} rules), filterLogLines per tenant`, (b, k) => {
  const s = streams[k % streams.length]!;
  for (const t of matcher.tenantsForLogStream(s)) sink += matcher.filterLogLines(t, s, b).kept.length;
});
measure(`rules only (${ruleCount} rules), filterLogBatch`, (b, k) => {
  for (const r of matcher.filterLogBatch(streams[k % streams.length]!, b).values()) sink += r.kept.length;
});
measure("redaction only (built-ins)", (b) => {
  sink += redactor.redactLogLines(b).lines.length;
});
// Redact once per batch, then route: every tenant of the stream gets its kept lines.
const rate = measure(`rules + redaction (built-ins)`, (b, k) => {
  const red = redactor.redactLogLines(b).lines;
  for (const r of matcher.filterLogBatch(streams[k % streams.length]!, red).values()) sink += r.kept.length;
});
measure(`rules + redaction (built-ins + 2 user rules)`, (b, k) => {
  const red = redactorWithUserRules.redactLogLines(b).lines;
  for (const r of matcher.filterLogBatch(streams[k % streams.length]!, red).values()) sink += r.kept.length;
});
console.log(`target ≥ 100,000 lines/s with ${ruleCount} rules + redaction: ${rate >= 100_000 ? "met" : "NOT met"} in this run`);

const st = matcher.stats();
const top = [...st.rules].sort((a, b) => b.evalSeconds - a.evalSeconds).slice(0, 5);
console.log("slowest rules (cumulative eval time):");
for (const r of top) console.log(`  ${`${r.tenant}/${r.rule}`.padEnd(30)} ${(r.evalSeconds * 1000).toFixed(0).padStart(6)} ms  dropped ${r.dropped}`);
if (sink < 0) console.log(sink);

// ---- Through the bus (filter service): FARO_RAW → filter → FARO_CLEAN over a real nats-server, next to a
// pass-through consumer; see bench/filter-bus.ts. `--no-bus` skips it.
if (!process.argv.includes("--no-bus")) {
  const { benchFilterThroughBus } = await import("./filter-bus.js");
  await benchFilterThroughBus();
}
