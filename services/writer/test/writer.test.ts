// The writer over real NATS JetStream: hand-built story entries in, atomically written, schema-valid story files out.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { connectBus, ensureStream, type Bus } from "@faro/bus";
import { decodeDeadLetter, decodeStoryEntry, FARO_DLQ, validateStoryFile, type StoryFile } from "@faro/contracts";
import { loadServiceConfig, startService, type RunningService } from "@faro/kernel";
import { checkServiceContract, createLogger } from "@faro/observability";
import { startNats, type ManagedServer } from "@faro/test-harness";
import { writerService } from "../src/definition.js";
import { storyFilePath } from "../src/paths.js";
import type { Writer } from "../src/service.js";
import { CLUSTER, entry, publishEntries, publishIncident, story, until } from "./helpers.js";

let nats: ManagedServer;
let bus: Bus;
type Running = RunningService<Writer>;
const writers: Running[] = [];
const dirs: string[] = [];

function tmpDir(): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), "faro-writer-"));
  dirs.push(d);
  return d;
}

function config(dir: string, extra: string[] = []) {
  return loadServiceConfig(writerService, { argv: ["--nats.url", nats.url, "--cluster", CLUSTER, "--dir", dir, "--log.level", "warn", "--snapshot.interval", "0", "--http.port", "0", "--http.host", "127.0.0.1", ...extra], env: {} });
}

/** Starts a writer through the kernel (the same path as `faro run writer`); `http` serves the contract endpoints. */
async function startWriter(dir: string, extra: string[] = [], http = false): Promise<Running> {
  const w = await startService(writerService, config(dir, extra), { logger: createLogger({ service: "writer", level: "warn" }), http });
  writers.push(w);
  return w;
}

async function stopAll(): Promise<void> {
  await Promise.all(writers.splice(0).map((w) => w.stop()));
}

function readJson(file: string): StoryFile | undefined {
  try {
    return JSON.parse(fs.readFileSync(file, "utf8")) as StoryFile;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw err;
  }
}

/** Sum of a counter's series whose labels include `labels`, over the given writers. */
async function count(ws: Running[], name: string, labels: Record<string, string> = {}): Promise<number> {
  let n = 0;
  for (const w of ws) {
    const m = w.handle.metrics.registry.getSingleMetric(name);
    if (!m) continue;
    for (const v of (await m.get()).values) if (Object.entries(labels).every(([k, x]) => v.labels[k] === x)) n += v.value;
  }
  return n;
}

/** The next dead letter of the writer about `originalSubject` (other tests' dead letters are skipped). */
async function nextDeadLetter(originalSubject: string) {
  const c = await bus.js.consumers.get(FARO_DLQ.name, { filter_subjects: "faro.v1.dlq.writer.>" });
  try {
    for (;;) {
      const m = await c.next({ expires: 15_000 });
      if (!m) throw new Error(`no dead letter about ${originalSubject}`);
      const dl = decodeDeadLetter(m.data);
      if (dl.originalSubject === originalSubject) return { subject: m.subject, msgId: m.headers?.get("Nats-Msg-Id"), dl };
    }
  } finally {
    await c.delete().catch(() => undefined);
  }
}

const allFiles = (dir: string): string[] => (fs.existsSync(dir) ? fs.readdirSync(dir, { recursive: true, encoding: "utf8" }).filter((f) => fs.statSync(path.join(dir, f)).isFile()) : []);

beforeAll(async () => {
  nats = await startNats();
  bus = await connectBus({ servers: nats.url, name: "test" });
  // The same streams the kernel provisions for the writer, so tests can publish before a writer runs.
  for (const spec of writerService.streams) await ensureStream(bus.jsm, spec);
});

// Writers share the durable consumer: one left running by a failed test would take the next test's messages.
afterEach(stopAll);

afterAll(async () => {
  await stopAll();
  await bus?.close();
  await nats?.stop();
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});

