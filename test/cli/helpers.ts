// Running `faro` (directly, or under npm) as a terminal would: in its own process group, output collected,
// waiting on what it prints instead of sleeping, and the whole group killed when a test is done.
import { spawn, type ChildProcess } from "node:child_process";
import path from "node:path";

export const ROOT = path.resolve(import.meta.dirname, "../..");
export const FARO_BIN = path.join(ROOT, "apps/cli/bin/faro.js");

export interface Run {
  child: ChildProcess;
  /** Process group id (= the leader's pid). */
  pgid: number;
  stdout(): string;
  stderr(): string;
  /** Resolves once stdout+stderr match `re` (already or later); rejects on exit or after `timeoutMs`. */
  waitFor(re: RegExp, timeoutMs?: number): Promise<void>;
  /** Sends `signal` to the whole process group, as a terminal's Ctrl-C does. */
  signalGroup(signal: NodeJS.Signals): void;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

const running = new Set<Run>();

/** Starts `command args` in its own process group (detached), cwd the repository unless given. */
export function start(command: string, args: string[], o: { env?: Record<string, string | undefined>; cwd?: string } = {}): Run {
  const child = spawn(command, args, { cwd: o.cwd ?? ROOT, env: { ...process.env, NO_COLOR: "1", ...o.env }, stdio: ["ignore", "pipe", "pipe"], detached: true });
  let out = "";
  let err = "";
  const waiters = new Set<() => void>();
  const poke = () => {
    for (const w of [...waiters]) w();
  };
  child.stdout!.on("data", (d: Buffer) => {
    out += d.toString();
    poke();
  });
  child.stderr!.on("data", (d: Buffer) => {
    err += d.toString();
    poke();
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on("close", (code, signal) => {
      running.delete(run);
      poke();
      resolve({ code, signal });
    }),
  );
  let done = false;
  void exited.then(() => (done = true));
  const run: Run = {
    child,
    pgid: child.pid!,
    stdout: () => out,
    stderr: () => err,
    exited,
    signalGroup(signal) {
      try {
        process.kill(-child.pid!, signal);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== "ESRCH") throw e;
      }
    },
    waitFor(re, timeoutMs = 45_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          if (re.test(out + err)) {
            cleanup();
            resolve();
          } else if (done) {
            cleanup();
            reject(new Error(`exited before ${re}; stdout:\n${out}\nstderr:\n${err}`));
          }
        };
        const timer = setTimeout(() => {
          cleanup();
          reject(new Error(`no ${re} within ${timeoutMs} ms; stdout:\n${out}\nstderr:\n${err}`));
        }, timeoutMs);
        const cleanup = () => {
          clearTimeout(timer);
          waiters.delete(check);
        };
        waiters.add(check);
        check();
      });
    },
  };
  running.add(run);
  return run;
}

/** `faro …` through the repository's bin (the bundle when fresh, else the sources). */
export function faro(args: string[], o: { env?: Record<string, string | undefined>; cwd?: string } = {}): Run {
  return start(process.execPath, [FARO_BIN, ...args], o);
}

/** Kills every process group still running (afterEach/afterAll). */
export async function killAll(): Promise<void> {
  const left = [...running];
  for (const r of left) r.signalGroup("SIGKILL");
  await Promise.all(left.map((r) => r.exited));
}
