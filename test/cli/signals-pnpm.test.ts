// The same Ctrl-C as signals-npm*.test.ts, under pnpm (the pinned version, through corepack as scripts/lib.sh
// runs it): SIGINT to the whole process group of `pnpm run demo --follow` and `pnpm run faro up` — one drains
// and exits 0 with the summary; a second one 200 ms later, while the drain hangs on a frozen bus, exits 130.
// Skipped, saying why, where corepack cannot run that pnpm (no network and no cached copy).
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { setTimeout as delay } from "node:timers/promises";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { startCluster, type Cluster } from "@faro/kube-sim";
import { startNats, startRedis, type ManagedServer } from "@faro/test-harness";
import { killAll, start } from "./helpers.js";

const ROOT = path.resolve(import.meta.dirname, "../..");
const PNPM = `pnpm@${(JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8")) as { packageManager: string }).packageManager.split("@")[1]}`;
const COREPACK_ENV = { COREPACK_INTEGRITY_KEYS: "0", COREPACK_ENABLE_DOWNLOAD_PROMPT: "0" };

function pnpmMissing(): string | undefined {
  try {
    execFileSync("corepack", [PNPM, "--version"], { env: { ...process.env, ...COREPACK_ENV }, stdio: "pipe", timeout: 60_000 });
    return undefined;
  } catch (err) {
    return `corepack cannot run ${PNPM} here (${(err as Error).message.split("\n")[0]})`;
  }
}
const missing = pnpmMissing();
if (missing) console.warn(`[signals-pnpm] skipping: ${missing}`);

let nats: ManagedServer;
let redis: ManagedServer;
let cluster: Cluster;
let tmp: string;
let env: Record<string, string>;

beforeAll(async () => {
  if (missing) return;
  [nats, redis, cluster] = await Promise.all([startNats(), startRedis(), startCluster({ speed: 10, port: 0 })]);
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), "faro-signals-pnpm-"));
  cluster.writeKubeconfig(path.join(tmp, "kubeconfig"));
  env = { ...COREPACK_ENV, FARO_NATS_URL: nats.url, FARO_REDIS_URL: redis.url };
});

afterEach(killAll);

afterAll(async () => {
  await killAll();
  await Promise.all([nats?.stop(), redis?.stop(), cluster?.stop()]);
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

const storyFiles = (dir: string) => (fs.existsSync(dir) ? fs.readdirSync(dir, { recursive: true }).filter((f) => String(f).endsWith(".json")) : []);

describe.skipIf(missing !== undefined)(`Ctrl-C under pnpm (${missing ? `skipped: ${missing}` : "SIGINT to the process group"})`, () => {
  it("pnpm run demo --follow: one Ctrl-C drains, writes the stories, prints the summary, exits 0", async () => {
    const dir = path.join(tmp, "demo-once");
    const run = start("corepack", [PNPM, "run", "demo", "--follow", "--speed", "20", "--dir", dir], { env });
    await run.waitFor(/faro demo: cluster demo-[0-9a-f]{6}, scenario demo/);
    await run.waitFor(/ImagePullBackOff|CrashLoopBackOff/);
    run.signalGroup("SIGINT");
    const { code } = await run.exited;
    expect(code, run.stderr()).toBe(0);
    expect(run.stdout()).toMatch(/faro demo: done in [\d.]+s \(cluster demo-[0-9a-f]{6}\)/);
    expect(storyFiles(dir).length).toBeGreaterThan(0);
    expect(run.stderr()).not.toMatch(/ELIFECYCLE|second SIGINT|at .*\.ts:\d+/);
  }, 60_000);

  it("pnpm run faro up: one Ctrl-C stops every service and exits 0; two (200 ms apart) exit 130", async () => {
    const args = (name: string) => [PNPM, "run", "faro", "up", "--kubeconfig", path.join(tmp, "kubeconfig"), "--no-http", "--cluster", name];
    const once = start("corepack", args("pn-once"), { env: { ...env, FARO_DIR: path.join(tmp, "up-once") } });
    await once.waitFor(/faro up: .* running \(cluster pn-once\)/);
    once.signalGroup("SIGINT");
    expect((await once.exited).code, once.stderr()).toBe(0);
    expect(once.stderr()).toMatch(/faro up: stopping \(signal\)/);
    expect(once.stderr()).not.toMatch(/second SIGINT|ELIFECYCLE/);

    const twice = start("corepack", args("pn-twice"), { env: { ...env, FARO_DIR: path.join(tmp, "up-twice") } });
    await twice.waitFor(/faro up: .* running \(cluster pn-twice\)/);
    await nats.pause();
    try {
      twice.signalGroup("SIGINT");
      await Promise.all([twice.waitFor(/faro up: stopping/), delay(200)]);
      expect(twice.child.exitCode, "still draining against the frozen bus").toBeNull();
      twice.signalGroup("SIGINT");
      const { code } = await twice.exited;
      expect(code, twice.stderr()).toBe(130);
      expect(twice.stderr()).toContain("second SIGINT: stopping now without draining");
    } finally {
      await nats.resume();
    }
  }, 60_000);
});
