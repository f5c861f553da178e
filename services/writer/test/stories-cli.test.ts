// `faro stories` as a child process over story files built by the writer's builder: ls table/json, show summary/json, unknown id.
import { spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { decodeStoryEntry, encodeStoryEntry } from "@faro/contracts";
import { writeFileAtomic } from "../src/atomic.js";
import { buildStoryFile } from "../src/build.js";
import { storyFilePath } from "../src/paths.js";
import { story, type Built } from "./helpers.js";

const root = path.resolve(import.meta.dirname, "../../..");
let dir: string;
const children: ChildProcess[] = [];
const web = story("web", { logBatches: 3, linesPerBatch: 4 });
const api = story("api", { namespace: "pay" });

function faro(...args: string[]): Promise<{ code: number | null; out: string; err: string }> {
  const child = spawn(process.execPath, ["--import", "tsx", path.join(root, "apps/cli/src/main.ts"), ...args], { cwd: root, stdio: ["ignore", "pipe", "pipe"] });
  children.push(child);
  let out = "";
  let err = "";
  child.stdout.on("data", (d: Buffer) => (out += d.toString()));
  child.stderr.on("data", (d: Buffer) => (err += d.toString()));
  return new Promise((resolve) => child.on("exit", (code) => resolve({ code, out, err })));
}

const read = (bs: Built[]) => bs.map((b, i) => ({ streamSeq: i + 1, msgId: b.msgId, entry: decodeStoryEntry(encodeStoryEntry(b.entry)) }));

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "faro-stories-"));
  const opts = { maxLogLines: 6, maxBytes: 1 << 24 };
  await writeFileAtomic(storyFilePath(dir, "shop", web.sc.storyId, 0), buildStoryFile(read([...web.entries, web.close]), [web.incident], opts).json);
  await writeFileAtomic(storyFilePath(dir, "pay", api.sc.storyId, 0), buildStoryFile(read(api.entries), [api.incident], opts).json);
});

afterAll(() => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill("SIGKILL");
  fs.rmSync(dir, { recursive: true, force: true });
});

describe("faro stories", () => {
  it("ls prints a table of every story file, and --json the same as data", async () => {
    const [table, json] = await Promise.all([faro("stories", "ls", "--dir", dir), faro("stories", "--dir", dir, "--json")]);
    expect(table.code).toBe(0);
    const lines = table.out.trim().split("\n");
    // One row per story (its newest window), a CLUSTER column; the count goes to stderr (stdout carries data only).
    expect(lines[0]).toMatch(/^CLUSTER\s+NAMESPACE\s+WORKLOAD\s+WINDOW\s+PODS\s+INCIDENTS\s+STATE\s+LAST ACTIVITY\s+ID$/);
    expect(lines[1]).toMatch(new RegExp(`^sim\\s+pay\\s+deployment/api\\s+0\\s+2\\s+OOMKilled\\s+snapshot\\s+\\S+Z\\s+${api.sc.storyId}-w0$`));
    expect(lines[2]).toMatch(new RegExp(`^sim\\s+shop\\s+deployment/web\\s+0\\s+2\\s+OOMKilled\\s+closed \\(idle\\)\\s+\\S+Z\\s+${web.sc.storyId}-w0$`));
    expect(lines).toHaveLength(3);
    expect(table.err).toContain(`2 stories in ${dir}`);
    expect(json.code).toBe(0);
    const data = JSON.parse(json.out) as Array<{ storyId: string; state: string; incidents: Record<string, number> }>;
    expect(data.map((d) => [d.storyId, d.state, d.incidents])).toEqual([
      [api.sc.storyId, "snapshot", { OOMKilled: 1 }],
      [web.sc.storyId, "closed", { OOMKilled: 1 }],
    ]);
  }, 30_000);

  it("show prints the timeline summary, --json the file itself; an unknown id is one line and exit 1", async () => {
    const [pretty, raw, missing, bad] = await Promise.all([
      faro("stories", "show", web.sc.storyId, "--dir", dir),
      faro("stories", "show", `${web.sc.storyId}-w0`, "--dir", dir, "--json"),
      faro("stories", "show", "s-nope", "--dir", dir),
      faro("stories", "frobnicate", "--dir", dir),
    ]);
    expect(pretty.code).toBe(0);
    expect(pretty.out).toContain(`story ${web.sc.storyId} window 0: Deployment/web in shop (tenant acme, cluster sim)`);
    expect(pretty.out).toContain("owner chain: ReplicaSet/web-7d9f → Deployment/web");
    expect(pretty.out).toMatch(/app: #0 started \S+ finished \S+ exit 137 OOMKilled; #1/);
    expect(pretty.out).toMatch(/OOMKilled \(high\) container app exit 137/);
    expect(pretty.out).toContain("| panic: out of memory");
    expect(pretty.out).toContain("elided log lines: web-7d9f-aaaaa/app 6, web-7d9f-bbbbb/app 6");
    expect(pretty.out).toMatch(/timeline \(\d+ entries\):/);
    expect(raw.code).toBe(0);
    expect(raw.out).toBe(fs.readFileSync(storyFilePath(dir, "shop", web.sc.storyId, 0), "utf8"));
    expect(missing.code).toBe(1);
    expect(missing.err.trim()).toBe(`faro stories: no story of "s-nope" in ${dir} — list them with: faro stories ls --dir ${dir}`);
    expect(missing.out).toBe("");
    expect(bad.code).toBe(2);
    expect(bad.err.trim()).toMatch(/^faro stories: unknown subcommand "frobnicate" \(ls, show\b/);
  }, 30_000);
});
