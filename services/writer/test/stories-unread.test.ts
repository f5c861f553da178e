// `faro stories show` names the container instances whose log could not be read.
import { spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { decodeStoryEntry, encodeStoryEntry } from "@faro/contracts";
import { writeFileAtomic } from "../src/atomic.js";
import { buildStoryFile } from "../src/build.js";
import { storyFilePath } from "../src/paths.js";
import { entry, story, type Built } from "./helpers.js";

const root = path.resolve(import.meta.dirname, "../../..");
let dir: string;
const children: ChildProcess[] = [];
const web = story("web");
const pod = { name: "web-7d9f-zzzzz", uid: "pod-z", node: "node-1", replacesPodUid: "" };
const marker = entry(web.sc, "web", "log", 21, 900, `log of ${pod.name}/app (restart 0) not read: the pod was deleted before its log was read`, { container: "app", containerType: "regular", restartCount: 0, source: "follow", seqStart: 0, lines: [], unreadReason: "gone_before_read" }, pod);

const read = (bs: Built[]) => bs.map((b, i) => ({ streamSeq: i + 1, msgId: b.msgId, entry: decodeStoryEntry(encodeStoryEntry(b.entry)) }));

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "faro-stories-unread-"));
  const built = buildStoryFile(read([...web.entries, marker, web.close]), [web.incident], { maxLogLines: 100, maxBytes: 1 << 24 });
  await writeFileAtomic(storyFilePath(dir, "shop", web.sc.storyId, 0), built.json);
});

afterAll(() => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill("SIGKILL");
  fs.rmSync(dir, { recursive: true, force: true });
});

describe("faro stories show", () => {
  it("prints the unread instance logs and the entry that says so", async () => {
    const child = spawn(process.execPath, ["--import", "tsx", path.join(root, "apps/cli/src/main.ts"), "stories", "show", web.sc.storyId, "--dir", dir], { cwd: root, stdio: ["ignore", "pipe", "pipe"] });
    children.push(child);
    let out = "";
    child.stdout.on("data", (d: Buffer) => (out += d.toString()));
    const code = await new Promise((resolve) => child.on("exit", resolve));
    expect(code).toBe(0);
    expect(out).toContain("unread logs (lines lost): web-7d9f-zzzzz/app#0 gone_before_read");
    expect(out).toMatch(/log\s+web-7d9f-zzzzz\/app log of restart 0 lost: the pod was deleted before its log was read/);
  }, 30_000);
});
