// Story cleanup with a dry run: selects story files by age, namespace, tenant, cluster and incident reason, and
// removes them (with their HTML pages) and, for stories removed whole, their entries on FARO_STORY.
import fs from "node:fs/promises";
import path from "node:path";
import type { Bus } from "@faro/bus";
import { FARO_STORY, storyFilter, type StoryFile } from "@faro/contracts";

type JetStreamManager = Bus["jsm"];

export interface CleanupFilter {
  /** Only files whose last activity (closedAt, else the file's modification time) is older than this many ms. */
  olderThanMs?: number;
  namespace?: string;
  tenant?: string;
  cluster?: string;
  /** Only stories with an incident of this reason (`CrashLoopBackOff`, `SecurityFinding`, …). */
  reason?: string;
}

export interface StoryListing {
  /** Relative to the story directory: `<namespace>/<storyId>-w<window>.json`. */
  file: string;
  storyId: string;
  window: number;
  tenant: string;
  cluster: string;
  namespace: string;
  workload: string;
  closeReason: string;
  lastActivity: string;
  incidents: string[];
  bytes: number;
}

export interface CleanupResult {
  dryRun: boolean;
  /** Every file selected (and, when not a dry run, removed): story files and the HTML pages beside them. */
  files: string[];
  stories: StoryListing[];
  /** FARO_STORY messages of the stories selected whole (every window's file selected): removed unless dry run. */
  busMessages: number;
  /** Story ids whose bus messages are kept because a window of theirs is outside the filter. */
  busKept: string[];
  /** Files that could not be read or parsed (never selected). */
  unreadable: { file: string; error: string }[];
}

async function readAll(dir: string): Promise<{ stories: StoryListing[]; unreadable: { file: string; error: string }[] }> {
  const stories: StoryListing[] = [];
  const unreadable: { file: string; error: string }[] = [];
  let namespaces: string[];
  try {
    namespaces = (await fs.readdir(dir, { withFileTypes: true })).filter((d) => d.isDirectory()).map((d) => d.name);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return { stories, unreadable };
    throw err;
  }
  for (const ns of namespaces.sort()) {
    for (const name of (await fs.readdir(path.join(dir, ns))).filter((n) => n.endsWith(".json") && !n.startsWith(".")).sort()) {
      const rel = path.join(ns, name);
      try {
        const full = path.join(dir, rel);
        const [text, st] = await Promise.all([fs.readFile(full, "utf8"), fs.stat(full)]);
        const s = JSON.parse(text) as StoryFile;
        stories.push({
          file: rel,
          storyId: s.storyId,
          window: s.window,
          tenant: s.tenant,
          cluster: s.cluster,
          namespace: s.namespace,
          workload: `${s.workload.kind}/${s.workload.name}`,
          closeReason: s.closeReason ?? "",
          lastActivity: s.closedAt ?? st.mtime.toISOString(),
          incidents: [...new Set((s.incidents ?? []).map((i) => i.reason))].sort(),
          bytes: Buffer.byteLength(text),
        });
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== "ENOENT") unreadable.push({ file: rel, error: (err as Error).message });
      }
    }
  }
  return { stories, unreadable };
}

function matches(s: StoryListing, f: CleanupFilter, nowMs: number): boolean {
  if (f.namespace !== undefined && s.namespace !== f.namespace) return false;
  if (f.tenant !== undefined && s.tenant !== f.tenant) return false;
  if (f.cluster !== undefined && s.cluster !== f.cluster) return false;
  if (f.reason !== undefined && !s.incidents.includes(f.reason)) return false;
  if (f.olderThanMs !== undefined && !(Date.parse(s.lastActivity) < nowMs - f.olderThanMs)) return false;
  return true;
}

/** The story files the filter selects (GET /v1/stories, and what a cleanup would remove). */
export async function listStories(dir: string, filter: CleanupFilter, nowMs: number = Date.now()): Promise<{ stories: StoryListing[]; unreadable: { file: string; error: string }[] }> {
  const all = await readAll(dir);
  return { stories: all.stories.filter((s) => matches(s, filter, nowMs)), unreadable: all.unreadable };
}

async function busCount(jsm: JetStreamManager, subject: string): Promise<number> {
  const info = await jsm.streams.info(FARO_STORY.name, { subjects_filter: subject });
  return Object.values(info.state.subjects ?? {}).reduce((a, b) => a + b, 0);
}

/**
 * Selects like listStories; unless `dryRun`, removes the files (and `.html` pages beside them) and purges FARO_STORY
 * of the stories selected whole. A dry run answers exactly what the real run then removes (same selection).
 */
export async function cleanup(dir: string, filter: CleanupFilter, options: { dryRun: boolean; jsm?: JetStreamManager; nowMs?: number }): Promise<CleanupResult> {
  const nowMs = options.nowMs ?? Date.now();
  const all = await readAll(dir);
  const stories = all.stories.filter((s) => matches(s, filter, nowMs));
  const files: string[] = [];
  for (const s of stories) {
    files.push(s.file);
    const html = s.file.replace(/\.json$/, ".html");
    if (await fs.stat(path.join(dir, html)).then(() => true, () => false)) files.push(html);
  }
  // A story's entries are one subject; they go only when no window of the story stays behind.
  const selected = new Set(stories.map((s) => s.file));
  const whole = new Map<string, StoryListing>();
  const busKept: string[] = [];
  for (const s of stories) {
    const others = all.stories.filter((o) => o.storyId === s.storyId && !selected.has(o.file));
    if (others.length === 0) whole.set(s.storyId, s);
    else if (!busKept.includes(s.storyId)) busKept.push(s.storyId);
  }
  let busMessages = 0;
  if (options.jsm) {
    for (const s of whole.values()) {
      const subject = storyFilter({ tenant: s.tenant, cluster: s.cluster, namespace: s.namespace, storyId: s.storyId });
      const n = await busCount(options.jsm, subject);
      busMessages += n;
      if (!options.dryRun && n > 0) await options.jsm.streams.purge(FARO_STORY.name, { filter: subject });
    }
  }
  if (!options.dryRun) {
    for (const f of files) {
      await fs.rm(path.join(dir, f), { force: true });
    }
  }
  return { dryRun: options.dryRun, files, stories, busMessages, busKept: busKept.sort(), unreadable: all.unreadable };
}
