// Writer throughput on this machine: build+validate of one story file, plain writeFile (baseline) vs the atomic
// write (temp, fsync, rename, dir fsync), and the whole service (read-back over NATS, build, write) per closed story.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { connectBus, ensureStream } from "@faro/bus";
import {
  buildStorySubject,
  decodeStoryEntry,
  encodeStoryEntry,
  orderingKey,
  storyIdFor,
  validateStoryFile,
  type Encodable,
  type EntryKind,
  type StoryEntry,
  type StoryPayloads,
} from "@faro/contracts";
import { loadServiceConfig, startService } from "@faro/kernel";
import { createLogger } from "@faro/observability";
import { startNats } from "@faro/test-harness";
import { buildStoryFile, storyFilePath, writeFileAtomic, writerService } from "@faro/writer";

const STORIES = Number(process.env.BENCH_WRITER_STORIES ?? 100);
const BATCHES = Number(process.env.BENCH_WRITER_BATCHES ?? 40);
const LINES = Number(process.env.BENCH_WRITER_LINES ?? 50);

const at = (s: number) => new Date(Date.UTC(2026, 0, 1) + s * 1000).toISOString();

/** One story window: open, 3 pod entries, BATCHES log batches of LINES lines, events, close. */
function storyEntries(i: number): { subject: string; storyId: string; entries: Encodable<StoryEntry>[] } {
  const name = `bench-${i}`;
  const storyId = storyIdFor("t", "c", "bench", "Deployment", name);
  const pod = { name: `${name}-abc`, uid: `uid-${i}`, node: "n1", replacesPodUid: "" };
  const out: Encodable<StoryEntry>[] = [];
  let seq = 0;
  // Typed payloads; fields left out are encoded as their proto3 default.
  const add = <K extends EntryKind>(kind: K, t: number, payload: Partial<StoryPayloads[K]>, withPod = true) => {
    seq += 16;
    out.push({
      storyId, window: 0, seq, orderingKey: orderingKey(at(t), seq), tenant: "t", cluster: "c", namespace: "bench",
      workload: { apiVersion: "apps/v1", kind: "Deployment", name, uid: `d-${i}` }, entryKind: kind, timestamp: at(t),
      ...(withPod ? { pod } : {}), summary: `${kind} ${seq}`, [kind]: payload,
    } as unknown as Encodable<StoryEntry>);
  };
  add("open", 0, { window: 0, ownerChain: [] }, false);
  add("lifecycle", 1, { what: "started", container: "app", containerType: "regular", restartCount: 0 });
  for (let b = 0; b < BATCHES; b++) {
    const lines = Array.from({ length: LINES }, (_, l) => ({ timestamp: at(2 + b), line: `GET /api/items/${b * LINES + l} 200 12ms user=${l % 17} trace=${(b * 7919 + l).toString(16)}`, truncated: false, originalBytes: 60 }));
    add("log", 2 + b, { container: "app", containerType: "regular", restartCount: 0, source: "follow", seqStart: b * LINES, lines });
    if (b % 10 === 0) add("event", 2 + b, { reason: "Pulled", type: "Normal", message: "pulled", count: 1, source: "kubelet" });
  }
  add("close", BATCHES + 5, { why: "idle", window: 0 }, false);
  return { subject: buildStorySubject("t", "c", "bench", storyId), storyId, entries: out };
}

function fmt(n: number): string {
  return n.toLocaleString("en-US", { maximumFractionDigits: 1 });
}

async function main(): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "faro-bench-writer-"));
  const server = await startNats();
  try {
    // 1. Build + validate, in memory.
    const one = storyEntries(0);
    const read = one.entries.map((e, k) => ({ streamSeq: k + 1, msgId: undefined, entry: decodeStoryEntry(encodeStoryEntry(e)) }));
    const opts = { maxLogLines: 5000, maxBytes: 32 * 1024 * 1024 };
    for (let k = 0; k < 5; k++) validateStoryFile(buildStoryFile(read, [], opts).file);
    let t0 = performance.now();
    const reps = 50;
    let json = "";
    for (let k = 0; k < reps; k++) {
      const b = buildStoryFile(read, [], opts);
      if (!validateStoryFile(b.file).ok) throw new Error("invalid");
      json = b.json;
    }
    const buildMs = (performance.now() - t0) / reps;
    const kib = Buffer.byteLength(json) / 1024;
    console.log(`story: ${one.entries.length} entries, ${BATCHES * LINES} log lines, ${fmt(kib)} KiB`);
    console.log(`build+validate: ${fmt(buildMs)} ms/file (${fmt((BATCHES * LINES) / (buildMs / 1000))} lines/s)`);

    // 2. Plain writeFile (baseline) vs atomic write, same bytes.
    const plainDir = path.join(dir, "plain");
    fs.mkdirSync(plainDir);
    t0 = performance.now();
    for (let k = 0; k < reps; k++) fs.writeFileSync(path.join(plainDir, `f${k}.json`), json);
    const plainMs = (performance.now() - t0) / reps;
    t0 = performance.now();
    for (let k = 0; k < reps; k++) await writeFileAtomic(path.join(dir, "atomic", `f${k}.json`), json);
    const atomicMs = (performance.now() - t0) / reps;
    console.log(`write ${fmt(kib)} KiB: plain writeFileSync ${fmt(plainMs)} ms (baseline), atomic (fsync+rename+dir fsync) ${fmt(atomicMs)} ms`);

    // 3. The service: STORIES stories published, then their closes; time from the first close to the last file.
    const bus = await connectBus({ servers: server.url, name: "bench" });
    for (const spec of writerService.streams) await ensureStream(bus.jsm, spec);
    const stories = Array.from({ length: STORIES }, (_, i) => storyEntries(i));
    for (const s of stories) {
      const body = s.entries.slice(0, -1);
      await Promise.all(body.map((e, k) => bus.js.publish(s.subject, encodeStoryEntry(e), { msgID: `${s.storyId}:${k}` })));
    }
    const config = loadServiceConfig(writerService, { argv: ["--nats.url", server.url, "--cluster", "c", "--dir", path.join(dir, "svc"), "--snapshot.interval", "0", "--log.level", "warn"], env: {} });
    const writer = await startService(writerService, config, { logger: createLogger({ service: "writer", level: "warn" }), http: false });
    const files = stories.map((s) => storyFilePath(path.join(dir, "svc"), "bench", s.storyId, 0));
    t0 = performance.now();
    await Promise.all(stories.map((s) => bus.js.publish(s.subject, encodeStoryEntry(s.entries[s.entries.length - 1]!), { msgID: `${s.storyId}:close` })));
    while (!files.every((f) => fs.existsSync(f))) await new Promise((r) => setTimeout(r, 10));
    const svcMs = performance.now() - t0;
    const entries = stories.reduce((n, s) => n + s.entries.length, 0);
    console.log(
      `service: ${STORIES} closed stories (${fmt(entries)} entries, ${fmt(STORIES * BATCHES * LINES)} log lines) in ${fmt(svcMs)} ms: ` +
        `${fmt(STORIES / (svcMs / 1000))} files/s, ${fmt((STORIES * BATCHES * LINES) / (svcMs / 1000))} log lines/s; RSS ${fmt(process.memoryUsage().rss / 1024 ** 2)} MiB (bench + writer)`,
    );
    await writer.stop();
    await bus.close();
  } finally {
    await server.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

await main();