describe("writer", () => {
  it("writes one valid file per closed window with every entry once, despite duplicates and other windows", async () => {
    const dir = tmpDir();
    const w = await startWriter(dir);
    const s = story("web");
    const next = story("web", { window: 1 });
    await publishIncident(bus.js, s.incident);
    await publishEntries(bus.js, s.sc, s.entries);
    // Entries of the next window on the same subject, and redeliveries the server cannot dedupe (no msgId).
    await publishEntries(bus.js, next.sc, next.entries.slice(0, 4));
    await publishEntries(bus.js, s.sc, s.entries.slice(2, 8), false);
    await publishEntries(bus.js, s.sc, [s.close]);
    const file = storyFilePath(dir, "shop", s.sc.storyId, 0);
    const f = await until(() => readJson(file), 60_000, "story file");
    expect(file).toBe(path.join(dir, "shop", `${s.sc.storyId}-w0.json`));
    expect(validateStoryFile(f)).toEqual({ ok: true, errors: [] });
    expect(f.window).toBe(0);
    expect(f.closeReason).toBe("idle");
    expect(f.timeline).toHaveLength(s.entries.length + 1);
    expect(new Set(f.timeline.map((t) => `${t.kind}|${t.timestamp}|${t.summary}|${JSON.stringify(t.data)}`)).size).toBe(f.timeline.length);
    expect(f.timeline.map((t) => t.summary).sort()).toEqual([...s.entries, s.close].map((b) => b.entry.summary).sort());
    expect(f.stats["duplicates"]).toBe(6);
    const lines = f.timeline.filter((t) => t.kind === "log").reduce((n, t) => n + (t.data["lines"] as unknown[]).length, 0);
    expect(lines).toBe(Object.values(s.logLines).reduce((a, b) => a + b, 0));
    expect(f.pods.map((p) => p.uid)).toEqual(s.podUids);
    expect(f.incidents[0]).toMatchObject({ incidentId: s.incident.incidentId, logTail: [{ line: "panic: out of memory" }] });
    expect(allFiles(dir)).toEqual([path.join("shop", `${s.sc.storyId}-w0.json`)]);
    // The counter moves after the rename and the directory fsync: wait for it rather than race it.
    await until(async () => (await count([w], "faro_writer_files_written_total", { kind: "final" })) >= 1, 60_000, "files written metric");
    expect(await count([w], "faro_writer_files_written_total", { kind: "final" })).toBe(1);
    await stopAll();
  });

  it("two replicas write each story once and completely, with no temp files left; a repeated close rewrites identical bytes", async () => {
    const dir = tmpDir();
    const pair = [await startWriter(dir, ["--limits.maxLogLines", "8"]), await startWriter(dir, ["--limits.maxLogLines", "8"])];
    const stories = Array.from({ length: 8 }, (_, i) => story(`svc-${i}`, { namespace: i % 2 ? "shop" : "pay", logBatches: 4, linesPerBatch: 5 }));
    for (const s of stories) {
      await publishIncident(bus.js, s.incident);
      await publishEntries(bus.js, s.sc, s.entries);
    }
    await Promise.all(stories.map((s) => publishEntries(bus.js, s.sc, [s.close])));
    const files = stories.map((s) => storyFilePath(dir, s.sc.namespace, s.sc.storyId, 0));
    await until(() => files.every((f) => fs.existsSync(f)), 60_000, "all story files");
    const before = files.map((f) => fs.readFileSync(f, "utf8"));
    for (const [i, text] of before.entries()) {
      const f = JSON.parse(text) as StoryFile;
      expect(validateStoryFile(f).ok).toBe(true);
      expect(f.timeline.filter((t) => t.kind !== "log")).toHaveLength(stories[i]!.entries.filter((b) => b.entry.entryKind !== "log").length + 1);
      // 20 lines per pod container, 8 kept: 12 elided per container, counted.
      expect(f.elided.logLines).toEqual({ [`svc-${i}-7d9f-aaaaa/app`]: 12, [`svc-${i}-7d9f-bbbbb/app`]: 12 });
    }
    expect(allFiles(dir).filter((f) => !f.endsWith(".json"))).toEqual([]);
    expect(allFiles(dir)).toHaveLength(stories.length);
    // The counter moves after the rename and the directory fsync: the last file can exist a moment before it counts.
    await until(async () => (await count(pair, "faro_writer_files_written_total", { kind: "final" })) >= stories.length, 60_000, "files written metric");
    expect(await count(pair, "faro_writer_files_written_total", { kind: "final" })).toBe(stories.length);
    // The close again (no msgId): whichever replica takes it rewrites the same bytes.
    await publishEntries(bus.js, stories[0]!.sc, [stories[0]!.close], false);
    await until(async () => (await count(pair, "faro_writer_files_written_total", { kind: "final" })) === stories.length + 1, 60_000, "the rewrite");
    expect(fs.readFileSync(files[0]!, "utf8")).toBe(before[0]);
    expect(allFiles(dir)).toHaveLength(stories.length);
    await stopAll();
  });

  it("read-backs leave no consumer behind: FARO_STORY keeps only the writer's durable, however many stories", async () => {
    const dir = tmpDir();
    const w = await startWriter(dir, ["--snapshot.interval", "50ms"]);
    const consumers = async (stream: string) => {
      const names: string[] = [];
      for await (const ci of bus.jsm.consumers.list(stream)) if (ci) names.push(ci.name); // null: deleted while listed
      return names;
    };
    // Sampled all along: snapshots and closes each read their window (and incidents) back with a consumer of their own.
    let most = 0;
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        most = Math.max(most, (await consumers("FARO_STORY")).length + (await consumers("FARO_INCIDENT")).length);
        await new Promise((r) => setTimeout(r, 20));
      }
    })();
    try {
      const stories = Array.from({ length: 14 }, (_, i) => story(`rb-${i}`, { logBatches: 2, linesPerBatch: 3 }));
      for (const s of stories) {
        await publishIncident(bus.js, s.incident);
        await publishEntries(bus.js, s.sc, s.entries);
      }
      await until(async () => (await count([w], "faro_writer_files_written_total", { kind: "snapshot" })) >= stories.length, 60_000, "a snapshot of every story");
      await Promise.all(stories.map((s) => publishEntries(bus.js, s.sc, [s.close])));
      await until(async () => (await count([w], "faro_writer_files_written_total", { kind: "final" })) >= stories.length, 60_000, "every story file");
    } finally {
      sampling = false;
      await sampler;
    }
    expect(await consumers("FARO_STORY")).toEqual([`${CLUSTER}_writer`]);
    expect(await consumers("FARO_INCIDENT")).toEqual([]);
    // The durable plus the reads in flight at once (at most one per handler).
    expect(most).toBeLessThanOrEqual(1 + 2 * 64);
    expect(most).toBeGreaterThanOrEqual(1);
    await stopAll();
  });

  it("snapshots open windows when they have news, and the close overwrites the snapshot", async () => {
    const dir = tmpDir();
    const w = await startWriter(dir, ["--snapshot.interval", "100ms"]);
    const s = story("snap");
    await publishIncident(bus.js, s.incident);
    await publishEntries(bus.js, s.sc, s.entries.slice(0, 10));
    const file = storyFilePath(dir, "shop", s.sc.storyId, 0);
    const first = await until(() => readJson(file), 60_000, "snapshot");
    expect(first.closeReason).toBe("snapshot");
    expect(first.closedAt).toBeUndefined();
    expect(validateStoryFile(first).ok).toBe(true);
    await publishEntries(bus.js, s.sc, s.entries.slice(10));
    const second = await until(() => {
      const f = readJson(file);
      return f && f.timeline.length === s.entries.length ? f : undefined;
    }, 60_000, "updated snapshot");
    expect(second.closeReason).toBe("snapshot");
    await publishEntries(bus.js, s.sc, [s.close]);
    const final = await until(() => {
      const f = readJson(file);
      return f?.closeReason === "idle" ? f : undefined;
    }, 60_000, "final file");
    expect(final.timeline).toHaveLength(s.entries.length + 1);
    // A straggler of the closed window does not turn the final file back into a snapshot: once it is consumed,
    // neither a snapshot round nor a forced flush rewrites the file.
    const consumed = await count([w], "faro_messages_in_total");
    await publishEntries(bus.js, s.sc, [entry(s.sc, "snap", "event", 40, 99_999, "late event", { reason: "Late", type: "Normal", message: "late", count: 1, source: "x" })]);
    await until(async () => (await count([w], "faro_messages_in_total")) > consumed, 60_000, "the late entry consumed");
    expect(await w.instance.flush()).toBe(0);
    expect(readJson(file)).toEqual(final);
    await stopAll();
  });

  it("flush() writes every story seen so far, with snapshots off", async () => {
    const dir = tmpDir();
    const w = await startWriter(dir);
    const s = story("flush");
    await publishEntries(bus.js, s.sc, s.entries);
    await until(async () => (await count([w], "faro_messages_in_total")) >= s.entries.length, 60_000, "entries consumed");
    const file = storyFilePath(dir, "shop", s.sc.storyId, 0);
    expect(fs.existsSync(file)).toBe(false);
    expect(await w.instance.flush()).toBe(1);
    const f = readJson(file)!;
    expect(f.closeReason).toBe("snapshot");
    expect(f.timeline).toHaveLength(s.entries.length);
    expect(await w.instance.flush()).toBe(0); // nothing new since
    await stopAll();
  });

  it("dead-letters a close whose story does not validate and writes no file (payload withheld by default)", async () => {
    const dir = tmpDir();
    const w = await startWriter(dir);
    const s = story("broken");
    // A change entry without its diff: the file would not validate.
    const bad = entry(s.sc, "broken", "change", 3, 7, "Deployment broken changed", { type: "MODIFIED", kind: "Deployment", name: "broken" });
    await publishEntries(bus.js, s.sc, [...s.entries.slice(0, 3), bad, s.close]);
    const { subject, msgId, dl } = await nextDeadLetter(s.sc.subject);
    expect(subject).toBe("faro.v1.dlq.writer.write");
    expect(msgId).toBe(`dl:writer:write:${dl.streamSeq}`);
    expect(dl).toMatchObject({ service: "writer", stage: "write", reason: "poison message", originalSubject: s.sc.subject, payloadWithheld: true });
    expect(dl.error).toMatch(/does not validate: \/timeline\/\d+\/data: must have required property 'diff'/);
    expect(dl.payload).toHaveLength(0);
    const close = await bus.jsm.streams.getMessage("FARO_STORY", { seq: dl.streamSeq });
    expect(decodeStoryEntry(close!.data).entryKind).toBe("close");
    expect(fs.existsSync(storyFilePath(dir, "shop", s.sc.storyId, 0))).toBe(false);
    expect(await count([w], "faro_writer_validation_failures_total", { kind: "final" })).toBe(1);
    await until(async () => (await count([w], "faro_dead_letters_total", { reason: "write" })) === 1, 15_000, "the dead letter counted");
    await stopAll();
  });

  it("dead-letters an undecodable entry, with the entry itself when deadLetters.includePayload is on", async () => {
    const w = await startWriter(tmpDir(), ["--deadLetters.includePayload", "true"]);
    const s = story("garbled");
    const garbage = new Uint8Array([0xff, 0xff, 0xff, 0x0f, 0x01]);
    await bus.js.publish(s.sc.subject, garbage);
    const { dl } = await nextDeadLetter(s.sc.subject);
    expect(dl).toMatchObject({ service: "writer", stage: "write", originalSubject: s.sc.subject, payloadWithheld: false });
    expect(dl.error).toMatch(/malformed story entry/);
    expect([...dl.payload]).toEqual([...garbage]);
    await until(async () => (await count([w], "faro_dead_letters_total", { reason: "write" })) === 1, 15_000, "the dead letter counted");
    // A good entry after it is consumed as usual: the poison one did not stop the consumer.
    await publishEntries(bus.js, s.sc, s.entries.slice(0, 1));
    await until(async () => (await count([w], "faro_messages_in_total")) === 2, 15_000, "the next entry consumed");
    expect(await w.instance.flush()).toBe(1);
    await stopAll();
  });

  it("follows the service contract, and stop() drains without closing what is not its own", async () => {
    const dir = tmpDir();
    const w = await startWriter(dir, [], true);
    expect(w.instance.readiness()).toBe(true);
    const report = await checkServiceContract(w.handle.http!.url, { expectReady: true });
    expect(report.metrics).toMatch(/faro_queue_capacity\{[^}]*queue="handlers_in_flight"[^}]*\} 16/);
    // The instance's own stop leaves the connection to the kernel; the kernel closes it after.
    await w.instance.stop();
    expect(w.instance.readiness()).toEqual({ ok: false, detail: "stopped" });
    expect(w.bus.nc.isClosed()).toBe(false);
    const [a, b] = [w.stop(), w.stop()];
    expect(a).toBe(b);
    expect((await a).code).toBe(0);
    expect(w.bus.nc.isClosed()).toBe(true);
  });

  it("retention removes files older than the maximum age and stale temp files, and keeps the rest", async () => {
    const dir = tmpDir();
    fs.mkdirSync(path.join(dir, "shop"), { recursive: true });
    const old = path.join(dir, "shop", "s-old-w0.json");
    const fresh = path.join(dir, "shop", "s-new-w0.json");
    const temp = path.join(dir, "shop", ".s-x-w0.json.123-abc.tmp");
    const freshTemp = path.join(dir, "shop", ".s-y-w0.json.123-abc.tmp");
    for (const f of [old, fresh, temp, freshTemp]) fs.writeFileSync(f, "{}");
    const eightDaysAgo = (Date.now() - 8 * 86_400_000) / 1000;
    fs.utimesSync(old, eightDaysAgo, eightDaysAgo);
    fs.utimesSync(temp, eightDaysAgo, eightDaysAgo);
    // The writer scans at start; retention() runs one more scan after it, so both files are gone by then.
    const w = await startWriter(dir, ["--retention.maxAge", "7d"]);
    const r = await w.instance.retention();
    expect(r.errors).toEqual([]);
    expect(fs.existsSync(old)).toBe(false);
    expect(fs.existsSync(temp)).toBe(false);
    expect(fs.existsSync(fresh)).toBe(true);
    expect(fs.existsSync(freshTemp)).toBe(true); // a write in progress elsewhere is left alone
    expect(await count([w], "faro_writer_retention_deletions_total")).toBe(1);
    expect(await count([w], "faro_writer_temp_files_removed_total")).toBe(1);
    // A file that ages past the maximum later is removed by the next scan.
    fs.utimesSync(fresh, eightDaysAgo, eightDaysAgo);
    expect((await w.instance.retention()).deleted).toEqual([fresh]);
    await stopAll();
  });
});
