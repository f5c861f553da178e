// `faro stories` by name: references (`shop/payments`, `deploy/payments`, `shop/deploy/payments`), one row per
// story in `ls`, the newest run's story when several clusters have the workload, ambiguity named, and `show`'s
// text (one timestamp format, --no-logs, --since, no colour unless asked).
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { StoryFile } from "@faro/contracts";
import { CommandError, UsageError, parseStoryRef, resolveStory, storyRows, storyText } from "@faro/cli";

let dir: string;

/** A small valid-looking story file (the lookup reads files without schema validation). */
function story(o: { cluster: string; ns: string; kind: string; name: string; id: string; window?: number; last: string }): StoryFile {
  return {
    schemaVersion: 1,
    storyId: o.id,
    window: o.window ?? 0,
    tenant: "default",
    cluster: o.cluster,
    namespace: o.ns,
    workload: { apiVersion: "apps/v1", kind: o.kind, name: o.name, uid: `${o.id}-uid` },
    ownerChain: [{ apiVersion: "apps/v1", kind: o.kind, name: o.name, uid: `${o.id}-uid` }],
    openedAt: "2026-12-08T00:00:00Z",
    closeReason: "snapshot",
    pods: [],
    incidents: [],
    elided: {},
    stats: {},
    timeline: [
      { seq: 0, timestamp: "2026-12-08T00:00:00Z", kind: "open", summary: "opened", data: { window: o.window ?? 0, previousWindow: null, root: { kind: o.kind, name: o.name } } },
      { seq: 1, timestamp: "2026-12-08T00:00:01.5Z", kind: "log", summary: "1 log line", pod: "p-1", container: "app", data: { container: "app", restartCount: 0, lines: [{ timestamp: "2026-12-08T00:00:01.123456789Z", line: "hello from the log" }] } },
      { seq: 2, timestamp: o.last, kind: "lifecycle", summary: "scheduled", pod: "p-1", data: { what: "scheduled", node: "node-7" } },
    ],
  } as unknown as StoryFile;
}

function write(s: StoryFile): void {
  const d = path.join(dir, s.namespace || "_cluster");
  fs.mkdirSync(d, { recursive: true });
  fs.writeFileSync(path.join(d, `${s.storyId}-w${s.window}.json`), JSON.stringify(s));
}

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "faro-stories-lookup-"));
  // The same workload from two demo runs (clusters), the newer with two windows; a namesake in another namespace.
  write(story({ cluster: "demo-aaaaaa", ns: "shop", kind: "Deployment", name: "payments", id: "s-00000000000000a1", last: "2026-12-08T00:01:00Z" }));
  write(story({ cluster: "demo-bbbbbb", ns: "shop", kind: "Deployment", name: "payments", id: "s-00000000000000b1", last: "2026-12-08T00:05:00Z" }));
  write(story({ cluster: "demo-bbbbbb", ns: "shop", kind: "Deployment", name: "payments", id: "s-00000000000000b1", window: 1, last: "2026-12-08T00:09:00Z" }));
  write(story({ cluster: "demo-bbbbbb", ns: "billing", kind: "StatefulSet", name: "payments", id: "s-00000000000000c1", last: "2026-12-08T00:02:00Z" }));
});

afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe("story references", () => {
  it("read like kubectl: a known kind first, else a namespace", () => {
    expect(parseStoryRef("payments")).toEqual({ name: "payments" });
    expect(parseStoryRef("shop/payments")).toEqual({ namespace: "shop", name: "payments" });
    expect(parseStoryRef("deploy/payments")).toEqual({ kind: "Deployment", name: "payments" });
    expect(parseStoryRef("shop/sts/payments")).toEqual({ namespace: "shop", kind: "StatefulSet", name: "payments" });
    expect(() => parseStoryRef("a/b/c/d")).toThrow(UsageError);
  });

  it("find the newest run's newest window, and name the other clusters", async () => {
    const r = await resolveStory(dir, "shop/payments");
    expect(r.path).toBe(path.join(dir, "shop", "s-00000000000000b1-w1.json"));
    expect(r.otherClusters).toEqual(["demo-aaaaaa"]);
    expect((await resolveStory(dir, "shop/deployment/payments", { cluster: "demo-aaaaaa" })).path).toBe(path.join(dir, "shop", "s-00000000000000a1-w0.json"));
    expect((await resolveStory(dir, "payments", { kind: "statefulset" })).path).toBe(path.join(dir, "billing", "s-00000000000000c1-w0.json"));
    // Story ids and file stems still work.
    expect((await resolveStory(dir, "s-00000000000000a1")).path).toBe(path.join(dir, "shop", "s-00000000000000a1-w0.json"));
  });

  it("name every workload a reference matches, and say how to list them when it matches none", async () => {
    await expect(resolveStory(dir, "payments")).rejects.toThrow(/"payments" names 2 workloads: billing\/statefulset\/payments, shop\/deployment\/payments — name one as NAMESPACE\/KIND\/NAME/);
    await expect(resolveStory(dir, "shop/nope")).rejects.toThrow(CommandError);
    await expect(resolveStory(dir, "shop/nope")).rejects.toThrow(`no story of "shop/nope" in ${dir} — list them with: faro stories ls --dir ${dir}`);
  });
});

describe("faro stories ls rows", () => {
  it("are one per story (its newest window), sorted by cluster, filterable", () => {
    const rows = storyRows(dir);
    expect(rows.map((r) => [r.newest.story.cluster, r.newest.story.namespace, r.newest.story.window, r.windows])).toEqual([
      ["demo-aaaaaa", "shop", 0, 1],
      ["demo-bbbbbb", "billing", 0, 1],
      ["demo-bbbbbb", "shop", 1, 2],
    ]);
    expect(storyRows(dir, { cluster: "demo-bbbbbb", kind: "deployment" })).toHaveLength(1);
  });
});

describe("faro stories show text", () => {
  const s = story({ cluster: "c", ns: "shop", kind: "Deployment", name: "payments", id: "s-00000000000000d1", last: "2026-12-08T00:00:02Z" });

  it("has one timestamp format (UTC, milliseconds), log lines as written, one sentence per other entry", () => {
    const text = storyText(s, "f.json", { colour: false }).join("\n");
    expect(text).toContain("opened 2026-12-08T00:00:00.000Z, still open (snapshot)");
    expect(text).toMatch(/^ {2}2026-12-08T00:00:01\.123Z {2}log {7}p-1\/app \| hello from the log$/m);
    expect(text).toMatch(/^ {2}2026-12-08T00:00:02\.000Z {2}lifecycle p-1 scheduled on node-7$/m);
    expect(text).not.toContain("\x1b[");
    expect(storyText(s, "f.json", { colour: true }).join("\n")).toContain("\x1b[");
  });

  it("--no-logs and --since leave entries out and say so", () => {
    const noLogs = storyText(s, "f.json", { colour: false, noLogs: true }).join("\n");
    expect(noLogs).not.toContain("hello from the log");
    expect(noLogs).toContain("timeline (3 entries, 1 left out by --no-logs)");
    const since = storyText(s, "f.json", { colour: false, since: new Date("2026-12-08T00:00:01.600Z") }).join("\n");
    expect(since).toMatch(/timeline \(3 entries, 2 left out by --since 2026-12-08T00:00:01\.600Z\)/);
    expect(since).toContain("scheduled on node-7");
  });
});
