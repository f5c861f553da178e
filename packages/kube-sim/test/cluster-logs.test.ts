// Pod logs through the API server: follow, previous, timestamps, tail/since/limit and error cases,
// read with client-node 1.4.0 and raw HTTP against a running simulated cluster.
import { PassThrough } from "node:stream";
import * as k8s from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startCluster, type Cluster } from "../src/index.js";
import { containerStatus, deployment, kubeConfigFor, podsOf, until } from "./cluster-helpers.js";

let c: Cluster;
beforeAll(async () => {
  c = await startCluster({ speed: 20 });
});
afterAll(async () => {
  await c?.stop();
});

const pods = () => c.store.typeFor("", "pods")!;

describe("pod logs", () => {
  it("follow receives lines as written and ends when the pod is deleted", async () => {
    c.store.create(c.store.typeFor("apps", "deployments")!, deployment("chatty", { annotations: { "sim.faro.dev/log-lines": "line {n}", "sim.faro.dev/log-rate": "10" } }));
    const pod = await until(() => podsOf(c, "chatty").find((p) => containerStatus(p)?.state.running), "chatty running");
    const name = pod.metadata.name;
    const out = new PassThrough();
    let text = "";
    out.on("data", (d: Buffer) => (text += d.toString()));
    const ended = new Promise<void>((resolve) => out.on("finish", () => resolve()));
    const log = new k8s.Log(kubeConfigFor(c));
    const ac = await log.log("default", name, "app", out, { follow: true, timestamps: true });
    await until(() => text.split("\n").length > 20, "20 followed lines");
    const before = text.split("\n").length;
    await until(() => text.split("\n").length > before + 5, "more lines while following");
    c.store.delete(pods(), "default", name);
    await Promise.race([ended, until(() => !c.store.get(pods(), "default", name) && c.logs.followers() === 0, "stream closed", 15_000)]);
    ac.abort();
    const lines = text.trim().split("\n");
    // every line is "<RFC3339 9 digits> line N", strictly increasing, numbered without gaps
    const stamps = lines.map((l) => l.slice(0, l.indexOf(" ")));
    for (const s of stamps) expect(s).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z$/);
    for (let i = 1; i < stamps.length; i++) expect(stamps[i]! > stamps[i - 1]!).toBe(true);
    const nums = lines.filter((l) => / line \d+$/.test(l)).map((l) => Number(l.split(" ").pop()));
    for (let i = 1; i < nums.length; i++) expect(nums[i]).toBe(nums[i - 1]! + 1);
    // what was served equals the ground truth for the instance
    const truth = c.truth.lines({ pod: name, container: "app", restartCount: 0 }).map((r) => `${r.timestamp} ${r.line}`);
    expect(truth.slice(0, lines.length)).toEqual(lines);
  });

  it("previous=true returns the crashed instance's last lines; 400 when there is none", async () => {
    c.store.create(
      c.store.typeFor("apps", "deployments")!,
      deployment("crashy", { annotations: { "sim.faro.dev/log-lines": "work {n}", "sim.faro.dev/log-rate": "2", "sim.faro.dev/crash-after": "6s", "sim.faro.dev/last-words": "panic: boom" } }),
    );
    const p0 = await until(() => podsOf(c, "crashy").find((p) => containerStatus(p)?.state.running), "crashy running");
    const r0 = await fetch(`${c.url}/api/v1/namespaces/default/pods/${p0.metadata.name}/log?previous=true`);
    expect(r0.status).toBe(400);
    expect(((await r0.json()) as { message: string }).message).toBe(`previous terminated container "app" in pod "${p0.metadata.name}" not found`);
    await until(() => (containerStatus(c.store.get(pods(), "default", p0.metadata.name))?.restartCount ?? 0) >= 1, "a restart");
    const r = await fetch(`${c.url}/api/v1/namespaces/default/pods/${p0.metadata.name}/log?previous=true&tailLines=2`);
    expect(r.status).toBe(200);
    const lines = (await r.text()).trim().split("\n");
    expect(lines).toHaveLength(2);
    expect(lines[1]).toBe("panic: boom");
    expect(lines[0]).toMatch(/^work \d+$/);
    const truth = c.truth.lines({ pod: p0.metadata.name, restartCount: 0 });
    expect(truth.at(-1)!.line).toBe("panic: boom");
  });

  it("serves tailLines, sinceTime, limitBytes and the kubelet's error messages", async () => {
    c.store.create(c.store.typeFor("apps", "deployments")!, deployment("steady", { annotations: { "sim.faro.dev/log-lines": "tick {n}", "sim.faro.dev/log-rate": "5" } }));
    const p = await until(() => podsOf(c, "steady").find((x) => containerStatus(x)?.state.running), "steady running");
    const base = `${c.url}/api/v1/namespaces/default/pods/${p.metadata.name}/log`;
    await until(() => c.truth.lines({ pod: p.metadata.name }).length > 30, "30 lines");
    const all = c.truth.lines({ pod: p.metadata.name });
    const tail = (await (await fetch(`${base}?tailLines=3`)).text()).trim().split("\n");
    expect(tail).toHaveLength(3);
    const since = all[10]!.timestamp;
    const sinced = (await (await fetch(`${base}?timestamps=true&sinceTime=${encodeURIComponent(since)}`)).text()).trim().split("\n");
    expect(sinced[0]).toBe(`${all[10]!.timestamp} ${all[10]!.line}`);
    const limited = await (await fetch(`${base}?limitBytes=7`)).text();
    expect(limited).toBe(`${all[0]!.line}\n${all[1]!.line}`.slice(0, 7));
    const bad = await fetch(`${base}?container=nope`);
    expect(bad.status).toBe(400);
    const missing = await fetch(`${c.url}/api/v1/namespaces/default/pods/ghost/log`);
    expect(missing.status).toBe(404);
    // a waiting container: image never pulls
    c.store.create(c.store.typeFor("apps", "deployments")!, deployment("nopull", { image: "sim/app:does-not-exist" }));
    const w = await until(() => podsOf(c, "nopull")[0], "nopull pod");
    await until(() => containerStatus(c.store.get(pods(), "default", w.metadata.name)), "status");
    const wr = await fetch(`${c.url}/api/v1/namespaces/default/pods/${w.metadata.name}/log`);
    expect(wr.status).toBe(400);
    expect(((await wr.json()) as { message: string }).message).toMatch(new RegExp(`^container "app" in pod "${w.metadata.name}" is waiting to start: `));
  });
});
