// The production bundle (apps/cli/dist/faro.mjs, built by scripts/build.ts) runs without tsx and
// finds the data files that sit next to the sources (proto, story schema, built-in scenarios).
import { execFile } from "node:child_process";
import path from "node:path";
import { promisify } from "node:util";
import { beforeAll, describe, expect, it } from "vitest";

const run = promisify(execFile);
const root = path.resolve(import.meta.dirname, "../..");
const bundle = path.join(root, "apps", "cli", "dist", "faro.mjs");

async function faro(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [bundle, ...args], { cwd: root, timeout: 60_000, env: { ...process.env, FARO_NATS_URL: "nats://127.0.0.1:1" } });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === "number" ? e.code : -1, stdout: e.stdout ?? "", stderr: e.stderr ?? "" };
  }
}

describe("production bundle", () => {
  beforeAll(async () => {
    await run(path.join(root, "node_modules", ".bin", "tsx"), [path.join(root, "scripts", "build.ts")], { cwd: root, timeout: 120_000 });
  });

  it("prints the command list", async () => {
    const r = await faro(["--help"]);
    expect(r.code).toBe(0);
    for (const cmd of ["run", "up", "demo", "tail", "capture", "stories", "sim", "redact"]) expect(r.stdout).toMatch(new RegExp(`^\\s+${cmd}\\s`, "m"));
  });

  it("validates a service's configuration (exit 2 naming the field)", async () => {
    const r = await faro(["run", "writer", "--snapshot.interval=soon"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/snapshot\.interval/);
  });

  it("finds data files next to the sources: an unknown scenario lists the built-in ones", async () => {
    const r = await faro(["sim", "--scenario", "no-such-scenario"]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/demo/); // the error lists the built-in scenarios, read from their directory
  });
});
