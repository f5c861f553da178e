// Unit tests of the story file builder: schema validity, pods and instances, dedupe, ordering, elision, determinism.
import { ENTRY_KINDS, PROTO_PATH, decodeStoryEntry, encodeStoryEntry, storyTimelineData, validateStoryFile } from "@faro/contracts";
import protobuf from "protobufjs";
import { describe, expect, it } from "vitest";
import { story, type Built } from "../test/helpers.js";
import { buildStoryFile, type ReadEntry } from "./build.js";

const read = (bs: Built[], startSeq = 1): ReadEntry[] => bs.map((b, i) => ({ streamSeq: startSeq + i, msgId: b.msgId, entry: decodeStoryEntry(encodeStoryEntry(b.entry)) }));
const opts = { maxLogLines: 1000, maxBytes: 32 * 1024 * 1024 };

/** The entry as a schema version 1 correlator published it: the payload as JSON in field 13 (payload_json). */
function asV1(b: Built): Uint8Array {
  const e = decodeStoryEntry(encodeStoryEntry(b.entry));
  const type = protobuf.loadSync(PROTO_PATH).lookupType("faro.v1.StoryEntry");
  const common = Object.fromEntries(Object.entries(e).filter(([k]) => !(ENTRY_KINDS as readonly string[]).includes(k)));
  const head = type.encode(type.fromObject({ ...common, schemaVersion: 1 })).finish();
  const tail = protobuf.Writer.create().uint32((13 << 3) | 2).string(JSON.stringify(storyTimelineData(e))).finish();
  return new Uint8Array([...head, ...tail]);
}

