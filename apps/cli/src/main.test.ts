// The faro CLI end to end: help, bad usage exit 2, and `faro sim` serving until SIGINT then stopping cleanly.
import { spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { main } from "./main.js";

const io = () => {
  const out: string[] = [];
  const err: string[] = [];
  return { out, err, io: { out: (l: string) => out.push(l), err: (l: string) => err.push(l), signal: new AbortController().signal } };
};

describe("faro CLI", () => {
  it("prints help and rejects bad usage with exit 2 and one line", async () => {
    const h = io();
    expect(await main(["--help"], h.io)).toBe(0);
    expect(h.out.join("\n")).toMatch(/sim\s+run the simulated Kubernetes cluster/);
    const u = io();
    expect(await main(["nope"], u.io)).toBe(2);
    expect(u.err).toHaveLength(1);
    expect(u.err[0]).toMatch(/^faro nope: unknown command "nope" \(commands: .*\bdemo\b.*\brun\b.*\bup\b.*\btail\b.*\bcapture\b.*\bsim\b/);
    const f = io();
    expect(await main(["sim", "--bogus"], f.io)).toBe(2);
    expect(f.err).toEqual(["faro sim: unknown flag --bogus"]);
    const s = io();
    expect(await main(["sim", "--scenario", "no-such-scenario"], s.io)).toBe(1);
    expect(s.err[0]).toMatch(/^faro sim: scenario no-such-scenario: not a built-in scenario/);
  });

  it("faro sim writes a kubeconfig, serves the API and stops on SIGINT with exit 0", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "faro-sim-"));
    const kc = path.join(dir, "kubeconfig");
    const root = path.resolve(import.meta.dirname, "../../..");
    const child = spawn(process.execPath, ["--import", "tsx", path.join(root, "apps/cli/src/main.ts"), "sim", "--kubeconfig", kc, "--scenario", "rollout", "--speed", "10"], { cwd: root, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    child.stdout.on("data", (d: Buffer) => (out += d.toString()));
    child.stderr.on("data", (d: Buffer) => (out += d.toString()));
    const exited = new Promise<number | null>((r) => child.on("exit", (code) => r(code)));
    try {
      const deadline = Date.now() + 30_000;
      while (!fs.existsSync(kc) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      const url = /server: (http:\/\/\S+)/.exec(fs.readFileSync(kc, "utf8"))![1]!;
      expect(out).toContain(url);
      const res = await fetch(`${url}/api/v1/nodes`);
      expect(((await res.json()) as { items: unknown[] }).items).toHaveLength(3);
      child.kill("SIGINT");
      expect(await exited).toBe(0);
      expect(out).toContain("kube-sim: stopping");
    } finally {
      child.kill("SIGKILL");
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
