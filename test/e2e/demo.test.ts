// `faro demo` as a user runs it (child process, real NATS and Redis): exits 0 and leaves schema-valid story
// files holding the demo's CrashLoopBackOff, OOMKilled and ImagePullBackOff incidents with their log tails.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readStoryFiles, incidentsByReason } from "@faro/cli";
import { Redis } from "ioredis";
import { startNats, startRedis, type ManagedServer } from "@faro/test-harness";
import { faro } from "./helpers.js";

let nats: ManagedServer;
let redis: ManagedServer;
let dir: string;

beforeAll(async () => {
  [nats, redis] = await Promise.all([startNats(), startRedis()]);
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "faro-demo-test-"));
});

afterAll(async () => {
  await Promise.all([nats?.stop(), redis?.stop()]);
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

describe("faro demo", () => {
  it("exits 0 and writes valid story files with the three incidents and their log tails", { timeout: 150_000 }, async () => {
    const child = faro(["demo", "--dir", dir, "--speed", "20"], { FARO_NATS_URL: nats.url, FARO_REDIS_URL: redis.url, NO_COLOR: "1" });
    const code = await child.exited;
    const out = child.output();
    expect(code, out).toBe(0);
    expect(out).toMatch(/stories written: \d+/);
    expect(out).toMatch(/incidents: .*CrashLoopBackOff/);

    const stories = readStoryFiles(dir);
    expect(stories.length).toBeGreaterThanOrEqual(5);
    for (const s of stories) expect(s.errors, s.path).toEqual([]);
    const shop = stories.filter((s) => s.story.namespace === "shop");
    const byName = new Map(shop.map((s) => [s.story.workload.name, s.story]));
    expect([...byName.keys()].sort()).toEqual(expect.arrayContaining(["cart", "frontend", "inventory", "payments", "recommender"]));
    expect([...incidentsByReason(stories).keys()]).toEqual(expect.arrayContaining(["CrashLoopBackOff", "OOMKilled", "ImagePullBackOff"]));

    const incident = (workload: string, reason: string) => byName.get(workload)?.incidents.find((i) => i.reason === reason);
    const crash = incident("payments", "CrashLoopBackOff");
    expect(crash?.exitCode).toBe(1);
    expect(crash?.logTail.at(-1)?.line).toBe("panic: runtime error: invalid memory address or nil pointer dereference");
    expect(crash?.logTail.some((l) => /processing payment|charging card/.test(l.line))).toBe(true);
    const oom = incident("recommender", "OOMKilled");
    expect(oom?.exitCode).toBe(137);
    expect(oom?.logTail.at(-1)?.line).toBe("allocating 2GiB for embeddings");
    expect(oom?.logTail.some((l) => l.line.startsWith("loading model shard"))).toBe(true);
    // The inventory container never started: its incident has no log lines, but it names the image.
    const pull = incident("inventory", "ImagePullBackOff");
    expect(pull).toBeDefined();
    expect(JSON.stringify(pull)).toContain("shop/inventory:does-not-exist");
    // The cart pod deleted at 90s was replaced: both generations are in the story.
    expect(byName.get("cart")!.pods.length).toBeGreaterThanOrEqual(3);

    // The run leaves nothing on the shared Redis: its keys all carry its token and are removed at the end.
    const token = /cluster (demo-[0-9a-f]{6})/.exec(out)?.[1];
    expect(token, out).toBeDefined();
    const client = new Redis(redis.url);
    try {
      const left = await client.keys(`*${token}*`);
      expect(left).toEqual([]);
    } finally {
      client.disconnect();
    }
  });
});
