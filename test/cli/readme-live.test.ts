// The README's live examples (```sh live blocks) run exactly as written, line by line, in an empty directory with
// `faro` on PATH, as a user with a few terminals would run them:
// - a line ending in `&`, and `faro up`, is a server: it keeps running (another terminal) once it has said something;
// - every other line is a client: it must print data on stdout (or write the file it names with -o) and either exit 0
//   by itself or keep following;
// - at the end, Ctrl-C: each faro still running gets SIGINT and must exit 0 (pipelines then end too); a command
//   without faro (the example consumer under npx) gets it to its whole process group, as from a terminal, and
//   must end by it (0, 130 or the signal) after having printed its incidents.
// Every ```sh live block of the README is one sequence: later blocks run while the earlier servers still run;
// ```sh live checkout blocks run in the repository instead of the scratch directory.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startNats, startRedis, until, type ManagedServer } from "@faro/test-harness";
import { killAll, ROOT, start, type Run } from "./helpers.js";

interface Line {
  command: string;
  server: boolean;
  /** From a ```sh live checkout block: run in the repository (e.g. `npx tsx examples/…`), not the scratch directory. */
  inCheckout: boolean;
}

/** The lines of the README's ```sh live blocks, comments removed. */
function liveLines(markdown: string): Line[] {
  const out: Line[] = [];
  for (const m of markdown.matchAll(/^```sh live( checkout)?\n([\s\S]*?)^```$/gm)) {
    for (const raw of m[2]!.split("\n")) {
      const line = raw.replace(/\s+#.*$/, "").trim();
      if (!line || line.startsWith("#")) continue;
      const background = line.endsWith("&");
      const command = background ? line.slice(0, -1).trim() : line;
      out.push({ command, server: background || /^faro up\b/.test(command), inCheckout: m[1] !== undefined });
    }
  }
  return out;
}

const lines = liveLines(fs.readFileSync(path.join(ROOT, "README.md"), "utf8"));
let nats: ManagedServer;
let redis: ManagedServer;
let cwd: string;
let env: Record<string, string>;

beforeAll(async () => {
  [nats, redis] = await Promise.all([startNats(), startRedis()]);
  cwd = fs.mkdtempSync(path.join(os.tmpdir(), "faro-readme-live-"));
  env = { FARO_NATS_URL: nats.url, FARO_REDIS_URL: redis.url, PATH: `${path.join(ROOT, "node_modules", ".bin")}${path.delimiter}${process.env.PATH}`, NO_COLOR: "1" };
});

afterAll(async () => {
  await killAll();
  await Promise.all([nats?.stop(), redis?.stop()]);
  if (cwd) fs.rmSync(cwd, { recursive: true, force: true });
});

/** The pids of the faro processes in a run's process group (the shell and a pipe's other end excluded). */
function faroPids(run: Run): number[] {
  const pids: number[] = [];
  for (const entry of fs.readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${entry}/stat`, "utf8");
      const pgrp = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[2]);
      if (pgrp !== run.pgid) continue;
      const cmdline = fs.readFileSync(`/proc/${entry}/cmdline`, "utf8").split("\0");
      if (cmdline.some((a) => /[/\\]faro(\.m?js)?$/.test(a))) pids.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return pids;
}

const outputFile = (command: string) => /(?:^|\s)-o\s+(\S+\.json)\b/.exec(command)?.[1];

describe("README live examples", () => {
  it("the README has a live block starting a cluster and the pipeline", () => {
    expect(lines.some((l) => l.server && /faro sim/.test(l.command))).toBe(true);
    expect(lines.some((l) => /^faro up\b/.test(l.command))).toBe(true);
  });

  it("every line runs as written; Ctrl-C stops what still runs with exit 0", async () => {
    const running: Array<{ line: Line; run: Run }> = [];
    for (const line of lines) {
      const run = start("bash", ["-o", "pipefail", "-c", line.command], { cwd: line.inCheckout ? ROOT : cwd, env });
      if (line.server) {
        // Up once it has said something (the simulator's address, the services' ready lines).
        await until(() => run.stdout().trim() !== "" || /running|ready/.test(run.stderr()) || run.child.exitCode !== null, `${line.command} to start`, 60_000);
        expect(run.child.exitCode, `${line.command} exited:\n${run.stderr()}`).toBeNull();
        running.push({ line, run });
        continue;
      }
      const file = outputFile(line.command);
      // A client shows data: on stdout, or in the file it was told to write; following ones keep running.
      await until(
        () => (file ? run.child.exitCode !== null : run.stdout().trim() !== "" || run.child.exitCode !== null),
        `data from: ${line.command}`,
        90_000,
      );
      if (run.child.exitCode !== null) {
        const { code } = await run.exited;
        expect(code, `${line.command}\nstderr:\n${run.stderr()}`).toBe(0);
      } else running.push({ line, run });
      if (file) expect(JSON.parse(fs.readFileSync(path.join(cwd, file), "utf8")), `${file} from ${line.command}`).toBeTruthy();
      else expect(run.stdout().trim(), `no data from: ${line.command}\nstderr:\n${run.stderr()}`).not.toBe("");
      expect(run.stdout(), `stdout carries data only: ${line.command}`).not.toMatch(/^faro( [a-z]+)?: /m);
      if (/--json/.test(line.command) && !/\|/.test(line.command)) for (const l of run.stdout().trim().split("\n")) expect(() => JSON.parse(l)).not.toThrow();
    }
    // Ctrl-C, clients first (as a user closes their terminals), then the pipeline, then the cluster.
    for (const { line, run } of running.reverse()) {
      // faro itself gets the SIGINT (a pipe's other end then sees EOF); anything else gets it as a terminal sends it.
      const pids = faroPids(run);
      if (pids.length === 0) run.signalGroup("SIGINT");
      for (const pid of pids) process.kill(pid, "SIGINT");
      const { code, signal } = await run.exited;
      // faro drains and exits 0; a wrapper such as npx ends the way a terminal's Ctrl-C ends it (by the signal).
      if (pids.length > 0) expect(code, `${line.command} after Ctrl-C\nstderr:\n${run.stderr()}`).toBe(0);
      else expect(code === 0 || code === 130 || signal === "SIGINT", `${line.command} after Ctrl-C: code ${code}, signal ${signal}\nstderr:\n${run.stderr()}`).toBe(true);
    }
  }, 240_000);
});
