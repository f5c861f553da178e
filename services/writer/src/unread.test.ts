// Story files list the container instances whose log could not be read (the correlator's log entries
// without lines carrying an unreadReason, data.unread in the file): one per instance, deterministic, schema-valid.
import { decodeStoryEntry, encodeStoryEntry, validateStoryFile, type PodInstance } from "@faro/contracts";
import { describe, expect, it } from "vitest";
import { entry, story, type Built } from "../test/helpers.js";
import { buildStoryFile, type ReadEntry } from "./build.js";

const read = (bs: Built[], startSeq = 1): ReadEntry[] => bs.map((b, i) => ({ streamSeq: startSeq + i, msgId: b.msgId, entry: decodeStoryEntry(encodeStoryEntry(b.entry)) }));
const opts = { maxLogLines: 1000, maxBytes: 32 * 1024 * 1024 };

/** The correlator's entry for an instance whose log was not read (services/correlator handleLogs). */
function unread(s: ReturnType<typeof story>, pod: PodInstance, restartCount: number, reason: "gone_before_read" | "not_served", t: number, seq: number): Built {
  const b = entry(s.sc, "web", "log", t, seq, `log of ${pod.name}/app (restart ${restartCount}) not read: …`, { container: "app", containerType: "regular", restartCount, source: "follow", seqStart: 0, lines: [], unreadReason: reason }, pod);
  b.msgId = `se:${s.sc.storyId}:${s.sc.window}:unread:${pod.uid}:app:${restartCount}`;
  return b;
}

const short1: PodInstance = { name: "web-7d9f-zzzzz", uid: "pod-z", node: "node-1", replacesPodUid: "" };
const short2: PodInstance = { name: "web-7d9f-ccccc", uid: "pod-c", node: "node-2", replacesPodUid: "" };

describe("unreadLogs", () => {
  it("lists each unread instance once, sorted, keeps its timeline entry and its pod instance", () => {
    const s = story("web");
    const marks = [unread(s, short1, 0, "gone_before_read", 21, 900), unread(s, short2, 2, "not_served", 22, 901), unread(s, short2, 1, "not_served", 22, 902)];
    // A redelivery republished under another id (same content); a second marker for the same instance
    // (same id from the correlator: one entry) and one under another id (two entries, still one instance).
    const again = { ...marks[0]!, msgId: "other-id" };
    const later = unread(s, short1, 0, "not_served", 25, 903);
    const other = { ...unread(s, short1, 0, "not_served", 26, 904), msgId: "third-id" };
    const r = buildStoryFile(read([...s.entries, ...marks, again, later, other, s.close]), [s.incident], opts);
    expect(validateStoryFile(r.file)).toEqual({ ok: true, errors: [] });
    expect(r.file.unreadLogs).toEqual([
      { pod: "web-7d9f-ccccc", podUid: "pod-c", container: "app", restartCount: 1, reason: "not_served" },
      { pod: "web-7d9f-ccccc", podUid: "pod-c", container: "app", restartCount: 2, reason: "not_served" },
      // the first entry in story order names the instance's reason
      { pod: "web-7d9f-zzzzz", podUid: "pod-z", container: "app", restartCount: 0, reason: "gone_before_read" },
    ]);
    const entries = r.file.timeline.filter((t) => t.kind === "log" && t.data["unread"] !== undefined);
    expect(entries).toHaveLength(4);
    expect(r.duplicates).toBe(2);
    expect(entries[0]).toMatchObject({ pod: "web-7d9f-zzzzz", container: "app", data: { lines: [], unread: { reason: "gone_before_read" } } });
    expect(r.file.pods.find((p) => p.uid === "pod-z")!.containers).toEqual([{ name: "app", type: "regular", instances: [{ restartCount: 0 }] }]);
    expect(r.file.stats).toMatchObject({ logLines: 12, logLinesTotal: 12 });
  });

  it("is deterministic and survives elision; a window where every log was read has no unreadLogs", () => {
    const s = story("web", { logBatches: 4, linesPerBatch: 5 });
    const all = [...s.entries, unread(s, short1, 0, "gone_before_read", 21, 900), s.close];
    const a = buildStoryFile(read(all), [s.incident], opts);
    const b = buildStoryFile(read([...all].reverse()), [s.incident], opts);
    expect(b.json).toBe(a.json);
    // A bound that drops most lines keeps the entry without lines and the list.
    const tight = buildStoryFile(read(all), [s.incident], { ...opts, maxLogLines: 2 });
    expect(tight.elidedLines).toBeGreaterThan(0);
    expect(tight.file.unreadLogs).toEqual(a.file.unreadLogs);
    expect(tight.file.timeline.some((t) => t.data["unread"] !== undefined)).toBe(true);
    expect(validateStoryFile(tight.file).ok).toBe(true);
    const plain = buildStoryFile(read([...s.entries, s.close]), [s.incident], opts);
    expect("unreadLogs" in plain.file).toBe(false);
    expect(plain.json).not.toContain("unreadLogs");
  });
});
