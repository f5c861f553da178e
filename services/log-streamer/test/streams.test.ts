// One in-process log-streamer against the simulated cluster, real NATS and Redis: crash loops, init
// containers, deletion and recreation, long lines and a small streams.max — compared with the ground truth.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import { Redis } from "ioredis";
import { buildRawSubject, decodeDeadLetter, FARO_DLQ } from "@faro/contracts";
import type { RunningService } from "@faro/kernel";
import { checkServiceContract } from "@faro/observability";
import type { LogStreamer } from "../src/index.js";
import { CLUSTER, collectBatches, compareWithTruth, finishAndCompare, instanceOf, pod, podType, startEnv, startLogStreamer, startPodFeed, until, type Collector, type Env } from "./helpers.js";

let env: Env;
let feed: { stop(): Promise<void> };
let svc: RunningService<LogStreamer>;
let streamer: LogStreamer;
let collector: Collector;

beforeAll(async () => {
  env = await startEnv({ speed: 20 });
  feed = await startPodFeed(env);
  collector = await collectBatches(env.nc);
  svc = await startLogStreamer(env, { FARO_STREAMS_MAX: "4" });
  streamer = svc.instance;
}, 60_000);

afterAll(async () => {
  await svc?.stop();
  await collector?.stop();
  await feed?.stop();
  await env?.stop();
});

async function metric(name: string): Promise<number> {
  const m = await svc.handle.metrics.registry.getSingleMetric(name)?.get();
  return (m?.values ?? []).reduce((s, v) => s + v.value, 0);
}

const restartCount = (name: string) =>
  ((env.cluster.store.get(podType(env.cluster), "default", name)?.status as { containerStatuses?: { name: string; restartCount: number }[] } | undefined)?.containerStatuses ?? []).find(
    (c) => c.name === "app",
  )?.restartCount ?? 0;

