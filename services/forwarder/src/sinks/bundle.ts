// The bundle of an incident revision for the object storage and directory sinks: the incident, the story file at
// that time and the full logs of the failing container's instances, under `<cluster>/<namespace>/<incidentId>/<repeatCount>/`
// (each segment escaped like a subject token). Logs come from the story's `log` entries on FARO_STORY: they are
// redacted and kept as long as the story (FARO_RAW is never redacted, FARO_CLEAN batches are not per instance).
import fs from "node:fs/promises";
import path from "node:path";
import type { Bus } from "@faro/bus";
import { buildStorySubject, CLUSTER_SCOPE_TOKEN, decodeStoryEntry, escapeToken, FARO_STORY, toCanonicalJson, type StoryEntry } from "@faro/contracts";
import { retryable } from "../errors.js";
import { deliveryJson, type Delivery } from "../incident.js";

/** Where the story comes from and how long a read of it may stall. */
export interface BundleSource {
  readonly js: Bus["js"];
  readonly jsm: Bus["jsm"];
  /** The writer's story directory (`bundle.storyDir`); unset: the story is rebuilt from FARO_STORY. */
  readonly storyDir: string | undefined;
  readonly readTimeoutMs: number;
}

export interface BundleFile {
  /** Path inside the bundle (`incident.json`, `logs/…`). */
  readonly name: string;
  readonly body: string;
  readonly contentType: string;
}

/** `<cluster>/<namespace>/<incidentId>/<repeatCount>`: the folder (key prefix) of one revision's bundle. */
export function bundleSegments(d: Delivery): string[] {
  const i = d.incident;
  return [escapeToken(i.cluster), escapeToken(i.namespace), escapeToken(i.incidentId), String(i.repeatCount)];
}

/** Every entry of the story on its exact subject, up to the newest one at the time of the call. */
export async function readStoryEntries(src: BundleSource, d: Delivery): Promise<StoryEntry[]> {
  const i = d.incident;
  const subject = buildStorySubject(i.tenant, i.cluster, i.namespace, i.storyId);
  const fail = (why: string, cause?: unknown) => retryable(d.sink, d.key, `reading story ${i.storyId} from ${FARO_STORY.name}: ${why}`, { kind: "story_read" }, cause);
  let endSeq = 0;
  try {
    endSeq = (await src.jsm.streams.getMessage(FARO_STORY.name, { last_by_subj: subject }))?.seq ?? 0;
  } catch (err) {
    // No message on the subject: the story aged out or never reached the bus; the bundle says so.
    if (/no message found|404/i.test((err as Error).message)) return [];
    throw fail("last message", err);
  }
  if (endSeq === 0) return [];
  // An ephemeral ordered consumer, as the writer's read-back: nothing is left on the stream after the read.
  const consumer = await src.js.consumers.get(FARO_STORY.name, { filter_subjects: subject, deliver_policy: "all" as never, inactive_threshold: 10_000 }).catch((err: unknown) => {
    throw fail("creating the read", err);
  });
  const messages = await consumer.consume({ max_messages: 512 });
  const entries: StoryEntry[] = [];
  let timer: NodeJS.Timeout | undefined;
  let stalled = false;
  const arm = () => {
    clearTimeout(timer);
    timer = setTimeout(() => {
      stalled = true;
      void messages.close().catch(() => undefined);
    }, src.readTimeoutMs);
  };
  let reached = false;
  try {
    arm();
    for await (const m of messages) {
      arm();
      try {
        entries.push(decodeStoryEntry(m.data));
      } catch {
        // An undecodable entry was dead-lettered by the writer; the bundle is built from the rest.
      }
      if (m.seq >= endSeq || m.info.pending === 0) {
        reached = true;
        break;
      }
    }
  } finally {
    clearTimeout(timer);
    await messages.close().catch(() => undefined);
  }
  if (!reached) throw fail(stalled ? `nothing for ${src.readTimeoutMs}ms` : "the read ended early");
  return entries;
}

