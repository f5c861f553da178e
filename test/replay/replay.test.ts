// `faro replay` acceptance: the demo's story files are rebuilt byte for byte (minus write-time metadata) from the streams after
// Redis is flushed and the files deleted; and a pipeline whose Redis was killed mid-run recovers by replay with no story lost.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { Redis } from "ioredis";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { incidentsByReason, readStoryFiles } from "@faro/cli";
import { connectBus } from "@faro/bus";
import { FARO_CLEAN } from "@faro/contracts";
import { startNats, startRedis, type ManagedServer } from "@faro/test-harness";
import { faro, until } from "../e2e/helpers.js";

let nats: ManagedServer;
let redis: ManagedServer;
const dirs: string[] = [];

beforeAll(async () => {
  [nats, redis] = await Promise.all([startNats(), startRedis()]);
});
afterAll(async () => {
  await Promise.all([nats?.stop(), redis?.stop()]);
});
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

function tmp(): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), "faro-replay-test-"));
  dirs.push(d);
  return d;
}

type Json = Record<string, unknown>;

/**
 * Story files by path relative to `dir`, reduced to what replay reproduces (docs/story-format.md, "What replay reproduces"):
 * without the write-time metadata (stats.throughStreamSeq, stats.duplicates) and without what depends on the order in
 * which the live correlator's concurrent handlers ran: timestamps taken from its cluster clock (and the timeline order
 * and seq they decide), pod deletedAt, replacement pairing, and the incident context harvested at detection time
 * (including the log tail: which log batches were handled before the harvest).
 */
function comparable(dir: string): Map<string, Json> {
  const out = new Map<string, Json>();
  for (const ns of fs.readdirSync(dir)) {
    for (const name of fs.readdirSync(path.join(dir, ns)).filter((n) => n.endsWith(".json"))) {
      const f = JSON.parse(fs.readFileSync(path.join(dir, ns, name), "utf8")) as Json & { stats: Json; timeline: Json[]; pods: Json[]; incidents: Json[] };
      delete f.stats["throughStreamSeq"];
      delete f.stats["duplicates"];
      delete f.stats["entries"];
      const timeline = f.timeline
        .filter((e) => !(e["kind"] === "lifecycle" && (e["data"] as Json)["what"] === "replaced"))
        .map(({ timestamp: _t, seq: _s, ...rest }) => JSON.stringify(rest))
        .sort();
      const pods = f.pods.map(({ deletedAt: _d, replacesPodUid: _r, ...rest }) => rest);
      delete f["openedAt"]; // the window's first entry's time, floored to the cluster clock like the others
      const incidents = f.incidents.map(({ detectedAt: _d, events: _e, recentChanges: _c, manifests: _m, logTail: _l, previousLogSource: _p, ...rest }) => rest);
      out.set(`${ns}/${name}`, { ...f, timeline, pods, incidents });
    }
  }
  return out;
}

const env = () => ({ FARO_NATS_URL: nats.url, FARO_REDIS_URL: redis.url, NO_COLOR: "1" });

async function demo(dir: string, during?: (out: () => string) => Promise<void>): Promise<{ code: number | null; cluster: string; out: string }> {
  const child = faro(["demo", "--dir", dir, "--speed", "40"], env());
  const cluster = await until("the demo's cluster token", () => /cluster (demo-[0-9a-f]+)/.exec(child.output())?.[1], 60_000);
  await during?.(child.output);
  const code = await child.exited;
  return { code, cluster, out: child.output() };
}

async function replay(args: string[]): Promise<{ code: number | null; out: string }> {
  const child = faro(["replay", ...args], env());
  const code = await child.exited;
  return { code, out: child.output() };
}

