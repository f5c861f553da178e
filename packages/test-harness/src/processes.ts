// Processes a test run started and left running. The run's global setup (test/global-setup.ts) calls
// `beginTestRun()`: it creates a per-run directory and names it in FARO_TEST_RUN_DIR, which every process
// the suite starts inherits (vitest's forked workers, and their children unless a test builds a fresh env).
// The harness registers each server it spawns in that directory (`registerProcess`). After the last test,
// `run.end()` finds what is still alive and belongs to the run, waits a moment for processes already
// stopping, kills the rest (SIGTERM, then SIGKILL) and returns them, so the teardown can fail the run.
//
// A process belongs to the run when any of these holds:
//   descendant   it is in the live process tree under the vitest main process (vitest's own workers
//                and the helpers running before the setup are not counted themselves);
//   registered   the harness registered it in the run directory (same pid and start time);
//   marked       its environment names this run's directory (Linux: /proc/<pid>/environ);
//   orphaned     it was re-parented to init, is in the vitest process group and started after vitest.
import { execFileSync, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";

export const RUN_DIR_ENV = "FARO_TEST_RUN_DIR";

export interface ProcessInfo {
  pid: number;
  ppid: number;
  /** Process group. */
  pgid: number;
  /** Kernel state letter (R, S, D, Z, …); "Z" is a zombie, already dead. */
  state: string;
  /** Start time in clock ticks since boot (Linux), undefined where unknown. */
  start: number | undefined;
  cmdline: string;
}

export type LeakReason = "descendant" | "registered" | "marked" | "orphaned";

export interface LeakedProcess {
  pid: number;
  ppid: number;
  cmdline: string;
  why: LeakReason;
}

const HAS_PROC = fs.existsSync("/proc/self/stat");

function readProc(pid: number): ProcessInfo | undefined {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
    // "pid (comm) state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime stime cutime
    //  cstime priority nice threads itrealvalue starttime …": comm may contain spaces and parentheses.
    const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    const comm = stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")"));
    let cmdline = "";
    try {
      cmdline = fs.readFileSync(`/proc/${pid}/cmdline`, "utf8").replace(/\0+$/, "").split("\0").join(" ");
    } catch {
      // exited meanwhile
    }
    return { pid, ppid: Number(f[1]), pgid: Number(f[2]), state: f[0] ?? "?", start: Number(f[19]), cmdline: cmdline || `[${comm}]` };
  } catch {
    return undefined;
  }
}

/** Every process visible to this user: /proc on Linux, `ps` elsewhere. */
export function listProcesses(): ProcessInfo[] {
  if (HAS_PROC) {
    const out: ProcessInfo[] = [];
    for (const name of fs.readdirSync("/proc")) {
      if (!/^\d+$/.test(name)) continue;
      const p = readProc(Number(name));
      if (p) out.push(p);
    }
    return out;
  }
  const text = execFileSync("ps", ["-axo", "pid=,ppid=,pgid=,stat=,args="], { encoding: "utf8" });
  return text
    .split("\n")
    .map((l) => /^\s*(\d+)\s+(\d+)\s+(\d+)\s+(\S+)\s+(.*)$/.exec(l))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => ({ pid: Number(m[1]), ppid: Number(m[2]), pgid: Number(m[3]), state: m[4]!.slice(0, 1), start: undefined, cmdline: m[5]! }));
}

/** The process environment as the kernel holds it, or undefined where it cannot be read. */
function environOf(pid: number): string[] | undefined {
  try {
    return fs.readFileSync(`/proc/${pid}/environ`, "utf8").split("\0");
  } catch {
    return undefined;
  }
}

/**
 * The environment entry that marks a process as the run's: spread it into the `env` of a child spawned with a
 * fresh environment (`{ PATH, HOME, ...testRunEnv() }`) so it is found even after its parent exits.
 */
export function testRunEnv(): Record<string, string> {
  const dir = process.env[RUN_DIR_ENV];
  return dir ? { [RUN_DIR_ENV]: dir } : {};
}

interface Registration {
  pid: number;
  start: number | undefined;
  cmdline: string;
}