describe("log-streamer against the simulator", () => {
  it("publishes every line of every container instance exactly once", async () => {
    const store = env.cluster.store;
    const long = "ü".repeat(10_000); // 20,000 bytes: over the 16 KiB default
    // A crash loop behind an init container; the app says its last words before every crash.
    store.create(
      podType(env.cluster),
      pod(
        "crashy",
        {
          "sim.faro.dev/log-lines": "work {n}",
          "sim.faro.dev/log-rate": "20",
          "sim.faro.dev/app.crash-after": "3s",
          "sim.faro.dev/app.last-words": "panic: boom",
        },
        { init: [{ name: "setup" }] },
      ),
    );
    store.create(podType(env.cluster), pod("wide", { "sim.faro.dev/log-lines": `short\n${long}\nafter`, "sim.faro.dev/log-rate": "10" }));
    store.create(podType(env.cluster), pod("solo", { "sim.faro.dev/log-lines": "solo {n}", "sim.faro.dev/log-rate": "20" }, { grace: 2 }));

    // Deletion and recreation under the same name: a new uid, new instances.
    const firstSolo = await until(() => env.cluster.truth.lines({ pod: "solo" }).length > 20 && store.get(podType(env.cluster), "default", "solo"), "solo writing");
    // Delete once its stream is live (lines of a stream still catching up would go with the pod).
    const soloKey = `${firstSolo.metadata.uid}/app/0`;
    const soloWritten = env.cluster.truth.lines({ podUid: firstSolo.metadata.uid }).length;
    await until(() => (collector.lines.get(soloKey) ?? 0) >= soloWritten, "solo stream live");
    store.delete(podType(env.cluster), "default", "solo");
    await until(() => !store.get(podType(env.cluster), "default", "solo"), "solo gone");
    store.create(podType(env.cluster), pod("solo", { "sim.faro.dev/log-lines": "solo again {n}", "sim.faro.dev/log-rate": "20" }, { grace: 2 }));
    await until(() => env.cluster.truth.lines({ pod: "solo" }).some((l) => l.podUid !== firstSolo.metadata.uid), "second solo writing");

    await until(() => restartCount("crashy") >= 3, "three crashes", 60_000);
    await until(() => env.cluster.truth.lines({ pod: "wide" }).length >= 6, "wide lines");

    // Everything ends: graceful deletion of every pod once the streams are live; each instance must end with endOfStream.
    const cmp = await finishAndCompare(env, collector, ["crashy", "wide", "solo"]);
    const raw = collector.batches;
    const instances = cmp.want;
    expect(cmp.problems).toEqual([]);
    expect(cmp.instances).toBe(instances.size);
    expect(cmp.lines).toBe(env.cluster.truth.lines().length);
    // crashy: setup + app instances 0..≥3; solo twice; wide once
    expect(instances.size).toBeGreaterThanOrEqual(2 + 4 + 1);

    // The line right before each crash is there, last in its instance.
    const crashyUid = env.cluster.truth.lines({ pod: "crashy" })[0]!.podUid;
    for (let rc = 0; rc < 3; rc++) {
      const mine = raw.filter((b) => b.batch.podUid === crashyUid && b.batch.container === "app" && b.batch.restartCount === rc).flatMap((b) => b.batch.lines);
      expect(mine.at(-1)?.line).toBe("panic: boom");
    }
    // Init container first, typed.
    const setup = raw.find((b) => b.batch.container === "setup")!.batch;
    expect(setup.containerType).toBe("init");
    expect(setup.podLabels).toEqual({ app: "crashy" });

    // Long lines: cut with the marker, counted.
    const longs = env.cluster.truth.lines({ pod: "wide" }).filter((l) => l.line === long).length;
    expect(longs).toBeGreaterThan(0);
    const cut = raw.flatMap((b) => b.batch.lines).filter((l) => l.truncated);
    expect(cut).toHaveLength(longs);
    for (const l of cut) {
      expect(l.originalBytes).toBe(20_000);
      expect(Buffer.byteLength(l.line)).toBeLessThanOrEqual(16 * 1024);
      expect(l.line).toMatch(/…\[truncated \d+ bytes\]$/);
    }
    expect(await metric("faro_log_streamer_truncated_lines_total")).toBe(longs);
    expect(await metric("faro_log_streamer_lines_total")).toBe(cmp.lines);

    // Finished instances are no longer wanted; nothing is left streaming.
    await until(() => streamer.stats().active === 0, "streams finished");
    expect(streamer.readiness()).toBe(true);
    const report = await checkServiceContract(svc.handle.http!.url, { expectReady: true });
    expect(report.readyStatus).toBe(200);
  }, 120_000);

  it("queues streams beyond streams.max and still publishes all of them", async () => {
    const store = env.cluster.store;
    // Six containers that run briefly: more than the 4 slots; the rest wait, then are read (previous/final).
    for (let i = 0; i < 3; i++) {
      store.create(
        podType(env.cluster),
        pod(`batch-${i}`, { "sim.faro.dev/log-lines": "job {n}", "sim.faro.dev/log-rate": "50", "sim.faro.dev/complete-after": "4s" }, { containers: ["a", "b"], restartPolicy: "Never" }),
      );
    }
    const names = [0, 1, 2].map((i) => `batch-${i}`);
    await until(() => names.every((n) => env.cluster.truth.lines({ pod: n }).length > 0), "batch pods writing");
    const uids = new Set(names.map((n) => store.get(podType(env.cluster), "default", n)!.metadata.uid));
    const only = (inst: string) => uids.has(inst.split("/")[0]!);
    const want = () => new Set(env.cluster.truth.instances().filter((i) => uids.has(i.podUid)).map(instanceOf));
    await until(() => {
      const w = want();
      return w.size === 6 && [...w].every((i) => collector.ended.has(i));
    }, "all six instances ended", 60_000);
    const cmp = compareWithTruth(env.cluster, collector.batches, { only, requireEnd: want() });
    expect(cmp.problems).toEqual([]);
    expect(cmp.instances).toBe(6);
    expect(await metric("faro_log_streamer_streams_queued_total")).toBeGreaterThan(0);
    for (const n of names) store.delete(podType(env.cluster), "default", n, { gracePeriodSeconds: 0 });
  }, 90_000);

  it("dead-letters a pod change it cannot decode in the DeadLetter envelope (stage decode)", async () => {
    const subject = buildRawSubject(CLUSTER, "default", { category: "obj", resource: "pods", group: "", name: "garbage" });
    const ack = await jetstream(env.nc).publish(subject, new TextEncoder().encode("not a ResourceChange"), { msgID: "garbage-1" });
    const jsm = await jetstreamManager(env.nc);
    const stored = await until(
      () => jsm.streams.getMessage(FARO_DLQ.name, { last_by_subj: "faro.v1.dlq.log-streamer.decode" }).then((m) => m ?? undefined, () => undefined),
      "dead letter stored",
    );
    expect(stored.header?.get("Nats-Msg-Id")).toBe(`dl:log-streamer:decode:${ack.seq}`);
    const dl = decodeDeadLetter(stored.data);
    expect(dl).toMatchObject({ service: "log-streamer", stage: "decode", originalSubject: subject, streamSeq: ack.seq, payloadWithheld: true });
    // Counted once the DLQ acknowledged the store, a moment after the message is readable.
    await until(async () => (await metric("faro_dead_letters_total")) === 1, "faro_dead_letters_total = 1");
  });

  it("stop() drains: streams end, leases are handed over, checkpoints stay, the kernel closes the connections", async () => {
    const store = env.cluster.store;
    store.create(podType(env.cluster), pod("last", { "sim.faro.dev/log-lines": "last {n}", "sim.faro.dev/log-rate": "50" }));
    const uid = (await until(() => store.get(podType(env.cluster), "default", "last"), "pod last")).metadata.uid;
    const key = `${uid}/app/0`;
    await until(() => streamer.stats().keys.includes(key) && (collector.lines.get(key) ?? 0) > 0, "last streaming");

    const [x, y] = [svc.stop(), svc.stop()];
    expect(x).toBe(y);
    expect((await x).code).toBe(0);
    expect(streamer.readiness()).not.toBe(true);
    expect(streamer.stats().active).toBe(0);
    expect(svc.bus.nc.isClosed()).toBe(true);
    const redis = new Redis(env.redis.url);
    try {
      // Released, not left to expire: another replica resumes the stream at once, from the checkpoint.
      expect(await redis.exists(`faro:${CLUSTER}:ls:lease:${key}`)).toBe(0);
      expect(await redis.exists(`faro:${CLUSTER}:ls:cp:${key}`)).toBe(1);
    } finally {
      redis.disconnect();
    }
    store.delete(podType(env.cluster), "default", "last", { gracePeriodSeconds: 0 });
  });
});
