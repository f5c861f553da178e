// Label and annotation changes on running pods — through the API server as kubectl makes them (merge and
// strategic merge patches), many in a row, on a bare pod and on a Deployment's pod (its `app` label too) — must not
// restart their log streams: the bus is compared with the simulator's ground truth (0 lines lost, 0 twice) and
// no stream is started again.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningService } from "@faro/kernel";
import type { LogStreamer } from "@faro/log-streamer";
import { collectLogs, compareLogs, finishPods, metricSum, podManifest, podsOf, startFaultEnv, startLogStreamer, startWatcher, until, type FaultEnv, type LogCollector } from "./helpers.js";

let env: FaultEnv;
let watcher: RunningService;
let streamer: RunningService<LogStreamer>;
let logs: LogCollector;

beforeAll(async () => {
  env = await startFaultEnv({ speed: 20 });
  logs = await collectLogs(env.nc, env.name);
  watcher = await startWatcher(env);
  streamer = await startLogStreamer(env, "ls-0");
}, 60_000);

afterAll(async () => {
  await streamer?.stop();
  await watcher?.stop();
  await logs?.stop();
  await env?.stop();
});

async function patch(name: string, contentType: string, body: unknown): Promise<void> {
  const res = await fetch(`${env.cluster.url}/api/v1/namespaces/default/pods/${name}`, {
    method: "PATCH",
    headers: { "content-type": contentType, authorization: "Bearer kube-sim" },
    body: JSON.stringify(body),
  });
  expect(res.status).toBe(200);
}

const published = (name: string) => logs.batches.filter((b) => b.pod === name).reduce((n, b) => n + b.lines.length, 0);

describe("label and annotation changes on running pods", () => {
  it("never restart a log stream: no line twice, none missing, no stream started again", async () => {
    const store = env.cluster.store;
    const bare = "relabelled";
    store.create(podsOf(env.cluster), podManifest(bare, { "sim.faro.dev/log-lines": `${bare} {n}`, "sim.faro.dev/log-rate": "50" }));
    // A Deployment's pod (owned by its ReplicaSet; the simulator does not orphan a pod that leaves the selector).
    store.create(store.typeFor("apps", "deployments")!, {
      apiVersion: "apps/v1",
      kind: "Deployment",
      metadata: { name: "web", namespace: "default" },
      spec: {
        replicas: 1,
        selector: { matchLabels: { app: "web" } },
        template: {
          metadata: { labels: { app: "web" }, annotations: { "sim.faro.dev/log-lines": "web {n}", "sim.faro.dev/log-rate": "50" } },
          spec: { terminationGracePeriodSeconds: 1, containers: [{ name: "app", image: "sim/app:1.0" }] },
        },
      },
    } as never);
    const webPod = await until(() => env.cluster.truth.lines().find((l) => l.pod.startsWith("web-"))?.pod, "the web pod writing", 20_000);
    await until(() => published(bare) > 200 && published(webPod) > 200, "both streams live", 20_000);
    const started = await metricSum(streamer, "faro_log_streamer_streams_started_total");

    // kubectl label / annotate: merge and strategic merge patches of metadata, each a new pod version on the bus.
    for (let i = 0; i < 10; i++) {
      await patch(bare, "application/merge-patch+json", { metadata: { labels: { rev: String(i) } } });
      await patch(bare, "application/strategic-merge-patch+json", { metadata: { annotations: { "example.com/note": `change ${i}` } } });
    }
    await patch(webPod, "application/merge-patch+json", { metadata: { labels: { tier: "frontend" } } });
    await patch(webPod, "application/merge-patch+json", { metadata: { labels: { app: "web-debug" } } });
    const relabelled = env.cluster.truth.changes({ kind: "Pod", name: bare, type: "MODIFIED" }).length;
    expect(relabelled).toBeGreaterThanOrEqual(20);
    // The log-streamer has consumed every one of those changes, and the streams went on.
    await until(async () => (await metricSum(streamer, "faro_log_streamer_pod_changes_total")) >= env.cluster.truth.changes({ kind: "Pod" }).length, "every pod change consumed", 20_000);
    const mark = [published(bare), published(webPod)];
    await until(() => published(bare) > mark[0]! + 200 && published(webPod) > mark[1]! + 200, "streams going on", 20_000);
    // No stream was started again.
    expect(await metricSum(streamer, "faro_log_streamer_streams_started_total")).toBe(started);

    const uids = await finishPods(env, logs, [bare, webPod]);
    const cmp = compareLogs(env.cluster, logs.batches, uids);
    expect(cmp.problems).toEqual([]);
    expect({ lost: cmp.lost, duplicated: cmp.duplicated, extra: cmp.extra }).toEqual({ lost: 0, duplicated: 0, extra: 0 });
    expect(cmp.lines).toBeGreaterThan(800);
    // The batches carry the labels the pod has now.
    const last = logs.batches.filter((b) => b.pod === bare && b.lines.length > 0).at(-1)!;
    expect(last.podLabels).toMatchObject({ app: bare, rev: "9" });
  }, 60_000);
});
