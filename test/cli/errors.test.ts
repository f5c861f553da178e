// Start-up failures of `faro up` are one line naming the address or file and what to do — no stack traces,
// no service log lines (held back until every service is ready; --verbose shows them).
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startNats, startRedis, freePort, type ManagedServer } from "@faro/test-harness";
import { faro, killAll } from "./helpers.js";

let nats: ManagedServer;
let redis: ManagedServer;
let home: string;

beforeAll(async () => {
  [nats, redis] = await Promise.all([startNats(), startRedis()]);
  home = fs.mkdtempSync(path.join(os.tmpdir(), "faro-errors-home-"));
});

afterAll(async () => {
  await killAll();
  await Promise.all([nats?.stop(), redis?.stop()]);
  fs.rmSync(home, { recursive: true, force: true });
});

/** `faro up` with no kubeconfig anywhere unless given; resolves with exit code and stderr lines. */
async function up(args: string[], env: Record<string, string | undefined> = {}): Promise<{ code: number | null; lines: string[]; stdout: string }> {
  const run = faro(["up", "--no-http", "--cluster", "errors", ...args], {
    env: { FARO_NATS_URL: nats.url, FARO_REDIS_URL: redis.url, KUBECONFIG: undefined, FARO_KUBE_KUBECONFIG: undefined, HOME: home, ...env },
  });
  const { code } = await run.exited;
  return { code, lines: run.stderr().trim().split("\n"), stdout: run.stdout() };
}

/** The failure line: everything else on stderr is a "<service> ready" line of a service started before it. */
function failure(lines: string[]): string[] {
  for (const l of lines) expect(l, lines.join("\n")).not.toMatch(/^\s+at |^\{"level"|Error: /);
  return lines.filter((l) => !/^faro up: [a-z-]+ ready$/.test(l));
}

describe("faro up start-up errors", () => {
  it("are one line each: kubeconfig missing, no kubeconfig at all, Redis or NATS unreachable", async () => {
    const closed = await freePort();
    const [wrong, none, noRedis, noNats] = await Promise.all([
      up(["--kubeconfig", "/wrong"]),
      up([]),
      up(["--kubeconfig", "/wrong", "--redis", `redis://127.0.0.1:${closed}`]),
      up(["--kubeconfig", "/wrong", "--nats", `nats://127.0.0.1:${closed}`]),
    ]);
    for (const r of [wrong, none, noRedis, noNats]) {
      expect(r.code).toBe(1);
      expect(r.stdout).toBe("");
    }
    expect(failure(wrong.lines)).toEqual([
      "faro up: watcher failed to start: kubeconfig /wrong does not exist — pass --kubeconfig PATH of an existing file (or set KUBECONFIG); to try Faro without a cluster: npm run demo",
    ]);
    expect(failure(none.lines)).toEqual([expect.stringMatching(/^faro up: watcher failed to start: cannot reach the Kubernetes API at 127\.0\.0\.1:8080 \(no kubeconfig given; .*\) — pass --kubeconfig PATH/)]);
    expect(failure(noRedis.lines)).toEqual([
      expect.stringMatching(new RegExp(`^faro up: [a-z-]+ failed to start: cannot reach Redis at redis://127\\.0\\.0\\.1:${closed} — start it with: npm run services up`)),
    ]);
    expect(failure(noNats.lines)).toEqual([
      expect.stringMatching(new RegExp(`^faro up: [a-z-]+ failed to start: cannot reach NATS at nats://127\\.0\\.0\\.1:${closed} — start it with: npm run services up`)),
    ]);
  }, 60_000);
});
