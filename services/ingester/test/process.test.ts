// `faro run ingester` as the container runs it: ready, accepts an alert, drains on SIGTERM and exits 0; a token file
// that cannot be read exits 2 naming the field; the token never appears in its output.
import { spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startNats, until, type ManagedServer } from "@faro/test-harness";

const ROOT = path.resolve(import.meta.dirname, "../../..");
const CLI = path.join(ROOT, "apps/cli/src/main.ts");
const TOKEN = "pr0cess-t0ken-never-logged";

let nats: ManagedServer;
let dir: string;

beforeAll(async () => {
  nats = await startNats();
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "faro-ingester-proc-"));
  fs.writeFileSync(path.join(dir, "token"), TOKEN);
});

afterAll(async () => {
  await nats?.stop();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

function faro(args: string[], env: Record<string, string>) {
  const proc = spawn(process.execPath, ["--import", "tsx", CLI, ...args], { cwd: ROOT, env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  proc.stdout.on("data", (d: Buffer) => (out += d.toString()));
  proc.stderr.on("data", (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((resolve) => proc.on("exit", (code) => resolve(code)));
  return { proc, output: () => out, exited };
}

describe("faro run ingester", () => {
  it("serves, drains on SIGTERM with exit 0, and never logs the token", { timeout: 60_000 }, async () => {
    const child = faro(["run", "ingester"], {
      FARO_NATS_URL: nats.url,
      FARO_CLUSTER: "proc",
      FARO_HTTP_PORT: "0",
      FARO_LISTEN_HOST: "127.0.0.1",
      FARO_LISTEN_PORT: "0",
      FARO_AUTH_TOKEN_FILE: path.join(dir, "token"),
      FARO_LOG_PRETTY: "false",
    });
    try {
      const port = await until(() => /"msg":"ingest endpoint listening"[^\n]*"port":(\d+)|"port":(\d+)[^\n]*"msg":"ingest endpoint listening"/.exec(child.output())?.slice(1).find(Boolean), "the ingest endpoint", 30_000);
      await until(() => child.output().includes('"lifecycle: ready"') || child.output().includes("lifecycle: ready"), "ready", 30_000);
      const alert = { output: "Notice test", priority: "Notice", rule: "Process test", time: "2026-12-08T00:00:00Z", hostname: "node-9" };
      const res = await fetch(`http://127.0.0.1:${port}/v1/falco`, { method: "POST", headers: { authorization: `Bearer ${TOKEN}` }, body: JSON.stringify(alert) });
      expect(res.status).toBe(202);
      const wrong = await fetch(`http://127.0.0.1:${port}/v1/falco`, { method: "POST", headers: { authorization: "Bearer nope" }, body: JSON.stringify(alert) });
      expect(wrong.status).toBe(401);
      child.proc.kill("SIGTERM");
      expect(await child.exited).toBe(0);
      expect(child.output()).toMatch(/lifecycle: stopped/);
      expect(child.output()).not.toContain(TOKEN);
    } finally {
      if (child.proc.exitCode === null) child.proc.kill("SIGKILL");
    }
  });

  it("exits 2 naming auth.tokenFile when the token file cannot be read", { timeout: 30_000 }, async () => {
    const child = faro(["run", "ingester"], { FARO_NATS_URL: nats.url, FARO_AUTH_TOKEN_FILE: path.join(dir, "missing") });
    expect(await child.exited).toBe(2);
    expect(child.output()).toMatch(/auth\.tokenFile: cannot read the token file: ENOENT/);
  });
});
