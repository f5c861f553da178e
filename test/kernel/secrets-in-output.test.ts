// No configured credential appears in anything a service prints: `faro up` runs every service with NATS and
// Redis passwords (in URLs and in fields) at debug level, processes a scenario and stops; then a wrong
// password must fail with an error that names the address but not the password.
import { spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connect } from "@nats-io/transport-node";
import { startCluster, type Cluster } from "@faro/kube-sim";
import { startNats, startRedis, testRunEnv, type ManagedServer } from "@faro/test-harness";

const ROOT = path.resolve(import.meta.dirname, "../..");
const CLI = path.join(ROOT, "apps/cli/src/main.ts");
const NATS_PASSWORD = "Nats-Pw-7f3c9a-SECRET";
const REDIS_PASSWORD = "Redis-Pw-2b8e41-SECRET";

let nats: ManagedServer;
let redis: ManagedServer;
let cluster: Cluster;
let dir: string;
let kubeconfig: string;

beforeAll(async () => {
  [nats, redis, cluster] = await Promise.all([
    startNats({ config: `authorization { users: [ { user: "faro", password: "${NATS_PASSWORD}" } ] }\n` }),
    startRedis({ password: REDIS_PASSWORD }),
    startCluster({ speed: 20, scenario: "crashloop" }),
  ]);
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "faro-secrets-"));
  kubeconfig = path.join(dir, "kubeconfig");
  cluster.writeKubeconfig(kubeconfig);
});

afterAll(async () => {
  await cluster?.stop();
  await Promise.all([nats?.stop(), redis?.stop()]);
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

function faro(args: string[], env: Record<string, string>) {
  const child = spawn(process.execPath, ["--import", "tsx", CLI, ...args], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "", ...testRunEnv(), ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  let onOut: (() => void) | undefined;
  const take = (b: Buffer) => {
    out += b.toString();
    onOut?.();
  };
  child.stdout.on("data", take);
  child.stderr.on("data", take);
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  const waitFor = (re: RegExp) =>
    new Promise<void>((resolve, reject) => {
      onOut = () => re.test(out) && resolve();
      onOut();
      void exited.then(() => reject(new Error(`exited before ${re}:\n${out}`)));
    });
  return { child, exited, waitFor, output: () => out };
}

describe("credentials never appear in service output", () => {
  it("faro up at debug level with passwords in URLs and fields", { timeout: 90_000 }, async () => {
    const p = faro(["up", "--verbose", "--kubeconfig", kubeconfig, "--cluster", "secrets"], {
      FARO_NATS_URL: nats.url.replace("nats://", `nats://faro:${NATS_PASSWORD}@`),
      FARO_REDIS_URL: redis.url,
      FARO_REDIS_PASSWORD: REDIS_PASSWORD,
      FARO_LOG_LEVEL: "debug",
      FARO_LOG_PRETTY: "false",
      FARO_DIR: path.join(dir, "stories"),
    });
    const nc = await connect({ servers: nats.url, user: "faro", pass: NATS_PASSWORD });
    const sub = nc.subscribe("faro.v1.incident.*.secrets.>", { max: 1 });
    const incident = (async () => {
      for await (const m of sub) return m.subject;
      return undefined;
    })();
    await nc.flush();
    try {
      await p.waitFor(/running \(cluster secrets\)/);
      // Work flowed through every service: the crashloop scenario's incident reached the bus.
      expect(await incident).toMatch(/CrashLoopBackOff/);
      p.child.kill("SIGINT");
      expect(await p.exited).toBe(0);
    } finally {
      if (p.child.exitCode === null) p.child.kill("SIGKILL");
      await nc.close();
    }
    expect(p.output().length).toBeGreaterThan(1000);
    expect(p.output()).not.toContain(NATS_PASSWORD);
    expect(p.output()).not.toContain(REDIS_PASSWORD);
  });

  it("a wrong password fails with the address, not the password", { timeout: 60_000 }, async () => {
    const wrong = "Wrong-Pw-93d1-SECRET";
    const p = faro(["run", "correlator"], {
      FARO_NATS_URL: nats.url.replace("nats://", `nats://faro:${wrong}@`),
      FARO_REDIS_URL: redis.url,
      FARO_REDIS_PASSWORD: wrong,
      FARO_LOG_LEVEL: "debug",
      FARO_HTTP_PORT: "0",
    });
    expect(await p.exited).toBe(1);
    expect(p.output()).toMatch(/connecting to NATS at nats:\/\/faro:\*\*\*@127\.0\.0\.1:\d+ failed/);
    expect(p.output()).not.toContain(wrong);
  });
});
