// Restart without replay: the watcher as a child process (`faro run watcher`, the container entrypoint),
// stopped gracefully and killed with SIGKILL while changes flow; the restarted process publishes what changed
// while it was down (DELETED for what vanished) and does not republish what the bus already has — every
// change on the stream exactly once.
import { spawn, type ChildProcess } from "node:child_process";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort } from "@faro/test-harness";
import { compare, deployment, envVars, eventsOf, objectsOf, readRaw, startEnv, UNWATCHED_KINDS, until, type Env } from "./helpers.js";

const root = path.resolve(import.meta.dirname, "../../..");
let env: Env;
let child: ChildProcess | undefined;
let port = 0;
let output = "";

/**
 * Runs `faro run watcher` (apps/cli/src/main.ts). Node loads tsx itself rather than through the tsx binary,
 * which runs the program in a child process: SIGKILL must reach the watcher, not a wrapper that leaves it running.
 */
async function startChild(): Promise<void> {
  port = await freePort();
  child = spawn(process.execPath, ["--import", "tsx", "apps/cli/src/main.ts", "run", "watcher"], {
    cwd: root,
    env: { ...process.env, ...envVars(env, { FARO_HTTP_PORT: String(port) }) },
    stdio: ["ignore", "pipe", "pipe"],
  });
  child.stdout!.on("data", (d: Buffer) => (output += d.toString()));
  child.stderr!.on("data", (d: Buffer) => (output += d.toString()));
  await until(async () => (await fetch(`http://127.0.0.1:${port}/readyz`)).status === 200, "the watcher process to be ready", 30_000).catch((err: Error) => {
    throw new Error(`${err.message}\n${output.slice(-3000)}`);
  });
}

async function stopChild(signal: NodeJS.Signals): Promise<number | null> {
  const c = child!;
  child = undefined;
  const exited = new Promise<number | null>((resolve) => c.once("exit", (code) => resolve(code)));
  c.kill(signal);
  return await exited;
}

async function childMetric(name: string): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  let total = 0;
  for (const m of text.matchAll(new RegExp(`^${name}\\{[^}]*\\} (\\d+)`, "gm"))) total += Number(m[1]);
  return total;
}

const truthObjects = () => env.cluster.truth.changes().filter((c) => !UNWATCHED_KINDS.has(c.kind));
const truthEvents = () => env.cluster.truth.changes().filter((c) => c.kind === "Event");

async function exactlyOnce(sinceRv: number, gapUids: Set<string>) {
  let last: unknown;
  try {
    return await until(async () => {
      const published = await readRaw(env.nc);
      const objects = compare(truthObjects(), objectsOf(published), { sinceRv, gapUids });
      const events = compare(truthEvents(), eventsOf(published), { sinceRv, gapUids });
      last = { objects: objects.missing.slice(0, 10), events: events.missing.slice(0, 10) };
      return objects.missing.length === 0 && events.missing.length === 0 ? { objects, events } : undefined;
    }, "the stream to catch up with the ground truth", 30_000);
  } catch (err) {
    throw new Error(`${(err as Error).message}; missing ${JSON.stringify(last)}\n${output.slice(-2000)}`);
  }
}

/**
 * After a kill -9, what the process had received but not yet put on the stream is gone with it; only the
 * latest state of those objects can come back (from the relist). Per kind, the stream holds a prefix of the
 * watch order, so everything after the last published rv of its kind counts as changed while down. A
 * publish nats-server stores after this read (it was on the wire at the kill) extends that prefix: its
 * object is in the set already, so it is checked by its final state, never counted as missing or invented.
 */
async function unpublishedAtKill(): Promise<Set<string>> {
  const lastByKind = new Map<string, number>();
  for (const p of await readRaw(env.nc)) {
    const kind = p.category === "obj" ? p.msg.kind : "Event";
    lastByKind.set(kind, Math.max(lastByKind.get(kind) ?? 0, Number(p.msg.resourceVersion)));
  }
  return new Set(env.cluster.truth.changes().filter((c) => Number(c.resourceVersion) > (lastByKind.get(c.kind) ?? 0)).map((c) => c.uid));
}

/** uids the truth changed after `rv`: while the watcher was down only their last state can be published. */
const changedAfter = (rv: number) => new Set(env.cluster.truth.changes().filter((c) => Number(c.resourceVersion) > rv).map((c) => c.uid));