/** A path segment of the writer's layout (`<dir>/<namespace or _cluster>/<storyId>-w<window>.json`). */
function writerSegment(s: string): string {
  return /^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(s) ? s : encodeURIComponent(s).replace(/^\./, "%2E");
}

/** The newest window file of the story in the writer's directory, when there is one. */
async function readStoryFile(dir: string, d: Delivery): Promise<{ file: string; text: string } | undefined> {
  const i = d.incident;
  const nsDir = path.join(dir, i.namespace === "" ? CLUSTER_SCOPE_TOKEN : writerSegment(i.namespace));
  const prefix = `${writerSegment(i.storyId)}-w`;
  let names: string[];
  try {
    names = await fs.readdir(nsDir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw retryable(d.sink, d.key, `reading the story directory failed (${(err as NodeJS.ErrnoException).code ?? "error"})`, { kind: "io" }, err);
  }
  const windows = names
    .filter((n) => n.startsWith(prefix) && n.endsWith(".json"))
    .map((n) => ({ n, w: Number(n.slice(prefix.length, -".json".length)) }))
    .filter((x) => Number.isInteger(x.w))
    .sort((a, b) => b.w - a.w);
  if (windows.length === 0) return undefined;
  const file = path.join(nsDir, windows[0]!.n);
  return { file, text: await fs.readFile(file, "utf8") };
}

const json = (v: unknown) => JSON.stringify(v, null, 2) + "\n";

/**
 * The files of a revision's bundle, `bundle.json` (the index) last: written last, its presence marks a complete
 * bundle. Logs: one file per instance (restart) of the failing container of the failing pod, every line the story
 * holds, `<timestamp> <line>` per line.
 */
export async function buildBundle(src: BundleSource, d: Delivery): Promise<BundleFile[]> {
  const i = d.incident;
  const files: BundleFile[] = [{ name: "incident.json", body: json(deliveryJson(d)), contentType: "application/json" }];
  const entries = await readStoryEntries(src, d);
  const fromDir = src.storyDir !== undefined ? await readStoryFile(src.storyDir, d) : undefined;
  let storySource: string;
  if (fromDir) {
    files.push({ name: "story.json", body: fromDir.text, contentType: "application/json" });
    storySource = "writer";
  } else {
    const story = { storyId: i.storyId, source: "FARO_STORY", entries: entries.map((e) => toCanonicalJson("StoryEntry", e)) };
    files.push({ name: "story.json", body: json(story), contentType: "application/json" });
    storySource = "bus";
  }
  const logs = new Map<number, string[]>();
  const podUid = i.pod?.uid ?? "";
  for (const e of entries) {
    if (e.entryKind !== "log" || e.log.container !== i.container || (podUid !== "" && e.pod?.uid !== podUid)) continue;
    const lines = logs.get(e.log.restartCount) ?? [];
    for (const l of e.log.lines) lines.push(`${l.timestamp} ${l.line}`);
    logs.set(e.log.restartCount, lines);
  }
  const logFiles: { instance: string; file: string; lines: number }[] = [];
  for (const [restart, lines] of [...logs].sort((a, b) => a[0] - b[0])) {
    const name = `logs/${escapeToken(i.pod?.name ?? "pod")}.${escapeToken(i.container)}.${restart}.log`;
    files.push({ name, body: lines.join("\n") + (lines.length ? "\n" : ""), contentType: "text/plain; charset=utf-8" });
    logFiles.push({ instance: `${i.pod?.name ?? ""}/${i.container}#${restart}`, file: name, lines: lines.length });
  }
  const index = {
    schemaVersion: 1,
    idempotencyKey: d.key,
    incidentId: i.incidentId,
    repeatCount: i.repeatCount,
    storyId: i.storyId,
    story: { file: "story.json", source: storySource, ...(fromDir ? { path: fromDir.file } : { entries: entries.length }) },
    logs: logFiles,
    files: files.map((f) => f.name),
  };
  files.push({ name: "bundle.json", body: json(index), contentType: "application/json" });
  return files;
}
