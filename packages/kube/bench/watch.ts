// Benchmark of ResilientWatch against the kube-sim API server: initial list of N pods and live
// MODIFIED throughput, with a raw-HTTP line-count baseline measured in the same run.
// The simulator runs in the same process, so live figures are bounded by the producer and RSS
// includes the simulator's store; compare the watch line with the raw baseline, not in absolute terms.
// Run: npx tsx packages/kube/bench/watch.ts [pods=10000] [updates=20000]   (RETAIN=0: no retained objects)
import http from "node:http";
import { createApiServer, createStore } from "@faro/kube-sim";
import * as k8s from "@kubernetes/client-node";
import { ResilientWatch } from "@faro/kube";

const N = Number(process.argv[2] ?? 10_000);
const U = Number(process.argv[3] ?? 20_000);
const store = createStore({ historySize: U + N + 10 });
const server = await createApiServer({ store, logs: undefined });
const kc = new k8s.KubeConfig();
kc.loadFromOptions({
  clusters: [{ name: "s", server: server.url, skipTLSVerify: true }],
  users: [{ name: "u" }],
  contexts: [{ name: "s", cluster: "s", user: "u" }],
  currentContext: "s",
});
const podType = store.typeFor("", "pods")!;
const pod = (i: number) => ({
  apiVersion: "v1",
  kind: "Pod",
  metadata: { name: `p-${i}`, namespace: "bench", labels: { app: "bench", shard: String(i % 10) }, annotations: { note: "x".repeat(200) } },
  spec: { nodeName: "n1", containers: [{ name: "app", image: "sim/app:1.0", env: [{ name: "A", value: "1" }], resources: { limits: { cpu: "1" } } }] },
  status: { phase: "Running", conditions: [{ type: "Ready", status: "True", lastTransitionTime: "2026-01-01T00:00:00Z" }] },
});
for (let i = 0; i < N; i++) store.create(podType, pod(i));

const rss = () => `${Math.round(process.memoryUsage().rss / 1048576)} MiB`;
let count = 0;
let target = N;
let reached: () => void = () => {};
const w = new ResilientWatch(kc, {
  resource: { group: "", version: "v1", resource: "pods", kind: "Pod", apiVersion: "v1", namespaced: true },
  namespace: "bench",
  retainObjects: process.env.RETAIN !== "0",
  onEvent: async () => {
    if (++count === target) reached();
  },
});
let t0 = performance.now();
let done = new Promise<void>((r) => (reached = r));
w.start();
await done;
const listMs = performance.now() - t0;
console.log(`initial list: ${N} pods in ${listMs.toFixed(0)} ms = ${Math.round((N / listMs) * 1000)} objects/s, rss ${rss()}`);

// live churn
count = 0;
target = U;
done = new Promise<void>((r) => (reached = r));
t0 = performance.now();
for (let i = 0; i < U; i++) {
  const cur = store.get(podType, "bench", `p-${i % N}`)!;
  store.update(podType, { ...cur, metadata: { ...cur.metadata, labels: { ...cur.metadata.labels, gen: String(i) } } });
  if (i % 500 === 0) await new Promise((r) => setImmediate(r));
}
await done;
const liveMs = performance.now() - t0;
console.log(`watch: ${U} MODIFIED in ${liveMs.toFixed(0)} ms = ${Math.round((U / liveMs) * 1000)} events/s, rss ${rss()}`);
await w.stop();

// baseline: the same watch stream read raw, only counting lines (no parse, no handler)
const rv0 = store.currentRV();
const raw = new Promise<number>((resolve) => {
  const t = performance.now();
  let lines = 0;
  http.get(`${server.url}/api/v1/namespaces/bench/pods?watch=true&resourceVersion=${rv0}`, (res) => {
    res.on("data", (c: Buffer) => {
      for (let i = c.indexOf(10); i >= 0; i = c.indexOf(10, i + 1)) lines++;
      if (lines >= U) {
        res.destroy();
        resolve(performance.now() - t);
      }
    });
  });
});
for (let i = 0; i < U; i++) {
  const cur = store.get(podType, "bench", `p-${i % N}`)!;
  store.update(podType, { ...cur, metadata: { ...cur.metadata, labels: { ...cur.metadata.labels, gen: `b${i}` } } });
  if (i % 500 === 0) await new Promise((r) => setImmediate(r));
}
const rawMs = await raw;
console.log(`baseline raw stream: ${U} lines in ${rawMs.toFixed(0)} ms = ${Math.round((U / rawMs) * 1000)} lines/s`);
await server.close();