/**
 * Records a process the suite started in the run directory (FARO_TEST_RUN_DIR), so the end of the run can
 * find it even if its parent exited and it was re-parented. A no-op outside a run.
 */
export function registerProcess(child: ChildProcess | number | undefined, runDir = process.env[RUN_DIR_ENV]): void {
  const pid = typeof child === "number" ? child : child?.pid;
  if (!runDir || pid === undefined) return;
  const info = HAS_PROC ? readProc(pid) : undefined;
  const reg: Registration = { pid, start: info?.start, cmdline: info?.cmdline ?? (typeof child === "object" ? child.spawnargs.join(" ") : "") };
  try {
    fs.mkdirSync(path.join(runDir, "pids"), { recursive: true });
    fs.writeFileSync(path.join(runDir, "pids", String(pid)), JSON.stringify(reg));
  } catch {
    // the run directory is gone (the run ended): nothing to record into
  }
}

function registrations(runDir: string): Registration[] {
  const dir = path.join(runDir, "pids");
  if (!fs.existsSync(dir)) return [];
  const out: Registration[] = [];
  for (const f of fs.readdirSync(dir)) {
    try {
      out.push(JSON.parse(fs.readFileSync(path.join(dir, f), "utf8")) as Registration);
    } catch {
      // half-written: its process was just spawned, and is found as a descendant or by its environment
    }
  }
  return out;
}

/** vitest's own pool workers (child_process forks of the main process running test files). */
const VITEST_WORKER = /[\\/]vitest[\\/]dist[\\/]workers[\\/][\w-]+\.js\b/;

export interface FindOptions {
  /** The process whose descendants belong to the run (the vitest main process). */
  rootPid: number;
  /** The run directory: registered pids and the FARO_TEST_RUN_DIR marker. */
  runDir?: string;
  /** Pids never reported (helpers that ran before the run started). */
  ignorePids?: Iterable<number>;
  /** Also report processes re-parented to init from the root's process group (off by default). */
  processGroup?: boolean;
  /** The process table to look at (tests); read from the system by default. */
  table?: ProcessInfo[];
}

/** Processes of the run still alive, each with the reason it belongs to the run; the root itself excluded. */
export function findLeakedProcesses(opts: FindOptions): LeakedProcess[] {
  const table = opts.table ?? listProcesses();
  const live = table.filter((p) => p.state !== "Z" && p.state !== "X");
  const byPid = new Map(live.map((p) => [p.pid, p]));
  const ignore = new Set(opts.ignorePids ?? []);
  ignore.add(opts.rootPid);
  if (opts.table === undefined) ignore.add(process.pid);
  const root = byPid.get(opts.rootPid);
  const isWorker = (p: ProcessInfo) => p.ppid === opts.rootPid && VITEST_WORKER.test(p.cmdline);
  const found = new Map<number, LeakedProcess>();
  const add = (p: ProcessInfo, why: LeakReason) => {
    if (!ignore.has(p.pid) && !isWorker(p) && !found.has(p.pid)) found.set(p.pid, { pid: p.pid, ppid: p.ppid, cmdline: p.cmdline, why });
  };

  const children = new Map<number, ProcessInfo[]>();
  for (const p of live) {
    if (!children.has(p.ppid)) children.set(p.ppid, []);
    children.get(p.ppid)!.push(p);
  }
  const queue = [...(children.get(opts.rootPid) ?? [])];
  const seen = new Set<number>();
  while (queue.length > 0) {
    const p = queue.shift()!;
    if (seen.has(p.pid)) continue;
    seen.add(p.pid);
    add(p, "descendant");
    queue.push(...(children.get(p.pid) ?? []));
  }

  if (opts.runDir) {
    for (const r of registrations(opts.runDir)) {
      const p = byPid.get(r.pid);
      if (p && (r.start === undefined || p.start === undefined || r.start === p.start)) add(p, "registered");
    }
    if (opts.table === undefined && HAS_PROC) {
      const marker = `${RUN_DIR_ENV}=${opts.runDir}`;
      for (const p of live) if (!found.has(p.pid) && !ignore.has(p.pid) && environOf(p.pid)?.includes(marker)) add(p, "marked");
    }
  }

  if (opts.processGroup && root) {
    for (const p of live) {
      const reparented = p.ppid === 1 && p.pid !== 1;
      const startedAfter = root.start === undefined || p.start === undefined || p.start >= root.start;
      if (reparented && p.pgid === root.pgid && startedAfter) add(p, "orphaned");
    }
  }
  return [...found.values()].sort((a, b) => a.pid - b.pid);
}

