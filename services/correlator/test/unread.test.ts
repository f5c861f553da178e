// A container instance whose log was never read (pod gone first, log no longer served): the end marker's
// unreadReason becomes one story entry, a log entry without lines, under a message id of its own.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Redis } from "ioredis";
import type { Encodable, StoryEntry } from "@faro/contracts";
import { startRedis, type ManagedServer } from "@faro/test-harness";
import { Processor } from "../src/processor.js";
import { DEFAULT_SETTINGS } from "../src/settings.js";
import { CorrelatorState } from "../src/state.js";
import { pod } from "../src/fixtures.test-util.js";
import { change, event, logs, RecordingSink, TENANT, workload } from "./helpers.js";

let server: ManagedServer;
let redis: Redis;
let n = 0;

beforeAll(async () => {
  server = await startRedis();
  redis = new Redis(server.url, { maxRetriesPerRequest: 2 });
});
afterAll(async () => {
  redis?.disconnect();
  await server?.stop();
});

/** Every publish, repeats included (the RecordingSink keeps the first per msgId, as JetStream would). */
class AllPublishes extends RecordingSink {
  readonly ids: string[] = [];
  override async publishEntry(subject: string, entry: Encodable<StoryEntry>, msgId: string): Promise<void> {
    this.ids.push(msgId);
    await super.publishEntry(subject, entry, msgId);
  }
}

function processor(prefix: string, sink: RecordingSink) {
  return new Processor({ state: new CorrelatorState(redis, prefix), sink, settings: { ...DEFAULT_SETTINGS, settleMs: 0 } });
}

const DEP = { kind: "Deployment", name: "web", uid: "dep-1" };
const RS = { kind: "ReplicaSet", name: "web-7d4b9c", uid: "rs-1" };
const POD = "web-7d4b9c-short";

/** The deployment, its ReplicaSet and a pod that was killed and deleted at 00:00:30 in the cluster's time. */
async function deletedPod(p: Processor): Promise<void> {
  await p.handleChange(TENANT, change(workload("Deployment", "web", "dep-1"), "ADDED"));
  await p.handleChange(TENANT, change(workload("ReplicaSet", "web-7d4b9c", "rs-1", DEP), "ADDED"));
  await p.handleChange(TENANT, change(pod({ name: POD, uid: "pod-s", rv: "10", owner: RS }), "ADDED"));
  await p.handleEvent(TENANT, event("Killing", { kind: "Pod", name: POD, uid: "pod-s" }, "2026-01-01T00:00:30Z", { type: "Normal" }));
  await p.handleChange(TENANT, change(pod({ name: POD, uid: "pod-s", rv: "11", owner: RS, deletionTimestamp: "2026-01-01T00:00:30Z" }), "DELETED"));
}

/** The log-streamer's end marker of an instance it could not read; observed at a wall clock far behind the cluster's. */
function marker(reason: "gone_before_read" | "not_served", observedAtMs = Date.UTC(2025, 0, 1)) {
  return { ...logs(POD, "pod-s", 0, 0, [], RS, true), observedAtMs, unreadReason: reason };
}

const entriesOf = (sink: RecordingSink) => [...sink.entries.entries()].map(([msgId, e]) => ({ msgId, ...e.entry }));

describe("unread instance logs", () => {
  it("an end marker with unreadReason is one log entry without lines, saying why, dated by the cluster's clock", async () => {
    const sink = new RecordingSink();
    const p = processor(`u${++n}:`, sink);
    await deletedPod(p);
    await p.handleLogs(TENANT, marker("gone_before_read"));
    const logEntries = entriesOf(sink).filter((e) => e.entryKind === "log");
    expect(logEntries).toHaveLength(1);
    const e = logEntries[0]!;
    expect(e.msgId).toBe(`se:${e.storyId}:0:unread:pod-s:app:0`);
    expect(e.summary).toBe(`log of ${POD}/app (restart 0) not read: the pod was deleted before its log was read`);
    expect(e.pod).toMatchObject({ name: POD, uid: "pod-s", node: "node-1" });
    expect(e.workload).toMatchObject({ kind: "Deployment", name: "web" });
    expect(e.log).toEqual({ container: "app", containerType: "regular", restartCount: 0, source: "follow", seqStart: 0, lines: [], unreadReason: "gone_before_read" });
    // Not the streamer's wall clock (a year earlier), but the cluster's time: after the pod's deletion.
    expect(e.timestamp).toBe("2026-01-01T00:00:30.000Z");
    const deleted = entriesOf(sink).find((x) => x.entryKind === "change" && x.summary === `Pod ${POD} deleted`)!;
    expect(deleted.timestamp).toBe(e.timestamp);
  });

  it("a redelivered marker, or one handled by another replica, is the same message", async () => {
    const sink = new AllPublishes();
    const prefix = `u${++n}:`;
    const a = processor(prefix, sink);
    const b = processor(prefix, sink);
    await deletedPod(a);
    await a.handleLogs(TENANT, marker("not_served"));
    await a.handleLogs(TENANT, marker("not_served"));
    await b.handleLogs(TENANT, marker("not_served", Date.UTC(2025, 0, 2)));
    const ids = sink.ids.filter((id) => id.includes(":unread:"));
    expect(ids).toHaveLength(3);
    expect(new Set(ids).size).toBe(1);
    const unread = entriesOf(sink).filter((e) => e.entryKind === "log");
    expect(unread).toHaveLength(1);
    expect(unread[0]!.summary).toContain("not read: the API no longer serves it");
    expect(unread[0]!.log?.unreadReason).toBe("not_served");
  });

  it("a stream read to its end tells nothing more: an empty marker without reason publishes no entry", async () => {
    const sink = new RecordingSink();
    const p = processor(`u${++n}:`, sink);
    await deletedPod(p);
    const before = sink.entries.size;
    await p.handleLogs(TENANT, logs(POD, "pod-s", 0, 3, [], RS, true));
    expect(sink.entries.size).toBe(before);
    // A reason on a batch that is not the end marker is not the log-streamer's contract: ignored.
    await p.handleLogs(TENANT, { ...logs(POD, "pod-s", 0, 0, [["2026-01-01T00:00:10Z", "hello"]], RS), unreadReason: "gone_before_read" });
    const added = entriesOf(sink).slice(before);
    expect(added.map((e) => e.entryKind)).toEqual(["log"]);
    expect(added[0]!.log?.lines).toHaveLength(1);
    expect(added[0]!.log?.unreadReason).toBeUndefined();
  });
});
