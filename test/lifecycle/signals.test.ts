// Lifecycle contract of a real service process: SIGTERM drains and exits 0; a hanging stop is forced (exit 1).
import { spawn, type ChildProcess } from "node:child_process";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { checkServiceContract } from "@faro/observability";

const root = path.resolve(import.meta.dirname, "../..");
const fixture = path.join(root, "test", "fixtures", "lifecycle", "draining-service.ts");
const children: ChildProcess[] = [];

afterEach(() => {
  for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill("SIGKILL");
});

interface Running {
  child: ChildProcess;
  lines: Record<string, unknown>[];
  /** Resolves with the first log line matching `pred` (already seen or future); rejects after a deadline. */
  waitForLine(pred: (l: Record<string, unknown>) => boolean, timeoutMs?: number): Promise<Record<string, unknown>>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

function start(env: Record<string, string>): Running {
  const child = spawn(process.execPath, ["--import", "tsx", fixture], { cwd: root, env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
  children.push(child);
  const lines: Record<string, unknown>[] = [];
  const waiters: { pred: (l: Record<string, unknown>) => boolean; resolve: (l: Record<string, unknown>) => void }[] = [];
  let buf = "";
  let stderr = "";
  child.stderr!.on("data", (d) => (stderr += d));
  child.stdout!.on("data", (d) => {
    buf += d;
    let nl: number;
    while ((nl = buf.indexOf("\n")) !== -1) {
      const text = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      const line = JSON.parse(text) as Record<string, unknown>;
      lines.push(line);
      for (const w of [...waiters]) if (w.pred(line)) waiters.splice(waiters.indexOf(w), 1) && w.resolve(line);
    }
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on("exit", (code, signal) => resolve({ code, signal })),
  );
  return {
    child,
    lines,
    exited,
    waitForLine(pred, timeoutMs = 20_000) {
      const seen = lines.find(pred);
      if (seen) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no matching line within ${timeoutMs}ms; stdout: ${JSON.stringify(lines)}; stderr: ${stderr}`)), timeoutMs);
        waiters.push({ pred, resolve: (l) => (clearTimeout(timer), resolve(l)) });
        void exited.then(() => setImmediate(() => reject(new Error(`process exited; stdout: ${JSON.stringify(lines)}; stderr: ${stderr}`))));
      });
    },
  };
}

describe("service lifecycle (real process)", () => {
  it("SIGTERM → draining → in-flight work finishes → stopped → exit 0", async () => {
    const svc = start({});
    const listening = await svc.waitForLine((l) => typeof l.url === "string");
    await svc.waitForLine((l) => l.event === "ready");
    await checkServiceContract(listening.url as string, { expectReady: true });

    svc.child.kill("SIGTERM");
    const { code } = await svc.exited;
    expect(code).toBe(0);
    const msgs = svc.lines.map((l) => l.msg);
    const order = ["SIGTERM received: draining", "lifecycle: draining", "in-flight work finished", "lifecycle: stopped", "stopped (exit code 0)"];
    expect(msgs.filter((m) => order.includes(m as string))).toEqual(order);
  });

  it("a stop() that hangs is forced after the shutdown timeout: exit 1 and an error line", async () => {
    const svc = start({ FIXTURE_STOP: "hang", FIXTURE_SHUTDOWN_TIMEOUT_MS: "300" });
    await svc.waitForLine((l) => l.event === "ready");
    svc.child.kill("SIGTERM");
    const { code } = await svc.exited;
    expect(code).toBe(1);
    const forced = svc.lines.find((l) => String(l.msg).includes("forced stop"));
    expect(forced).toMatchObject({ level: 50, timeoutMs: 300, service: "fixture" });
    expect(svc.lines.some((l) => l.event === "work-finished")).toBe(false);
  });

  it("a second signal forces the stop immediately", async () => {
    const svc = start({ FIXTURE_STOP: "hang", FIXTURE_SHUTDOWN_TIMEOUT_MS: "60000" });
    await svc.waitForLine((l) => l.event === "ready");
    svc.child.kill("SIGTERM");
    await svc.waitForLine((l) => l.msg === "lifecycle: draining");
    // A deliberate second Ctrl-C: later than the window in which a forwarded copy of the first is ignored.
    await new Promise((r) => setTimeout(r, 300));
    svc.child.kill("SIGINT");
    const { code } = await svc.exited;
    expect(code).toBe(1);
    expect(svc.lines.some((l) => l.msg === "second signal SIGINT: stopping by force")).toBe(true);
  });

  it("the same Ctrl-C delivered twice (process group + a wrapper's copy) still drains and exits 0", async () => {
    const svc = start({});
    await svc.waitForLine((l) => l.event === "ready");
    svc.child.kill("SIGINT");
    svc.child.kill("SIGINT");
    const { code } = await svc.exited;
    expect(code).toBe(0);
    expect(svc.lines.some((l) => l.msg === "stopped (exit code 0)")).toBe(true);
  });
});