beforeAll(async () => {
  env = await startEnv({ speed: 50 });
});

afterAll(async () => {
  if (child) await stopChild("SIGKILL");
  await env?.stop();
});

describe("watcher restarts", () => {
  let readyRv = 0;
  // Objects changed while the watcher was down, over the whole file: only their final state is knowable.
  const gaps = new Set<string>();
  const addGap = (rv: number) => {
    for (const uid of changedAfter(rv)) gaps.add(uid);
    return gaps;
  };
  const s = () => env.cluster.store;
  const cms = () => s().typeFor("", "configmaps")!;

  it("after a graceful stop, republishes nothing the bus already has", async () => {
    await startChild();
    readyRv = s().currentRV();
    s().create(s().typeFor("apps", "deployments")!, deployment("web", "default", 2));
    for (let i = 0; i < 40; i++) s().create(cms(), { apiVersion: "v1", kind: "ConfigMap", metadata: { name: `cm-${i}`, namespace: "default" }, data: { v: "0" } });
    await until(() => env.cluster.truth.events({ reason: "Started" }).length >= 2, "pods started");
    await exactlyOnce(readyRv, new Set());
    expect(await stopChild("SIGTERM")).toBe(0);

    const downRv = s().currentRV();
    for (let i = 0; i < 5; i++) s().update(cms(), { ...s().get(cms(), "default", `cm-${i}`)!, data: { v: "down" } });
    for (let i = 5; i < 10; i++) s().delete(cms(), "default", `cm-${i}`);
    await startChild();
    const { objects, events } = await exactlyOnce(readyRv, addGap(downRv));
    expect(objects.duplicates).toEqual([]);
    expect(objects.invented).toEqual([]);
    expect(events.duplicates).toEqual([]);
    // Redis said what was acked: the restarted process did not even try to republish it.
    expect(await childMetric("faro_watcher_publish_duplicates_total")).toBe(0);
    const published = objectsOf(await readRaw(env.nc));
    expect(published.filter((o) => o.type === "DELETED" && /^cm-[5-9]$/.test(o.name)).length).toBe(5);
    expect(published.filter((o) => o.name === "cm-0" && o.type === "MODIFIED").length).toBe(1);
  });

  it("after kill -9 in the middle of a change stream, every change is on the stream exactly once", async () => {
    // Churn: each ConfigMap in turn, so no object changes twice within a few hundred milliseconds.
    let i = 10;
    const churn = setInterval(() => {
      const name = `cm-${10 + (i++ % 30)}`;
      const cm = s().get(cms(), "default", name);
      if (cm) s().update(cms(), { ...cm, data: { v: String(i) } });
    }, 5);
    await until(async () => objectsOf(await readRaw(env.nc)).some((o) => o.name === "cm-20" && o.type === "MODIFIED"), "churn on the stream");
    expect(await stopChild("SIGKILL")).toBe(null);
    clearInterval(churn);
    for (const uid of await unpublishedAtKill()) gaps.add(uid);
    const killRv = s().currentRV();

    for (let k = 10; k < 15; k++) s().update(cms(), { ...s().get(cms(), "default", `cm-${k}`)!, data: { v: "while-dead" } });
    for (let k = 15; k < 20; k++) s().delete(cms(), "default", `cm-${k}`);
    for (let k = 0; k < 5; k++) s().create(cms(), { apiVersion: "v1", kind: "ConfigMap", metadata: { name: `new-${k}`, namespace: "default" } });
    s().delete(s().typeFor("apps", "deployments")!, "default", "web");

    await startChild();
    const { objects, events } = await exactlyOnce(readyRv, addGap(killRv));
    expect(objects.duplicates).toEqual([]);
    expect(objects.invented).toEqual([]);
    expect(events.duplicates).toEqual([]);
    expect(events.invented).toEqual([]);
    // At most the last flush interval's worth was offered again (and dropped by JetStream), not the whole cluster.
    expect(await childMetric("faro_watcher_publish_duplicates_total")).toBeLessThan(30);
    const published = objectsOf(await readRaw(env.nc));
    expect(published.filter((o) => o.type === "DELETED" && /^cm-1[5-9]$/.test(o.name)).length).toBe(5);
    expect(await stopChild("SIGTERM")).toBe(0);
  });
});
