// A 5 MB log line through the simulator: published cut to lines.maxBytes with a marker and originalBytes that
// state its true size, with the default lines.readMaxBytes (1 MiB): the reader keeps the head and counts the rest.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningService } from "@faro/kernel";
import type { LogStreamer } from "../src/index.js";
import { truncationMarker } from "../src/index.js";
import { collectBatches, finishAndCompare, instanceOf, pod, podType, startEnv, startLogStreamer, startPodFeed, until, type Collector, type Env } from "./helpers.js";

let env: Env;
let feed: { stop(): Promise<void> };
let svc: RunningService<LogStreamer>;
let collector: Collector;

beforeAll(async () => {
  env = await startEnv({ speed: 20 });
  feed = await startPodFeed(env);
  collector = await collectBatches(env.nc);
  svc = await startLogStreamer(env);
}, 60_000);

afterAll(async () => {
  await svc?.stop();
  await collector?.stop();
  await feed?.stop();
  await env?.stop();
});

describe("a 5 MB log line", () => {
  it("is cut to lines.maxBytes; the marker and originalBytes state its true size", async () => {
    const store = env.cluster.store;
    store.create(podType(env.cluster), pod("huge", { "sim.faro.dev/log-lines": "small {n}", "sim.faro.dev/log-rate": "10" }, { grace: 1 }));
    const p = await until(() => env.cluster.truth.lines({ pod: "huge" }).length > 3 && store.get(podType(env.cluster), "default", "huge"), "huge writing");
    const key = `${p.metadata.uid}/app/0`;
    await until(() => (collector.lines.get(key) ?? 0) > 3, "stream live");
    // 5,000,000 bytes: ASCII with two-byte characters, so the cut must land on a character boundary.
    const big = "é".repeat(1_000_000) + "x".repeat(3_000_000);
    expect(Buffer.byteLength(big)).toBe(5_000_000);
    env.cluster.logs.write(p.metadata.uid, "app", [big]);
    await until(() => collector.batches.some((b) => b.batch.lines.some((l) => l.truncated)), "the cut line published", 20_000);

    const cmp = await finishAndCompare(env, collector, ["huge"]);
    expect(cmp.problems).toEqual([]);
    const cut = collector.batches.filter((b) => instanceOf(b.batch) === key).flatMap((b) => b.batch.lines).filter((l) => l.truncated);
    expect(cut).toHaveLength(1);
    const l = cut[0]!;
    expect(l.originalBytes).toBe(5_000_000);
    expect(Buffer.byteLength(l.line)).toBeLessThanOrEqual(16 * 1024);
    const kept = Buffer.byteLength(l.line.slice(0, l.line.lastIndexOf("…[truncated")));
    expect(l.line.endsWith(truncationMarker(5_000_000 - kept))).toBe(true);
    expect(big.startsWith(l.line.slice(0, l.line.lastIndexOf("…[truncated")))).toBe(true);
  }, 60_000);
});
