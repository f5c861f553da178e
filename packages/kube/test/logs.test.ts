// Integration tests of followLogs/getPreviousLogs against a running simulated cluster (kubelet and
// log store), compared with the simulator's ground truth.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { followLogs, getPreviousLogs, KubeApiError, loadKubeConfig, type KubeAccess, type LogLine } from "@faro/kube";
import { clusterAvailable, startFullCluster, until } from "./sim.js";

type Cluster = Awaited<ReturnType<typeof startFullCluster>> & { writeKubeconfig?(path: string): void };
let c: Cluster | undefined;
let kc: KubeAccess;
const dir = fs.mkdtempSync(path.join(os.tmpdir(), "faro-kube-logs-"));
beforeAll(async () => {
  if (!clusterAvailable) return;
  c = await startFullCluster({ speed: 20 });
  // the simulator's own kubeconfig file, loaded the way services load theirs
  const file = path.join(dir, "kubeconfig");
  c.writeKubeconfig!(file);
  kc = loadKubeConfig({ kubeconfig: file });
});
afterAll(async () => {
  await c?.stop();
  fs.rmSync(dir, { recursive: true, force: true });
});

interface TruthCluster {
  truth: { lines(f: { pod?: string; container?: string; restartCount?: number }): { timestamp: string; line: string }[] };
}
const truthOf = (pod: string, restartCount: number) =>
  (c as unknown as TruthCluster).truth.lines({ pod, container: "app", restartCount }).map((r) => ({ timestamp: r.timestamp, text: r.line }));

function pod(name: string, annotations: Record<string, string>) {
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name, namespace: "default", annotations },
    spec: { containers: [{ name: "app", image: "sim/app:1.0" }] },
  };
}
type Status = { containerStatuses?: { name: string; restartCount: number; state: Record<string, unknown> }[] };
const status = (name: string) => (c!.store.get(c!.store.typeFor("", "pods")!, "default", name)?.status as Status | undefined)?.containerStatuses?.[0];

describe.skipIf(!clusterAvailable)("pod logs against kube-sim (simulated cluster not exported yet when skipped)", () => {
  it("follows a running container's lines (UTF-8 intact) and ends when the pod is gone", async () => {
    const pods = c!.store.typeFor("", "pods")!;
    c!.store.create(pods, pod("talker", { "sim.faro.dev/log-lines": "héllo {n} €\nplain {n} 😀", "sim.faro.dev/log-rate": "20" }));
    await until(() => !!status("talker")?.state.running, "talker running", 20_000);
    const got: LogLine[] = [];
    const done = followLogs(kc, { namespace: "default", pod: "talker", container: "app", follow: true }, async (l) => {
      got.push(l);
      await Promise.resolve(); // an async consumer is awaited
    });
    await until(() => got.length >= 30, "30 followed lines", 20_000);
    c!.store.delete(pods, "default", "talker", { gracePeriodSeconds: 0 });
    const result = await done;
    expect(result.end).toBe("eof");
    expect(result.lines).toBe(got.length);
    for (const l of got) expect(l.timestamp).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z$/);
    expect(got.some((l) => l.text.includes("€"))).toBe(true);
    expect(got).toEqual(truthOf("talker", 0).slice(0, got.length));
  });

  it("stops on abort and resumes with sinceTime from the last timestamp", async () => {
    const pods = c!.store.typeFor("", "pods")!;
    c!.store.create(pods, pod("resumer", { "sim.faro.dev/log-lines": "tick {n}", "sim.faro.dev/log-rate": "20" }));
    await until(() => !!status("resumer")?.state.running, "resumer running", 20_000);
    const first: LogLine[] = [];
    const ac = new AbortController();
    const p = followLogs(kc, { namespace: "default", pod: "resumer", container: "app" }, (l) => {
      first.push(l);
      if (first.length === 10) ac.abort();
    }, ac.signal);
    expect((await p).end).toBe("aborted");
    const last = first[9]!;
    const second: LogLine[] = [];
    const ac2 = new AbortController();
    const p2 = followLogs(kc, { namespace: "default", pod: "resumer", container: "app", sinceTime: last.timestamp }, (l) => {
      second.push(l);
      if (second.length === 10) ac2.abort();
    }, ac2.signal);
    await p2;
    // sinceTime is inclusive: the resumed stream starts at (or before) the last line seen
    const idx = second.findIndex((l) => l.timestamp === last.timestamp && l.text === last.text);
    expect(idx).toBeGreaterThanOrEqual(0);
    const joined = [...first.slice(0, 10), ...second.slice(idx + 1)];
    expect(joined).toEqual(truthOf("resumer", 0).slice(0, joined.length));
  });

  it("getPreviousLogs returns the crashed instance's lines, ending with its last words", async () => {
    const pods = c!.store.typeFor("", "pods")!;
    c!.store.create(
      pods,
      pod("crasher", { "sim.faro.dev/log-lines": "work {n}", "sim.faro.dev/log-rate": "5", "sim.faro.dev/crash-after": "2s", "sim.faro.dev/last-words": "panic: boom" }),
    );
    await until(() => (status("crasher")?.restartCount ?? 0) >= 1, "a restart", 20_000);
    const prev = await getPreviousLogs(kc, { namespace: "default", pod: "crasher", container: "app" });
    expect(prev.at(-1)?.text).toBe("panic: boom");
    expect(prev).toEqual(truthOf("crasher", 0));
  });

  it("rejects with the API's Status message for a container waiting to start", async () => {
    const pods = c!.store.typeFor("", "pods")!;
    c!.store.create(pods, pod("stuck", { "sim.faro.dev/bad-image": "true" }));
    await until(() => !!status("stuck")?.state.waiting, "stuck waiting", 20_000);
    const err = await followLogs(kc, { namespace: "default", pod: "stuck", container: "app" }, () => {}).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(KubeApiError);
    expect((err as KubeApiError).code).toBe(400);
    expect((err as Error).message).toMatch(/container "app" in pod "stuck" is waiting to start/);
    const missing = await followLogs(kc, { namespace: "default", pod: "nope", container: "app" }, () => {}).catch((e: unknown) => e);
    expect((missing as KubeApiError).notFound).toBe(true);
  });
});
