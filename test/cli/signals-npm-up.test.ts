// Ctrl-C as a terminal sends it, to the whole process group of `npm run faro -- up` (npm and faro both get
// it; npm forwards its own copy too): one stops every service and exits 0; a second one 200 ms later, while
// the services are still stopping, forces: 130. A healthy stop takes well under 200 ms, so the second case
// freezes nats-server first (SIGSTOP): the drain hangs as it would on a stuck bus, and the user presses again.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { setTimeout as delay } from "node:timers/promises";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { startCluster, type Cluster } from "@faro/kube-sim";
import { startNats, startRedis, type ManagedServer } from "@faro/test-harness";
import { killAll, start } from "./helpers.js";

let nats: ManagedServer;
let redis: ManagedServer;
let cluster: Cluster;
let tmp: string;
let env: Record<string, string>;

beforeAll(async () => {
  [nats, redis, cluster] = await Promise.all([startNats(), startRedis(), startCluster({ speed: 10, port: 0 })]);
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), "faro-signals-npm-"));
  cluster.writeKubeconfig(path.join(tmp, "kubeconfig"));
  env = { FARO_NATS_URL: nats.url, FARO_REDIS_URL: redis.url };
});

afterEach(killAll);

afterAll(async () => {
  await killAll();
  await Promise.all([nats?.stop(), redis?.stop(), cluster?.stop()]);
  fs.rmSync(tmp, { recursive: true, force: true });
});

describe("Ctrl-C under npm (SIGINT to the process group)", () => {
  it("npm run faro -- up: one Ctrl-C stops every service and exits 0; two (200 ms apart) exit 130", async () => {
    const args = (name: string) => ["run", "faro", "--", "up", "--kubeconfig", path.join(tmp, "kubeconfig"), "--no-http", "--cluster", name];
    const once = start("npm", args("sig-once"), { env: { ...env, FARO_DIR: path.join(tmp, "up-once") } });
    await once.waitFor(/faro up: .* running \(cluster sig-once\)/);
    once.signalGroup("SIGINT");
    expect((await once.exited).code, once.stderr()).toBe(0);
    expect(once.stderr()).toMatch(/faro up: stopping \(signal\)/);
    expect(once.stderr()).not.toMatch(/second SIGINT|ELIFECYCLE/);

    const twice = start("npm", args("sig-twice"), { env: { ...env, FARO_DIR: path.join(tmp, "up-twice") } });
    await twice.waitFor(/faro up: .* running \(cluster sig-twice\)/);
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