function alive(pid: number): boolean {
  if (HAS_PROC) {
    const p = readProc(pid);
    return p !== undefined && p.state !== "Z" && p.state !== "X";
  }
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** SIGTERM, then SIGKILL after `graceMs` for those still alive; resolves when all are gone (or after a bound). */
export async function killProcesses(pids: number[], graceMs = 2000): Promise<void> {
  const signal = (pid: number, sig: NodeJS.Signals) => {
    try {
      process.kill(pid, sig);
    } catch {
      // already gone
    }
  };
  for (const pid of pids) signal(pid, "SIGTERM");
  const deadline = Date.now() + graceMs;
  while (pids.some(alive) && Date.now() < deadline) await sleep(50);
  for (const pid of pids.filter(alive)) signal(pid, "SIGKILL");
  const hard = Date.now() + 2000;
  while (pids.some(alive) && Date.now() < hard) await sleep(20);
}

export interface ReapOptions extends FindOptions {
  /** How long processes found have to exit by themselves (a stop still in progress) before they count. */
  settleMs?: number;
  /** SIGTERM → SIGKILL grace. */
  graceMs?: number;
}

/** Finds the run's processes still alive after `settleMs`, kills them, and returns them (as found). */
export async function reapLeakedProcesses(opts: ReapOptions): Promise<LeakedProcess[]> {
  let leaked = findLeakedProcesses(opts);
  const deadline = Date.now() + (opts.settleMs ?? 3000);
  while (leaked.length > 0 && Date.now() < deadline && opts.table === undefined) {
    await sleep(100);
    const still = new Set(findLeakedProcesses(opts).map((p) => p.pid));
    leaked = leaked.filter((p) => still.has(p.pid));
  }
  if (opts.table === undefined) {
    await killProcesses(leaked.map((p) => p.pid), opts.graceMs);
    // Killing a parent may leave its own children behind (re-parented): take them too.
    const late = findLeakedProcesses(opts).filter((p) => !leaked.some((l) => l.pid === p.pid));
    if (late.length > 0) {
      await killProcesses(late.map((p) => p.pid), opts.graceMs);
      leaked = [...leaked, ...late];
    }
  }
  return leaked;
}

export function describeLeaks(leaked: LeakedProcess[]): string {
  return leaked.map((p) => `  pid ${p.pid} (${p.why}, parent ${p.ppid}): ${p.cmdline}`).join("\n");
}

export interface TestRun {
  readonly runDir: string;
  readonly rootPid: number;
  /** Kills what the run left alive and returns it; removes the run directory. */
  end(opts?: { settleMs?: number; graceMs?: number }): Promise<LeakedProcess[]>;
}

/**
 * Starts watching a test run from the current (vitest main) process: creates the run directory, sets
 * FARO_TEST_RUN_DIR for everything started from now on, and remembers the helpers already running.
 */
export function beginTestRun(): TestRun {
  const rootPid = process.pid;
  const runDir = fs.mkdtempSync(path.join(os.tmpdir(), "faro-test-run-"));
  fs.mkdirSync(path.join(runDir, "pids"));
  const before = findLeakedProcesses({ rootPid }).map((p) => p.pid);
  process.env[RUN_DIR_ENV] = runDir;
  return {
    runDir,
    rootPid,
    async end(o = {}) {
      try {
        return await reapLeakedProcesses({ rootPid, runDir, ignorePids: before, processGroup: true, ...o });
      } finally {
        fs.rmSync(runDir, { recursive: true, force: true });
        if (process.env[RUN_DIR_ENV] === runDir) delete process.env[RUN_DIR_ENV];
      }
    },
  };
}
