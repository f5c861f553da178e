// `faro up`'s configuration: one YAML file with per-service sections, validated in memory for every service;
// every problem of every service is reported once, with the user's file and line and a "did you mean".
import { spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { ConfigError } from "@faro/config";
import { loadPipelineConfig } from "../src/pipeline-config.js";
import { SERVICE_NAMES } from "../src/services.js";

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "faro-up-config-"));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

function file(name: string, text: string): string {
  const f = path.join(dir, name);
  fs.writeFileSync(f, text);
  return f;
}

async function problems(configFile: string): Promise<ConfigError> {
  try {
    await loadPipelineConfig({ configFile, env: {} });
  } catch (err) {
    if (err instanceof ConfigError) return err;
    throw err;
  }
  throw new Error("expected a ConfigError");
}

describe("faro up configuration", () => {
  it("gives each service the common keys and its own section", async () => {
    const f = file("ok.yaml", "cluster: prod-eu1\npublish:\n  window: 64\nfilter:\n  tenants: [{ name: a, namespaces: [shop] }]\nwriter:\n  dir: /tmp/faro-x\n  publish:\n    window: 8\n");
    const loaded = await loadPipelineConfig({ configFile: f, env: {} });
    expect(loaded.map((l) => l.name)).toEqual([...SERVICE_NAMES]);
    for (const l of loaded) expect(l.config.cluster).toBe("prod-eu1");
    const byName = Object.fromEntries(loaded.map((l) => [l.name, l.config as unknown as Record<string, unknown>]));
    expect((byName.filter!.tenants as { name: string }[])[0]!.name).toBe("a");
    expect(byName.writer!.dir).toBe("/tmp/faro-x");
    // A service's section deep-merges over the common keys.
    expect(byName.writer!.publish).toMatchObject({ window: 8 });
    expect(byName.correlator!.publish).toMatchObject({ window: 64 });
  });

  it("reports every problem of every service with file and line, common ones once", async () => {
    const f = file(
      "bad.yaml",
      ["cluster: Not_A_Label", "correlator:", "  story:", "    idleClose: soon", "writer:", "  retention:", "    maxAge: [1, 2]", "filter:", "  tenents: []", ""].join("\n"),
    );
    const err = await problems(f);
    const lines = err.message.split("\n");
    // cluster is common: one problem, not five.
    expect(lines.filter((l) => /^\s*- (\w|-)+: cluster: /.test(l)).length).toBe(1);
    expect(err.message).toMatch(new RegExp(`correlator: story\\.idleClose: .*\\(from ${f.replace(/[.]/g, "\\.")}:4:`));
    expect(err.message).toMatch(new RegExp(`writer: retention\\.maxAge: .*\\(from ${f.replace(/[.]/g, "\\.")}:7:`));
    expect(err.message).toMatch(/filter: tenents: unknown key \(did you mean "tenants"\?\)/);
    expect(err.message).toMatch(new RegExp(`bad\\.yaml:9:`));
    expect(err.issues.length).toBe(4);
  });

  it("a top-level key of one service is not unknown to the others", async () => {
    const f = file("toplevel.yaml", "tenants: [{ name: a, namespaces: [shop] }]\n");
    const loaded = await loadPipelineConfig({ configFile: f, env: {} });
    expect(loaded).toHaveLength(SERVICE_NAMES.length);
  });

  it("a missing file and malformed YAML exit 2 from `faro up`", { timeout: 30_000 }, async () => {
    const root = path.resolve(import.meta.dirname, "../../..");
    const run = (args: string[]) =>
      new Promise<{ code: number | null; err: string }>((resolve) => {
        const child = spawn(path.join(root, "node_modules/.bin/tsx"), [path.join(root, "apps/cli/src/main.ts"), ...args], { cwd: root, stdio: ["ignore", "pipe", "pipe"] });
        let err = "";
        child.stderr.on("data", (b: Buffer) => (err += b.toString()));
        child.on("exit", (code) => resolve({ code, err }));
      });
    const missing = await run(["up", "--config", path.join(dir, "nope.yaml")]);
    expect(missing.code).toBe(2);
    expect(missing.err).toMatch(/cannot read config file/);
    const malformed = await run(["up", "--config", file("malformed.yaml", "cluster: [unclosed\n")]);
    expect(malformed.code).toBe(2);
    expect(malformed.err).toMatch(/malformed YAML.*malformed\.yaml:/s);
    const flag = await run(["up", "--kubeconfg", "/x"]);
    expect(flag.code).toBe(2);
    expect(flag.err).toMatch(/unknown flag --kubeconfg \(did you mean --kubeconfig\?\)/);
  });
});
