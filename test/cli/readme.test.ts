// README examples run exactly as written: every line of the README's ```sh after-demo blocks, in a directory
// where `faro demo` has just written its stories, with `faro` on PATH as `npm run demo` says to put it. Each
// must exit 0 and print data on stdout, and only data (progress and errors belong on stderr).
import { execFile } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startNats, startRedis, type ManagedServer } from "@faro/test-harness";
import { faro, killAll, ROOT } from "./helpers.js";

const run = promisify(execFile);

/** The lines of the README's fenced code blocks whose info string is `sh after-demo`. */
function afterDemoCommands(markdown: string): string[] {
  const out: string[] = [];
  const re = /^```sh after-demo\n([\s\S]*?)^```$/gm;
  for (const m of markdown.matchAll(re)) for (const line of m[1]!.split("\n")) if (line.trim() && !line.trim().startsWith("#")) out.push(line);
  return out;
}

const commands = afterDemoCommands(fs.readFileSync(path.join(ROOT, "README.md"), "utf8"));
let nats: ManagedServer;
let redis: ManagedServer;
let cwd: string;
let env: Record<string, string>;

beforeAll(async () => {
  [nats, redis] = await Promise.all([startNats(), startRedis()]);
  cwd = fs.mkdtempSync(path.join(os.tmpdir(), "faro-readme-"));
  env = { FARO_NATS_URL: nats.url, FARO_REDIS_URL: redis.url, PATH: `${path.join(ROOT, "node_modules", ".bin")}${path.delimiter}${process.env.PATH}`, NO_COLOR: "1" };
  // `npm run demo` in the checkout is `faro demo` with its default --dir ./faro-data/stories: here in `cwd`.
  const demo = faro(["demo", "--speed", "30"], { cwd, env });
  const { code } = await demo.exited;
  if (code !== 0) throw new Error(`faro demo exited ${code}:\n${demo.stderr()}`);
}, 90_000);

afterAll(async () => {
  await killAll();
  await Promise.all([nats?.stop(), redis?.stop()]);
  if (cwd) fs.rmSync(cwd, { recursive: true, force: true });
});

describe("README examples after the demo", () => {
  it("the README has some (blocks marked `sh after-demo`)", () => {
    expect(commands.length).toBeGreaterThanOrEqual(3);
  });

  it.each(commands)("%s", async (command) => {
    const { stdout, stderr } = await run("bash", ["-o", "pipefail", "-c", command], { cwd, env: { ...process.env, ...env }, timeout: 30_000 }).catch((err: Error & { stdout?: string; stderr?: string; code?: number }) => {
      throw new Error(`exit ${err.code}: ${command}\nstdout:\n${err.stdout}\nstderr:\n${err.stderr}`);
    });
    expect(stdout.trim(), `no output from: ${command}\nstderr:\n${stderr}`).not.toBe("");
    // Data only: no progress, hints or error lines on stdout.
    expect(stdout).not.toMatch(/^faro( [a-z]+)?: |following .* \(Ctrl-C to stop\)|\d+ stor(y|ies) in /m);
    if (/--json(?!.*\|)/.test(command)) for (const line of stdout.trim().split("\n")) expect(() => JSON.parse(line)).not.toThrow();
  });
});