describe("faro replay", () => {
  it("rebuilds the demo's story files and the correlator state after Redis is flushed and the files deleted", { timeout: 180_000 }, async () => {
    const dir = tmp();
    const run = await demo(dir);
    expect(run.code, run.out).toBe(0);
    const live = comparable(dir);
    expect(live.size).toBeGreaterThanOrEqual(5);

    const client = new Redis(redis.url);
    try {
      await client.flushall();
      fs.rmSync(dir, { recursive: true, force: true });
      const r = await replay(["--from", "start", "--cluster", run.cluster, "--dir", dir]);
      expect(r.code, r.out).toBe(0);
      expect(r.out).toMatch(/replayed \d+ FARO_CLEAN message/);
      const replayed = comparable(dir);
      expect([...replayed.keys()].sort()).toEqual([...live.keys()].sort());
      for (const [file, story] of live) {
        const got = replayed.get(file) ?? {};
        const differing = Object.keys(story).filter((k) => JSON.stringify(got[k]) !== JSON.stringify(story[k]));
        if (differing.includes("incidents")) {
          const a = story["incidents"] as Json[];
          const b = (got["incidents"] ?? []) as Json[];
          for (const [i, inc] of a.entries()) differing.push(...Object.keys(inc).filter((k) => JSON.stringify(inc[k]) !== JSON.stringify(b[i]?.[k])).map((k) => `incidents[${i}].${k}: ${JSON.stringify(inc[k]).slice(0, 300)} vs ${JSON.stringify(b[i]?.[k]).slice(0, 300)}`));
        }
        expect(got, `${file} differs in ${differing.join(", ")}`).toEqual(story);
      }
      // The correlator's state is back under the pipeline's prefix (stories, ownership, clock).
      expect((await client.keys(`faro:${run.cluster}:*`)).length).toBeGreaterThan(10);

      // Replaying again into the same prefix or directory is refused (exit 4) and changes nothing.
      const again = await replay(["--from", "start", "--cluster", run.cluster, "--dir", tmp()]);
      expect(again.code, again.out).toBe(4);
      expect(again.out).toContain("already holds correlator state");
    } finally {
      client.disconnect();
    }
  });

  it("recovers a pipeline whose Redis was killed mid-run: replay into a fresh prefix loses no story", { timeout: 180_000 }, async () => {
    const dir = tmp();
    const client = new Redis(redis.url, { lazyConnect: true, maxRetriesPerRequest: 1 });
    client.on("error", () => undefined);
    const run = await demo(dir, async () => {
      // Kill Redis once the correlator holds state (the first stories are open), bring it back empty.
      await client.connect();
      await until("correlator state in Redis", async () => (await client.keys("faro:demo-*:*")).length > 20, 60_000);
      client.disconnect();
      await redis.kill();
      await new Promise((r) => setTimeout(r, 1500));
      await redis.restart();
    });
    // The demo may or may not finish cleanly with its state lost; the streams hold everything either way.
    expect([0, 1], run.out).toContain(run.code);
    const rebuilt = tmp();
    const r = await replay(["--from", "start", "--cluster", run.cluster, "--dir", rebuilt, "--redis-prefix", "faro-replay:"]);
    expect(r.code, r.out).toBe(0);
    const stories = readStoryFiles(rebuilt);
    for (const s of stories) expect(s.errors, s.path).toEqual([]);
    const shop = new Set(stories.filter((s) => s.story.namespace === "shop").map((s) => s.story.workload.name));
    expect([...shop]).toEqual(expect.arrayContaining(["cart", "frontend", "inventory", "payments", "recommender"]));
    expect([...incidentsByReason(stories).keys()]).toEqual(expect.arrayContaining(["CrashLoopBackOff", "OOMKilled", "ImagePullBackOff"]));
    // Every story the damaged pipeline wrote is among the rebuilt ones.
    const liveStories = new Set(readStoryFiles(dir).map((s) => s.story.storyId));
    const rebuiltStories = new Set(stories.map((s) => s.story.storyId));
    for (const id of liveStories) expect(rebuiltStories.has(id), id).toBe(true);
  });
  it("says so in one line and exits 3 when the stream no longer holds the start", { timeout: 30_000 }, async () => {
    // A cluster with no messages has nothing to replay: exit 0.
    const none = await replay(["--from", "start", "--cluster", "nowhere", "--dir", tmp(), "--redis-prefix", "faro-replay-none:"]);
    expect(none.code, none.out).toBe(0);
    expect(none.out).toContain("replayed 0 FARO_CLEAN message(s)");
    // Retention removed the front of the stream (as max_age would): replay from the start refuses, naming what is left.
    const bus = await connectBus({ servers: nats.url, name: "replay-test" });
    try {
      await bus.jsm.streams.purge(FARO_CLEAN.name, { keep: 10 });
    } finally {
      await bus.close();
    }
    const gone = await replay(["--from", "start", "--cluster", "nowhere", "--dir", tmp(), "--redis-prefix", "faro-replay-gone:"]);
    expect(gone.code, gone.out).toBe(3);
    expect(gone.out).toMatch(/FARO_CLEAN no longer holds its start: messages 1\.\.\d+ were removed by retention/);
    const old = await replay(["--from", "2000-01-01T00:00:00Z", "--cluster", "nowhere", "--dir", tmp(), "--redis-prefix", "faro-replay-old:"]);
    expect(old.code, old.out).toBe(3);
    expect(old.out).toContain("FARO_CLEAN no longer holds 2000-01-01T00:00:00.000Z");
  });
});
