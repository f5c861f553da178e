// `faro stories prune`: the dry run lists exactly what the real run removes, nothing outside the filter is touched,
// and with --nats the FARO_STORY messages of the stories removed go too.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connectBus, ensureStream, type Bus } from "@faro/bus";
import { buildStorySubject, FARO_STORY } from "@faro/contracts";
import { startNats, type ManagedServer } from "@faro/test-harness";
import { storiesCommand } from "../src/commands/stories.js";

let nats: ManagedServer;
let bus: Bus;
let dir: string;

const DAY = 86_400_000;
const story = (ns: string, id: string, window: number, ageDays: number, reason?: string) => {
  const closedAt = new Date(Date.now() - ageDays * DAY).toISOString();
  const file = path.join(dir, ns, `${id}-w${window}.json`);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(
    file,
    JSON.stringify({ schemaVersion: 1, storyId: id, window, tenant: "default", cluster: "prod", namespace: ns, workload: { apiVersion: "apps/v1", kind: "Deployment", name: id, uid: "" }, closedAt, closeReason: "idle", incidents: reason ? [{ reason }] : [], timeline: [] }),
  );
  return path.join(ns, `${id}-w${window}.json`);
};

async function prune(args: string[]): Promise<{ code: number; out: string[] }> {
  const out: string[] = [];
  const code = await storiesCommand.run(["prune", "--dir", dir, ...args], { out: (l) => out.push(l), err: (l) => out.push(l), signal: new AbortController().signal });
  return { code, out };
}

beforeAll(async () => {
  nats = await startNats();
  bus = await connectBus({ servers: nats.url, name: "prune-test" });
  await ensureStream(bus.jsm, FARO_STORY);
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "faro-prune-"));
});

afterAll(async () => {
  await bus?.close();
  await nats?.stop();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

describe("faro stories prune", () => {
  it("dry-runs, then removes exactly that, files and bus messages, and nothing outside the filter", { timeout: 30_000 }, async () => {
    const oldShop = story("shop", "s-old", 0, 10, "CrashLoopBackOff");
    fs.writeFileSync(path.join(dir, "shop", "s-old-w0.html"), "<html></html>");
    const newShop = story("shop", "s-new", 0, 1);
    const oldOther = story("other", "s-other", 0, 10);
    // s-split: window 0 old, window 1 recent → its files go one by one, its bus messages stay.
    const splitOld = story("shop", "s-split", 0, 10);
    story("shop", "s-split", 1, 1);
    for (const [ns, id] of [["shop", "s-old"], ["shop", "s-new"], ["other", "s-other"], ["shop", "s-split"]] as const) {
      for (let i = 0; i < 3; i++) await bus.js.publish(buildStorySubject("default", "prod", ns, id), new Uint8Array([i]), { msgID: `${id}-${i}` });
    }
    const count = async (id: string) => Object.values((await bus.jsm.streams.info(FARO_STORY.name, { subjects_filter: `faro.v1.story.*.*.*.${id}` })).state.subjects ?? {}).reduce((a, b) => a + b, 0);

    await expect(prune([])).rejects.toThrow(/--older-than is required/);
    const dry = await prune(["--older-than", "7d", "-n", "shop", "--dry-run", "--json", "--nats", nats.url]);
    expect(dry.code).toBe(0);
    const planned = JSON.parse(dry.out[0]!) as { dryRun: boolean; files: string[]; busMessages: number; busKept: string[] };
    expect(planned.dryRun).toBe(true);
    expect(planned.files.sort()).toEqual([oldShop, oldShop.replace(/\.json$/, ".html"), splitOld].sort());
    expect(planned.busMessages).toBe(3);
    expect(planned.busKept).toEqual(["s-split"]);
    for (const f of planned.files) expect(fs.existsSync(path.join(dir, f))).toBe(true);
    expect(await count("s-old")).toBe(3);

    const real = await prune(["--older-than", "7d", "--namespace", "shop", "--nats", nats.url]);
    expect(real.code).toBe(0);
    expect(real.out.filter((l) => l.startsWith("removed ") && !l.includes(" files of ")).map((l) => l.slice("removed ".length)).sort()).toEqual(planned.files.sort());
    expect(real.out.at(-1)).toMatch(/^removed 3 files of 2 stories, 3 FARO_STORY messages \(kept for 1 stories with newer windows\)$/);
    for (const f of planned.files) expect(fs.existsSync(path.join(dir, f))).toBe(false);
    expect(await count("s-old")).toBe(0);
    // Outside the filter: untouched.
    for (const f of [newShop, oldOther, path.join("shop", "s-split-w1.json")]) expect(fs.existsSync(path.join(dir, f)), f).toBe(true);
    expect([await count("s-new"), await count("s-other"), await count("s-split")]).toEqual([3, 3, 3]);

    // --reason narrows to stories with such an incident; without --nats the bus is left alone and it says so.
    story("other", "s-crash", 0, 10, "OOMKilled");
    const byReason = await prune(["--older-than", "7d", "--reason", "OOMKilled", "--dry-run"]);
    expect(byReason.out).toEqual([`would remove ${path.join("other", "s-crash-w0.json")}`, "dry run: would remove 1 file of 1 story (bus messages untouched: no --nats)"]);
  });
});
