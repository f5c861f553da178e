// Runs a real program that loads config like a service main, checking exit code 2 and the stderr message.
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";

const root = path.resolve(import.meta.dirname, "../../..");
const program = path.join(import.meta.dirname, "fixtures", "print-config.ts");
const dir = fs.mkdtempSync(path.join(os.tmpdir(), "faro-config-exit-"));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

function run(args: string[], env: Record<string, string> = {}) {
  // Only FARO_* from the test, so the developer's own environment cannot leak in.
  const base = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith("FARO_")));
  const r = spawnSync(process.execPath, ["--import", "tsx", program, ...args], { cwd: root, env: { ...base, ...env }, encoding: "utf8" });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}
function yamlFile(text: string): string {
  const p = path.join(dir, `c${Math.random().toString(36).slice(2)}.yaml`);
  fs.writeFileSync(p, text);
  return p;
}

describe("config errors exit with code 2", () => {
  it("malformed YAML names the file, line and column", () => {
    const file = yamlFile("mode: fast\nqueue:\n  maxInFlight: 5\n   flushInterval: 1s\n");
    const r = run(["--config", file]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("malformed YAML");
    expect(r.stderr).toMatch(new RegExp(`${file.replace(/[.]/g, "\\.")}:\\d+:\\d+`));
  });

  it("unknown key in the file", () => {
    const file = yamlFile("queue:\n  maxInFlite: 5\n");
    const r = run([], { FARO_CONFIG: file });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`queue.maxInFlite: unknown key (did you mean "maxInFlight"?)`);
    expect(r.stderr).toContain(`${file}:2:3`);
  });

  it("wrong type from the environment", () => {
    const r = run([], { FARO_HTTP_PORT: "eighty" });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('http.port: expected an integer; got "eighty"; allowed: integer 0..65535 (from env FARO_HTTP_PORT)');
  });

  it("out-of-range flag", () => {
    const r = run(["--queue-max-in-flight", "20000"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('queue.maxInFlight: must be at most 10000; got "20000"; allowed: integer 1..10000 (from flag --queue-max-in-flight)');
  });

  it("bad enum, listing every problem at once", () => {
    const r = run(["--mode=turbo", "--log.level", "loud"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("(2 problems)");
    expect(r.stderr).toContain('mode: not an allowed value; got "turbo"; allowed: one of fast, safe (from flag --mode)');
    expect(r.stderr).toContain("log.level: not an allowed value");
    expect(r.stdout).toBe("");
  });

  it("valid layers run normally: file < env < flags", () => {
    const file = yamlFile("mode: fast\nratio: 0.25\nqueue: {maxInFlight: 5, flushInterval: 1s}\n");
    const r = run(["--config", file, "--queue.flushInterval=3s"], { FARO_QUEUE_MAX_IN_FLIGHT: "7", FARO_QUEUE_FLUSH_INTERVAL: "2s" });
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const cfg = JSON.parse(r.stdout);
    expect(cfg).toMatchObject({ mode: "fast", ratio: 0.25, queue: { maxInFlight: 7, flushInterval: 3000, maxBytes: 1_048_576 }, http: { port: 9101 } });
  });
});
