// The suite's global setup (test/global-setup.ts) on a small vitest run of its own: a test that leaves
// `sleep 60` (or a nats-server) running fails the run, which names the process and kills it; a clean run passes.
import { spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { findBinary } from "@faro/test-harness";

const root = path.resolve(import.meta.dirname, "../..");
const VITEST = path.join(root, "node_modules", "vitest", "vitest.mjs");
const SETUP = path.join(root, "test", "global-setup.ts");
const dirs: string[] = [];
const leakedPids: number[] = [];
const NATS = findBinary("nats-server") !== undefined;

afterAll(() => {
  for (const pid of leakedPids) {
    try {
      process.kill(pid, "SIGKILL"); // only if the teardown under test failed to
    } catch {
      // gone
    }
  }
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    const stat = fs.existsSync("/proc") ? fs.readFileSync(`/proc/${pid}/stat`, "utf8") : "";
    return !/^[ZX]/.test(stat.slice(stat.lastIndexOf(")") + 2));
  } catch {
    return false;
  }
}

/** Runs vitest on one test file with the suite's global setup, in its own process group. */
async function runVitest(testBody: string): Promise<{ code: number | null; output: string }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "faro-leak-run-"));
  dirs.push(dir);
  fs.symlinkSync(path.join(root, "node_modules"), path.join(dir, "node_modules"));
  fs.writeFileSync(path.join(dir, "package.json"), JSON.stringify({ name: "leak-run", type: "module" }));
  fs.writeFileSync(
    path.join(dir, "vitest.config.mjs"),
    `export default { test: { include: ["run.test.ts"], globalSetup: [${JSON.stringify(SETUP)}], pool: "forks", maxWorkers: 1, reporters: ["default"] } };\n`,
  );
  fs.writeFileSync(path.join(dir, "run.test.ts"), testBody);
  const child = spawn(process.execPath, [VITEST, "run", "--root", dir, "--config", path.join(dir, "vitest.config.mjs")], {
    cwd: dir,
    env: { ...process.env, NO_COLOR: "1", FORCE_COLOR: "0" },
    stdio: ["ignore", "pipe", "pipe"],
    detached: true, // its own process group: the teardown's process-group rule sees only this run
  });
  let output = "";
  child.stdout.on("data", (d) => (output += d));
  child.stderr.on("data", (d) => (output += d));
  const code = await new Promise<number | null>((resolve) => child.on("close", (c) => resolve(c)));
  return { code, output };
}

describe.skipIf(process.platform === "win32")("no process outlives the test suite", () => {
  it("fails the run, naming a leaked `sleep 60` (pid and command line), and kills it", async () => {
    const { code, output } = await runVitest(
      `import { spawn } from "node:child_process";
import { it } from "vitest";
it("leaks a process", () => {
  const child = spawn("sleep", ["60"], { stdio: "ignore" });
  console.log("LEAKED_PID=" + child.pid);
});
`,
    );
    const pid = Number(/LEAKED_PID=(\d+)/.exec(output)?.[1]);
    expect(pid, output).toBeGreaterThan(0);
    leakedPids.push(pid);
    expect(code, output).toBe(1);
    expect(output).toContain("process(es) started by the tests were still running after the last test");
    expect(output).toMatch(new RegExp(`pid ${pid} \\(\\w+, parent \\d+\\): sleep 60`));
    expect(alive(pid)).toBe(false);
  });

  it.skipIf(!NATS)("passes a run that stops what it starts, servers from the harness included", async () => {
    const { code, output } = await runVitest(
      `import { spawn } from "node:child_process";
import { once } from "node:events";
import { it, expect } from "vitest";
import { startNats } from "@faro/test-harness";
it("stops its processes", async () => {
  const child = spawn("sleep", ["60"], { stdio: "ignore" });
  child.kill();
  await once(child, "exit");
  const nats = await startNats();
  await nats.stop();
  expect(nats.running()).toBe(false);
});
`,
    );
    expect(output).not.toContain("still running after the last test");
    expect(code, output).toBe(0);
  });

  it.skipIf(!NATS)("finds a harness server nobody stopped, even after its worker exited", async () => {
    const { code, output } = await runVitest(
      `import { it } from "vitest";
import { startNats } from "@faro/test-harness";
it("forgets to stop nats", async () => {
  const nats = await startNats();
  console.log("NATS_PORT=" + nats.port);
});
`,
    );
    expect(code, output).toBe(1);
    expect(output).toMatch(/pid \d+ \(\w+, parent \d+\): \S*nats-server -a 127\.0\.0\.1 -p \d+ -js/);
    for (const m of output.matchAll(/pid (\d+) \(/g)) expect(alive(Number(m[1]))).toBe(false);
  });
});
