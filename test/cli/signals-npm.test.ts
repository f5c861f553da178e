// Ctrl-C as a terminal sends it: SIGINT to the whole process group of `npm run demo -- --follow` (npm, the
// shell script and faro all get it; npm forwards its own copy too). One Ctrl-C drains, writes the story files,
// prints the summary and exits 0; a second one 200 ms later forces: 130. (`faro up`: signals-npm-up.test.ts.)
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { setTimeout as delay } from "node:timers/promises";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { startNats, startRedis, type ManagedServer } from "@faro/test-harness";
import { killAll, start } from "./helpers.js";

let nats: ManagedServer;
let redis: ManagedServer;
let tmp: string;
let env: Record<string, string>;

beforeAll(async () => {
  [nats, redis] = await Promise.all([startNats(), startRedis()]);
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), "faro-signals-npm-"));
  env = { FARO_NATS_URL: nats.url, FARO_REDIS_URL: redis.url };
});

afterEach(killAll);

afterAll(async () => {
  await killAll();
  await Promise.all([nats?.stop(), redis?.stop()]);
  fs.rmSync(tmp, { recursive: true, force: true });
});

const storyFiles = (dir: string) => (fs.existsSync(dir) ? fs.readdirSync(dir, { recursive: true }).filter((f) => String(f).endsWith(".json")) : []);

describe("Ctrl-C under npm (SIGINT to the process group)", () => {
  it("npm run demo -- --follow: one Ctrl-C drains, writes the stories, prints the summary, exits 0", async () => {
    const dir = path.join(tmp, "demo-once");
    const run = start("npm", ["run", "demo", "--", "--follow", "--speed", "20", "--dir", dir], { env });
    // Running (the services are ready) and something happened: an incident is on the way to a story.
    await run.waitFor(/faro demo: cluster demo-[0-9a-f]{6}, scenario demo/);
    await run.waitFor(/ImagePullBackOff|CrashLoopBackOff/);
    run.signalGroup("SIGINT");
    const { code } = await run.exited;
    expect(code, run.stderr()).toBe(0);
    expect(run.stdout()).toMatch(/faro demo: done in [\d.]+s \(cluster demo-[0-9a-f]{6}\)/);
    expect(run.stdout()).toMatch(/stories written: [1-9]\d*/);
    expect(storyFiles(dir).length).toBeGreaterThan(0);
    expect(run.stderr()).not.toMatch(/ELIFECYCLE|second SIGINT|at .*\.ts:\d+/);
  }, 60_000);

  it("npm run demo -- --follow: a second Ctrl-C 200 ms later stops at once with exit 130", async () => {
    const run = start("npm", ["run", "demo", "--", "--follow", "--speed", "20", "--dir", path.join(tmp, "demo-twice")], { env });
    await run.waitFor(/faro demo: cluster demo-[0-9a-f]{6}, scenario demo/);
    run.signalGroup("SIGINT");
    await Promise.all([run.waitFor(/stopping the sources|draining/), delay(200)]);
    run.signalGroup("SIGINT");
    const { code } = await run.exited;
    expect(code, run.stderr()).toBe(130);
    expect(run.stderr()).toContain("second SIGINT: stopping now without draining");
    expect(run.stdout()).not.toContain("faro demo: done");
  }, 60_000);
});
