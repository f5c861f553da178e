// `faro stories show` on a terminal: colours, and a pager ($PAGER) when the story is longer than the screen;
// never a pager or colours when stdout is a pipe. The terminal is a pseudo-terminal from util-linux `script`.
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { faro, FARO_BIN } from "./helpers.js";

const hasScript = (() => {
  try {
    execFileSync("script", ["--version"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
})();

let tmp: string;

beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), "faro-pager-"));
  const timeline = Array.from({ length: 60 }, (_, i) => ({
    seq: i,
    timestamp: new Date(Date.UTC(2026, 11, 8, 0, 0, i)).toISOString(),
    kind: "lifecycle",
    summary: "scheduled",
    pod: "web-1",
    data: { what: "scheduled", node: `node-${i}` },
  }));
  const story = {
    schemaVersion: 1,
    storyId: "s-00000000000000e1",
    window: 0,
    tenant: "default",
    cluster: "c1",
    namespace: "shop",
    workload: { apiVersion: "apps/v1", kind: "Deployment", name: "web", uid: "u" },
    ownerChain: [],
    openedAt: "2026-12-08T00:00:00Z",
    closeReason: "snapshot",
    pods: [],
    incidents: [],
    elided: {},
    stats: {},
    timeline,
  };
  fs.mkdirSync(path.join(tmp, "stories", "shop"), { recursive: true });
  fs.writeFileSync(path.join(tmp, "stories", "shop", "s-00000000000000e1-w0.json"), JSON.stringify(story));
});

afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

/** Runs `faro args` on a 20-row pseudo-terminal; returns what reached the screen. */
function onTerminal(args: string[], env: Record<string, string>): string {
  const cmd = `stty rows 20 cols 120; exec ${[process.execPath, FARO_BIN, ...args].map((a) => `'${a}'`).join(" ")}`;
  const { NO_COLOR: _drop, ...base } = process.env;
  return execFileSync("script", ["-qec", cmd, "/dev/null"], { env: { ...base, ...env }, encoding: "utf8", timeout: 60_000 });
}

describe.skipIf(!hasScript)("faro stories show on a terminal", () => {
  const show = () => ["stories", "show", "shop/web", "--dir", path.join(tmp, "stories")];

  it("pages a long story through $PAGER, in colour; --no-pager and NO_COLOR turn each off", () => {
    const paged = path.join(tmp, "paged.txt");
    const screen = onTerminal(show(), { PAGER: `cat > '${paged}'` });
    const text = fs.readFileSync(paged, "utf8");
    expect(text).toContain("scheduled on node-59");
    expect(text).toContain("\x1b[1mstory s-00000000000000e1");
    expect(screen).not.toContain("scheduled on node-59");

    fs.rmSync(paged);
    const direct = onTerminal([...show(), "--no-pager"], { PAGER: `cat > '${paged}'`, NO_COLOR: "1" });
    expect(fs.existsSync(paged)).toBe(false);
    expect(direct).toContain("scheduled on node-59");
    expect(direct).not.toContain("\x1b[");
  });

  it("never pages or colours into a pipe", async () => {
    const paged = path.join(tmp, "piped.txt");
    const run = faro(show(), { env: { PAGER: `cat > '${paged}'`, NO_COLOR: undefined } });
    expect((await run.exited).code).toBe(0);
    expect(run.stdout()).toContain("scheduled on node-59");
    expect(run.stdout()).not.toContain("\x1b[");
    expect(fs.existsSync(paged)).toBe(false);
  });
});
