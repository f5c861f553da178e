// Kube-sim benchmark: list 10,000 pods, watch fan-out to 200 watchers, and log lines/s served to
// 1,000 concurrent follow streams. Prints figures; never asserts timings.
import http from "node:http";
import { startCluster } from "@faro/kube-sim";

const agent = new http.Agent({ keepAlive: true, maxSockets: Infinity });

function get(url: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    http
      .get(url, { agent }, (res) => {
        let body = "";
        res.setEncoding("utf8");
        res.on("data", (d: string) => (body += d));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
      })
      .on("error", reject);
  });
}

/** Opens a streaming GET and counts newline-terminated lines. */
function stream(url: string, onLines: (n: number) => void): http.ClientRequest {
  const req = http.get(url, { agent }, (res) => {
    res.on("data", (d: Buffer) => {
      let n = 0;
      for (let i = d.indexOf(10); i >= 0; i = d.indexOf(10, i + 1)) n++;
      onLines(n);
    });
    res.on("error", () => {});
  });
  req.on("error", () => {});
  return req;
}

const fmt = (n: number) => Math.round(n).toLocaleString("en-US");

async function listBench() {
  const c = await startCluster({ truthLines: false });
  const pods = c.store.typeFor("", "pods")!;
  const ns = c.store.typeFor("", "namespaces")!;
  c.store.create(ns, { apiVersion: "v1", kind: "Namespace", metadata: { name: "bench" } });
  for (let i = 0; i < 10_000; i++) {
    // schedulerName "none": the pods stay Pending, so only the list path is measured
    c.store.create(pods, { apiVersion: "v1", kind: "Pod", metadata: { name: `p-${i}`, namespace: "bench", labels: { app: `a${i % 10}` } }, spec: { schedulerName: "none", containers: [{ name: "app", image: "sim/app:1" }] } });
  }
  const times: number[] = [];
  let size = 0;
  for (let i = 0; i < 4; i++) {
    const t0 = performance.now();
    const r = await get(`${c.url}/api/v1/namespaces/bench/pods`);
    times.push(performance.now() - t0);
    size = r.body.length;
    if (JSON.parse(r.body).items.length !== 10_000) throw new Error("list returned the wrong number of pods");
  }
  const t0 = performance.now();
  await get(`${c.url}/api/v1/namespaces/bench/pods?limit=500`);
  const page = performance.now() - t0;
  console.log(`list 10,000 pods (raw HTTP, ${(size / 1e6).toFixed(1)} MB): best ${times.slice(1).reduce((a, b) => Math.min(a, b)).toFixed(0)} ms, first ${times[0]!.toFixed(0)} ms; one 500-item page: ${page.toFixed(1)} ms`);

  // watch fan-out: 200 watchers of configmaps, then 500 creates
  const cms = c.store.typeFor("", "configmaps")!;
  const watchers = 200;
  const changes = 500;
  let delivered = 0;
  const reqs = Array.from({ length: watchers }, () => stream(`${c.url}/api/v1/namespaces/bench/configmaps?watch=true&resourceVersion=${c.store.currentRV()}`, (n) => (delivered += n)));
  while (c.server.watchCount() < watchers) await new Promise((r) => setTimeout(r, 10));
  const w0 = performance.now();
  for (let i = 0; i < changes; i++) {
    c.store.create(cms, { apiVersion: "v1", kind: "ConfigMap", metadata: { name: `cm-${i}`, namespace: "bench" }, data: { k: "v".repeat(100) } });
    if (i % 50 === 0) await new Promise((r) => setImmediate(r));
  }
  while (delivered < watchers * changes && performance.now() - w0 < 30_000) await new Promise((r) => setTimeout(r, 5));
  const wt = (performance.now() - w0) / 1000;
  console.log(`watch fan-out: ${changes} changes × ${watchers} watchers = ${fmt(delivered)} events in ${wt.toFixed(2)} s → ${fmt(delivered / wt)} events/s delivered`);
  for (const r of reqs) r.destroy();
  await c.stop();
}

async function logBench() {
  const podsN = 100;
  const followersPerPod = 10;
  const rate = 200;
  const c = await startCluster({ truthLines: false, nodes: 3 });
  const deploys = c.store.typeFor("apps", "deployments")!;
  for (let d = 0; d < podsN / 10; d++) {
    c.store.create(deploys, {
      apiVersion: "apps/v1",
      kind: "Deployment",
      metadata: { name: `logger-${d}`, namespace: "default" },
      spec: {
        replicas: 10,
        selector: { matchLabels: { app: `logger-${d}` } },
        template: {
          metadata: { labels: { app: `logger-${d}` }, annotations: { "sim.faro.dev/log-lines": "{pod} request {n} GET /api/v1/items 200 12ms", "sim.faro.dev/log-rate": String(rate) } },
          spec: { containers: [{ name: "app", image: "sim/logger:1" }] },
        },
      },
    });
  }
  const podType = c.store.typeFor("", "pods")!;
  const running = () => c.store.list(podType, "default").filter((p) => ((p.status as { phase?: string })?.phase ?? "") === "Running");
  while (running().length < podsN) await new Promise((r) => setTimeout(r, 50));
  let served = 0;
  const reqs = running().flatMap((p) => Array.from({ length: followersPerPod }, () => stream(`${c.url}/api/v1/namespaces/default/pods/${p.metadata.name}/log?follow=true&timestamps=true&tailLines=0`, (n) => (served += n))));
  while (c.logs.followers() < podsN * followersPerPod) await new Promise((r) => setTimeout(r, 20));
  await new Promise((r) => setTimeout(r, 500));
  const s0 = served;
  const t0 = performance.now();
  await new Promise((r) => setTimeout(r, 5000));
  const secs = (performance.now() - t0) / 1000;
  const lines = served - s0;
  console.log(`log follow: ${podsN * followersPerPod} streams (${podsN} pods × ${followersPerPod}, ${rate} lines/s each written = ${fmt(podsN * rate)} lines/s) → ${fmt(lines / secs)} lines/s served (target ≥ 200,000)`);
  for (const r of reqs) r.destroy();
  await c.stop();
}

console.log(`kube-sim benchmark — node ${process.version}`);
await listBench();
await logBench();
agent.destroy();
