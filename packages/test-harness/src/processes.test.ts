// Finding the processes a test run left alive: a deliberately leaked `sleep 60` is reported and killed.
import { spawn, spawnSync } from "node:child_process";
import { once } from "node:events";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { findLeakedProcesses, reapLeakedProcesses, registerProcess, RUN_DIR_ENV, testRunEnv, type ProcessInfo } from "./processes.js";

const LINUX = fs.existsSync("/proc/self/stat");
const dirs: string[] = [];
const pids: number[] = [];

function alive(pid: number): boolean {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
    return !/^[ZX]/.test(stat.slice(stat.lastIndexOf(")") + 2));
  } catch {
    return false;
  }
}

function runDir(): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), "faro-test-run-unit-"));
  dirs.push(d);
  return d;
}

/** Starts `sleep 60` whose parent exits at once: it is re-parented, no longer a descendant of this process. */
function orphanSleep(env: NodeJS.ProcessEnv): number {
  const r = spawnSync("sh", ["-c", "sleep 60 >/dev/null 2>&1 & echo $!"], { env, encoding: "utf8" });
  const pid = Number(r.stdout.trim());
  pids.push(pid);
  return pid;
}

afterEach(() => {
  for (const pid of pids.splice(0)) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // already gone, as it should be
    }
  }
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

describe.skipIf(!LINUX)("leaked processes (live)", () => {
  it("reports a leaked `sleep 60` child with its pid and command line, then kills it", async () => {
    const child = spawn("sleep", ["60"], { stdio: "ignore" });
    pids.push(child.pid!);
    const exited = once(child, "exit");

    const found = findLeakedProcesses({ rootPid: process.pid });
    expect(found).toContainEqual({ pid: child.pid, ppid: process.pid, cmdline: "sleep 60", why: "descendant" });

    const reaped = await reapLeakedProcesses({ rootPid: process.pid, settleMs: 100 });
    expect(reaped.map((p) => p.pid)).toContain(child.pid);
    const [, signal] = (await exited) as [number | null, NodeJS.Signals | null];
    expect(signal).toBe("SIGTERM");
    expect(findLeakedProcesses({ rootPid: process.pid }).map((p) => p.pid)).not.toContain(child.pid);
  });

  it("finds re-parented processes by the run marker in their environment and by registration", async () => {
    const dir = runDir();
    const outer = process.env[RUN_DIR_ENV];
    process.env[RUN_DIR_ENV] = dir;
    const markerEnv = testRunEnv(); // what a helper spawning with a fresh environment passes on
    if (outer === undefined) delete process.env[RUN_DIR_ENV];
    else process.env[RUN_DIR_ENV] = outer;
    expect(markerEnv).toEqual({ [RUN_DIR_ENV]: dir });
    const marked = orphanSleep({ PATH: process.env.PATH ?? "/usr/bin:/bin", ...markerEnv });
    const unmarked = orphanSleep({ PATH: process.env.PATH ?? "/usr/bin:/bin" });
    const stranger = orphanSleep({ PATH: process.env.PATH ?? "/usr/bin:/bin" });
    registerProcess(unmarked, dir);
    expect([marked, unmarked, stranger].every(alive)).toBe(true);

    const found = findLeakedProcesses({ rootPid: process.pid, runDir: dir });
    expect(found).toContainEqual(expect.objectContaining({ pid: marked, cmdline: "sleep 60", why: "marked" }));
    expect(found).toContainEqual(expect.objectContaining({ pid: unmarked, cmdline: "sleep 60", why: "registered" }));
    expect(found.map((p) => p.pid)).not.toContain(stranger); // neither marked nor registered: not ours

    const reaped = await reapLeakedProcesses({ rootPid: process.pid, runDir: dir, settleMs: 100 });
    expect(reaped.map((p) => p.pid)).toEqual(expect.arrayContaining([marked, unmarked]));
    await expect.poll(() => alive(marked) || alive(unmarked), { timeout: 5000 }).toBe(false);
    expect(alive(stranger)).toBe(true);
  });

  it("does not report a process that stops by itself while the run settles", async () => {
    const child = spawn("sleep", ["0.3"], { stdio: "ignore" });
    pids.push(child.pid!);
    expect(findLeakedProcesses({ rootPid: process.pid }).map((p) => p.pid)).toContain(child.pid);
    const reaped = await reapLeakedProcesses({ rootPid: process.pid, settleMs: 3000 });
    expect(reaped.map((p) => p.pid)).not.toContain(child.pid);
  });
});

describe("leaked processes (rules, on a given process table)", () => {
  const p = (pid: number, ppid: number, cmdline: string, extra: Partial<ProcessInfo> = {}): ProcessInfo => ({
    pid, ppid, pgid: 100, state: "S", start: 1000 + pid, cmdline, ...extra,
  });
  const WORKER = "/usr/bin/node --require /repo/node_modules/vitest/dist/workers/forks.js";

  it("walks the tree under the root; skips the root, vitest's workers (not their children), helpers and zombies", () => {
    const table = [
      p(1, 0, "init", { pgid: 1 }),
      p(100, 50, "node vitest.mjs run"),
      p(101, 100, WORKER),
      p(102, 101, "nats-server -js"),
      p(103, 102, "sh -c x"),
      p(104, 100, "esbuild --service"),
      p(105, 101, "sleep 1", { state: "Z" }),
      p(200, 50, "tee log"),
    ];
    expect(findLeakedProcesses({ rootPid: 100, table, ignorePids: [104] })).toEqual([
      { pid: 102, ppid: 101, cmdline: "nats-server -js", why: "descendant" },
      { pid: 103, ppid: 102, cmdline: "sh -c x", why: "descendant" },
    ]);
  });

  it("counts an orphan of the root's process group started after the root, when asked", () => {
    const table = [
      p(1, 0, "init", { pgid: 1 }),
      p(100, 50, "node vitest.mjs run", { start: 5000 }),
      p(300, 1, "redis-server", { start: 6000 }),
      p(301, 1, "old orphan", { start: 10 }),
      p(302, 1, "other group", { pgid: 999, start: 6000 }),
    ];
    expect(findLeakedProcesses({ rootPid: 100, table })).toEqual([]);
    expect(findLeakedProcesses({ rootPid: 100, table, processGroup: true })).toEqual([{ pid: 300, ppid: 1, cmdline: "redis-server", why: "orphaned" }]);
  });

  it("trusts a registration only for the same process (pid and start time)", () => {
    const dir = runDir();
    fs.mkdirSync(path.join(dir, "pids"));
    fs.writeFileSync(path.join(dir, "pids", "400"), JSON.stringify({ pid: 400, start: 7, cmdline: "nats-server" }));
    fs.writeFileSync(path.join(dir, "pids", "401"), JSON.stringify({ pid: 401, start: 8, cmdline: "redis-server" }));
    const table = [p(100, 50, "vitest"), p(400, 1, "nats-server", { start: 7, pgid: 5 }), p(401, 1, "reused pid", { start: 99, pgid: 5 })];
    expect(findLeakedProcesses({ rootPid: 100, table, runDir: dir })).toEqual([{ pid: 400, ppid: 1, cmdline: "nats-server", why: "registered" }]);
  });
});