describe("buildStoryFile", () => {
  it("builds a valid final file with pods, instances, owner chain, timeline and incidents", () => {
    const s = story("web");
    const r = buildStoryFile(read([...s.entries, s.close]), [s.incident], opts);
    expect(validateStoryFile(r.file)).toEqual({ ok: true, errors: [] });
    expect(r.closed).toBe(true);
    const f = r.file;
    expect(f.closeReason).toBe("idle");
    expect(f.closedAt).toBe("2026-01-01T00:00:30.000Z");
    expect(f.openedAt).toBe("2026-01-01T00:00:00.000Z");
    expect(f.ownerChain.map((o) => `${o.kind}/${o.name}`)).toEqual(["ReplicaSet/web-7d9f", "Deployment/web"]);
    expect(f.timeline).toHaveLength(s.entries.length + 1);
    expect(f.timeline.map((t) => t.seq)).toEqual(f.timeline.map((_, i) => i));
    const times = f.timeline.map((t) => t.timestamp);
    expect([...times].sort()).toEqual(times);
    expect(f.pods.map((p) => p.uid)).toEqual(s.podUids);
    const [p1, p2] = f.pods;
    expect(p1!.deletedAt).toBe("2026-01-01T00:00:12.000Z");
    expect(p2!.replacesPodUid).toBe(p1!.uid);
    expect(p2!.node).toBe("node-2");
    expect(p1!.containers.map((c) => `${c.type}:${c.name}`)).toEqual(["init:init-db", "regular:app"]);
    const app1 = p1!.containers.find((c) => c.name === "app")!;
    expect(app1.instances).toEqual([
      { restartCount: 0, startedAt: "2026-01-01T00:00:05.000Z", finishedAt: "2026-01-01T00:00:11.000Z", exitCode: 137, reason: "OOMKilled" },
      { restartCount: 1 },
    ]);
    expect(p1!.containers[0]!.instances).toEqual([{ restartCount: 0, finishedAt: "2026-01-01T00:00:04.000Z", exitCode: 0, reason: "Completed" }]);
    expect(f.incidents).toHaveLength(1);
    expect(f.incidents[0]).toMatchObject({ incidentId: "i-web-oom", reason: "OOMKilled", severity: "high", exitCode: 137, logTail: [{ line: "panic: out of memory" }] });
    expect(f.elided).toEqual({});
    expect(f.stats).toMatchObject({ entries: s.entries.length + 1, duplicates: 0, pods: 2, logLines: 12, logLinesTotal: 12 });
  });

  it("drops repeated entries (same msgId or same content) and is independent of delivery order", () => {
    const s = story("api");
    const all = [...s.entries, s.close];
    const a = buildStoryFile(read(all), [s.incident], opts);
    // Redelivered copies: once with the same msgId, once republished without one.
    const dup = read([...all, ...all.slice(0, 5)]).map((r, i) => (i >= all.length + 2 ? { ...r, msgId: undefined } : r));
    const b = buildStoryFile(dup, [s.incident], opts);
    expect(b.duplicates).toBe(5);
    expect(b.file.timeline).toEqual(a.file.timeline);
    const c = buildStoryFile(read([...all].reverse()), [s.incident], opts);
    expect(c.file.timeline).toEqual(a.file.timeline);
    expect(c.file.pods).toEqual(a.file.pods);
  });

  it("elides log lines per pod container beyond the bound, with counts, keeping head and tail", () => {
    const s = story("big", { logBatches: 5, linesPerBatch: 10 });
    const r = buildStoryFile(read([...s.entries, s.close]), [s.incident], { ...opts, maxLogLines: 10 });
    expect(validateStoryFile(r.file).ok).toBe(true);
    expect(r.file.elided.logLines).toEqual({ "big-7d9f-aaaaa/app": 40, "big-7d9f-bbbbb/app": 40 });
    expect(r.elidedLines).toBe(80);
    const lines = r.file.timeline.filter((t) => t.kind === "log" && t.pod === "big-7d9f-aaaaa").flatMap((t) => (t.data["lines"] as { line: string }[]).map((l) => l.line));
    expect(lines).toEqual([0, 1, 2, 3, 4, 45, 46, 47, 48, 49].map((i) => `big-7d9f-aaaaa line ${i}`));
    expect(r.file.stats).toMatchObject({ logLines: 20, logLinesTotal: 100 });
  });

  it("halves the line bound until the file fits maxBytes", () => {
    const s = story("fat", { logBatches: 10, linesPerBatch: 50 });
    const full = buildStoryFile(read([...s.entries, s.close]), [s.incident], opts);
    const r = buildStoryFile(read([...s.entries, s.close]), [s.incident], { ...opts, maxBytes: Math.floor(Buffer.byteLength(full.json) / 3) });
    expect(Buffer.byteLength(r.json)).toBeLessThanOrEqual(Math.floor(Buffer.byteLength(full.json) / 3));
    expect(r.elidedLines).toBeGreaterThan(0);
    expect(r.oversize).toBe(false);
    const counted = Object.values(r.file.elided.logLines ?? {}).reduce((a, b) => a + b, 0);
    expect(counted).toBe(r.elidedLines);
  });

  it("without the close entry it is a snapshot", () => {
    const s = story("snap");
    const r = buildStoryFile(read(s.entries), [s.incident], opts);
    expect(r.closed).toBe(false);
    expect(r.file.closeReason).toBe("snapshot");
    expect(r.file.closedAt).toBeUndefined();
    expect(validateStoryFile(r.file).ok).toBe(true);
  });

  it("builds the same bytes from schema version 1 entries (payload_json), alone or mixed with version 2 ones", () => {
    const s = story("upgrade");
    const all = [...s.entries, s.close];
    const v2 = buildStoryFile(read(all), [s.incident], opts);
    const v1 = all.map((b, i): ReadEntry => ({ streamSeq: 1 + i, msgId: b.msgId, entry: decodeStoryEntry(asV1(b)) }));
    expect(v1.every((r) => r.entry.schemaVersion === 1)).toBe(true);
    expect(buildStoryFile(v1, [s.incident], opts).json).toBe(v2.json);
    // A rolling upgrade: the window's first half from the old correlator, the rest from the new one.
    const mixed = read(all).map((r, i) => (i < all.length / 2 ? v1[i]! : r));
    expect(buildStoryFile(mixed, [s.incident], opts).json).toBe(v2.json);
    // The same entry published by both (no msgId) is one entry.
    const twice = buildStoryFile([...read(all), ...v1.map((r) => ({ ...r, streamSeq: r.streamSeq + 1000, msgId: undefined }))], [s.incident], opts);
    expect(twice.duplicates).toBe(all.length);
    expect(twice.file.timeline).toEqual(v2.file.timeline);
  });

  it("keeps an incident whose context is missing, marked as such", () => {
    const s = story("lost");
    const r = buildStoryFile(read([...s.entries, s.close]), [], opts);
    expect(validateStoryFile(r.file).ok).toBe(true);
    expect(r.file.incidents[0]).toMatchObject({ incidentId: "i-lost-oom", contextMissing: true, logTail: [] });
  });
});
