// Writer fault test: the writer process (`faro run writer`, the container entrypoint) is killed with SIGKILL while it
// writes many stories; a reader never sees a torn or partial file, and after a restart every story is written
// completely. Also checks the service contract and that SIGTERM exits 0.
import { spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connectBus, ensureStream, type Bus } from "@faro/bus";
import { validateStoryFile, type StoryFile } from "@faro/contracts";
import { checkServiceContract } from "@faro/observability";
import { startNats, type ManagedServer } from "@faro/test-harness";
import { writerService } from "../src/definition.js";
import { storyFilePath } from "../src/paths.js";
import { publishEntries, publishIncident, story, until } from "./helpers.js";

const root = path.resolve(import.meta.dirname, "../../..");
const TSX = path.join(root, "node_modules/.bin/tsx");
const CLI = path.join(root, "apps/cli/src/main.ts");
let nats: ManagedServer;
let bus: Bus;
let dir: string;
const children: ChildProcess[] = [];

interface Proc {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
}

function startWriterProcess(): Proc {
  // tsx runs the CLI in a child process of its own: the group (detached) is what SIGKILL must reach.
  const child = spawn(TSX, [CLI, "run", "writer"], {
    cwd: root,
    detached: true,
    env: {
      ...process.env,
      FARO_NATS_URL: nats.url,
      FARO_CLUSTER: "sim",
      FARO_DIR: dir,
      FARO_HTTP_PORT: "0",
      FARO_HTTP_HOST: "127.0.0.1",
      FARO_LOG_LEVEL: "info",
      FARO_LOG_PRETTY: "false",
      FARO_SNAPSHOT_INTERVAL: "50ms",
      FARO_CONSUMER_ACK_WAIT: "2s",
      FARO_CONSUMER_CONCURRENCY: "4",
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  children.push(child);
  let out = "";
  child.stdout!.on("data", (d: Buffer) => (out += d.toString()));
  child.stderr!.on("data", (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((r) => child.on("exit", (code) => r(code)));
  return { child, output: () => out, exited };
}

/** SIGKILL to the child's whole process group (tsx and the node process running the CLI). */
function killGroup(child: ChildProcess): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, "SIGKILL");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "ESRCH") throw err; // ESRCH: already gone
  }
}

beforeAll(async () => {
  nats = await startNats();
  bus = await connectBus({ servers: nats.url, name: "test" });
  for (const spec of writerService.streams) await ensureStream(bus.jsm, spec);
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "faro-writer-fault-"));
});

afterAll(async () => {
  for (const c of children) killGroup(c);
  await bus?.close();
  await nats?.stop();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe("writer fault tolerance", () => {
  it("kill -9 while writing: no torn file is ever visible, and every story is complete after a restart", async () => {
    const stories = Array.from({ length: 40 }, (_, i) => story(`job-${i}`, { namespace: `ns-${i % 4}`, logBatches: 10, linesPerBatch: 40 }));
    const files = stories.map((s) => storyFilePath(dir, s.sc.namespace, s.sc.storyId, 0));

    // The reader: lists the directory and parses every *.json, over and over, until told to stop.
    let reading = true;
    let reads = 0;
    const torn: string[] = [];
    const reader = (async () => {
      while (reading) {
        for (const f of fs.existsSync(dir) ? fs.readdirSync(dir, { recursive: true, encoding: "utf8" }) : []) {
          if (!f.endsWith(".json")) continue;
          let text: string;
          try {
            text = fs.readFileSync(path.join(dir, f), "utf8");
          } catch (err) {
            if ((err as NodeJS.ErrnoException).code === "ENOENT") continue;
            throw err;
          }
          try {
            const parsed = JSON.parse(text) as StoryFile;
            if (!validateStoryFile(parsed).ok) torn.push(`${f}: invalid`);
            reads++;
          } catch (err) {
            torn.push(`${f}: ${(err as Error).message}`);
          }
        }
        await new Promise((r) => setImmediate(r));
      }
    })();

    const first = startWriterProcess();
    await until(() => /writer consuming/.test(first.output()), 30_000, "writer consuming");
    // Entries first (snapshots start right away), then the closes in a burst.
    for (const s of stories) {
      await publishIncident(bus.js, s.incident);
      await publishEntries(bus.js, s.sc, s.entries);
    }
    await Promise.all(stories.map((s) => publishEntries(bus.js, s.sc, [s.close])));
    // Kill it in the middle of the burst of final files.
    const finals = () => files.filter((f) => fs.existsSync(f) && (JSON.parse(fs.readFileSync(f, "utf8")) as StoryFile).closeReason === "idle").length;
    await until(() => finals() >= 3, 30_000, "some final files");
    killGroup(first.child);
    await first.exited;
    const before = finals();

    const second = startWriterProcess();
    const url = await until(() => /"url":"(http:\/\/[^"]+)"/.exec(second.output())?.[1], 30_000, "metrics url");
    await until(() => finals() === stories.length, 60_000, "every final file");
    reading = false;
    await reader;

    expect(torn).toEqual([]);
    expect(reads).toBeGreaterThan(0);
    expect(before).toBeLessThan(stories.length);
    for (const [i, s] of stories.entries()) {
      const f = JSON.parse(fs.readFileSync(files[i]!, "utf8")) as StoryFile;
      expect(validateStoryFile(f).ok).toBe(true);
      expect(f.timeline).toHaveLength(s.entries.length + 1);
      expect(f.stats["logLinesTotal"]).toBe(Object.values(s.logLines).reduce((a, b) => a + b, 0));
      expect(f.incidents).toHaveLength(1);
    }
    const report = await checkServiceContract(url, { expectReady: true });
    expect(report).toBeDefined();
    second.child.kill("SIGTERM");
    expect(await second.exited).toBe(0);
  }, 120_000);
});
