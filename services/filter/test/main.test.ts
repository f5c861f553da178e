// The filter as a process (`faro run filter`, the container entrypoint): an invalid rule exits 2 naming it; a valid config starts, serves the contract, and SIGTERM exits 0.
import { spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { checkServiceContract } from "@faro/observability";
import { startNats, type ManagedServer } from "@faro/test-harness";
import { until } from "./helpers.js";

const ROOT = path.resolve(import.meta.dirname, "../../..");
const CLI = path.join(ROOT, "apps/cli/src/main.ts");
const TSX = path.join(ROOT, "node_modules/.bin/tsx");

function run(args: string[], env: Record<string, string>) {
  const child = spawn(TSX, [CLI, "run", "filter", ...args], { cwd: ROOT, env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "", ...env }, stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (b: Buffer) => (stdout += b.toString()));
  child.stderr.on("data", (b: Buffer) => (stderr += b.toString()));
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  return { child, exited, out: () => stdout, err: () => stderr };
}

function configFile(yaml: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "faro-filter-main-"));
  const f = path.join(dir, "filter.yaml");
  fs.writeFileSync(f, yaml);
  return f;
}

describe("faro run filter", () => {
  let nats: ManagedServer;
  beforeAll(async () => {
    nats = await startNats();
  });
  afterAll(async () => {
    await nats?.stop();
  });

  it("exits 2 naming tenant and rule when RE2 cannot compile a pattern", async () => {
    const f = configFile(`tenants: [{ name: team-x, namespaces: [shop], exclude: [{ name: no-lookbehind, log: "(?<=token=)\\\\w+" }] }]\n`);
    const p = run(["--config", f], {});
    expect(await p.exited).toBe(2);
    expect(p.err()).toMatch(/invalid configuration for filter/);
    expect(p.err()).toMatch(/team-x/);
    expect(p.err()).toMatch(/no-lookbehind/);
  });

  it("starts, follows the service contract, and exits 0 on SIGTERM", async () => {
    const p = run([], { FARO_NATS_URL: nats.url, FARO_HTTP_PORT: "0", FARO_HTTP_HOST: "127.0.0.1", FARO_LOG_LEVEL: "info", FARO_LOG_PRETTY: "false" });
    try {
      const url = await until(() => /"url":"(http:\/\/127\.0\.0\.1:\d+)"/.exec(p.out())?.[1], "the health endpoint URL", 30_000);
      await until(async () => (await fetch(`${url}/readyz`)).status === 200, "ready", 30_000);
      await checkServiceContract(url, { expectReady: true });
      p.child.kill("SIGTERM");
      expect(await p.exited).toBe(0);
    } finally {
      if (p.child.exitCode === null) p.child.kill("SIGKILL");
    }
  });
});
