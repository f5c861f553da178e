// The story files `faro mcp` serves: an index of their metadata (re-read only when a file changed) and full
// reads on demand; every read is scoped to the caller's tenants by the file's own `tenant`.
import fs from "node:fs";
import path from "node:path";
import { validateStoryFile, type StoryFile } from "@faro/contracts";
import { canSee, type Principal } from "./config.js";

export interface StorySummary {
  path: string;
  mtimeMs: number;
  size: number;
  storyId: string;
  window: number;
  tenant: string;
  cluster: string;
  namespace: string;
  workload: { kind: string; name: string };
  openedAt: string;
  closedAt?: string;
  closeReason?: string;
  pods: { name: string; uid: string; deletedAt?: string }[];
  incidents: { incidentId: string; reason: string; severity: string; detectedAt: string; repeatCount: number; container?: string }[];
  logLines: number;
}

/** `faro://story/<cluster>/<storyId>/<window>`: one window of a story (one file). */
export const storyUri = (s: { cluster: string; storyId: string; window: number }) => `faro://story/${encodeURIComponent(s.cluster)}/${encodeURIComponent(s.storyId)}/${s.window}`;

/** Milliseconds of an RFC3339 timestamp (nanoseconds dropped); NaN when unparseable. */
export const ms = (t: string | undefined): number => (t === undefined ? NaN : Date.parse(t));

export class StoryIndex {
  private readonly cache = new Map<string, StorySummary>();

  constructor(
    readonly dir: string,
    private readonly onInvalid: (file: string, why: string) => void,
  ) {}

  /** Every valid story file's summary (re-parses only files whose mtime or size changed). */
  scan(): StorySummary[] {
    const seen = new Set<string>();
    const out: StorySummary[] = [];
    let namespaces: fs.Dirent[];
    try {
      namespaces = fs.readdirSync(this.dir, { withFileTypes: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") return [];
      throw err;
    }
    for (const ns of namespaces) {
      if (!ns.isDirectory()) continue;
      let files: string[];
      try {
        files = fs.readdirSync(path.join(this.dir, ns.name));
      } catch {
        continue; // removed by retention between the two reads
      }
      for (const f of files) {
        // Temp files start with "." and never end in ".json" (docs/story-format.md).
        if (!f.endsWith(".json") || f.startsWith(".")) continue;
        const p = path.join(this.dir, ns.name, f);
        let st: fs.Stats;
        try {
          st = fs.statSync(p);
        } catch {
          continue;
        }
        seen.add(p);
        const cached = this.cache.get(p);
        if (cached && cached.mtimeMs === st.mtimeMs && cached.size === st.size) {
          out.push(cached);
          continue;
        }
        const story = this.readFile(p);
        if (story === undefined) continue;
        const summary = summarize(p, st, story);
        this.cache.set(p, summary);
        out.push(summary);
      }
    }
    for (const p of this.cache.keys()) if (!seen.has(p)) this.cache.delete(p);
    return out;
  }

  /** The summaries the principal may see, filtered. */
  visible(p: Principal, f: { cluster?: string; namespace?: string; workload?: string; tenant?: string } = {}): StorySummary[] {
    return this.scan().filter(
      (s) =>
        canSee(p, s.tenant) &&
        (f.tenant === undefined || s.tenant === f.tenant) &&
        (f.cluster === undefined || s.cluster === f.cluster) &&
        (f.namespace === undefined || s.namespace === f.namespace) &&
        (f.workload === undefined || s.workload.name === f.workload),
    );
  }

  /** The whole file behind a summary (undefined when it vanished or stopped validating since). */
  read(s: StorySummary): StoryFile | undefined {
    const story = this.readFile(s.path);
    // Access was checked on the summary; re-check on the file actually read (it may have been replaced).
    return story && story.tenant === s.tenant ? story : undefined;
  }

  private readFile(p: string): StoryFile | undefined {
    let obj: unknown;
    try {
      obj = JSON.parse(fs.readFileSync(p, "utf8"));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "ENOENT") this.onInvalid(p, `not JSON: ${(err as Error).message}`);
      return undefined;
    }
    const v = validateStoryFile(obj);
    if (!v.ok) {
      this.onInvalid(p, v.errors.slice(0, 3).join("; "));
      return undefined;
    }
    return obj as StoryFile;
  }
}

function summarize(p: string, st: fs.Stats, s: StoryFile): StorySummary {
  let logLines = 0;
  for (const e of s.timeline) if (e.kind === "log") logLines += ((e.data.lines as unknown[] | undefined) ?? []).length;
  return {
    path: p,
    mtimeMs: st.mtimeMs,
    size: st.size,
    storyId: s.storyId,
    window: s.window,
    tenant: s.tenant,
    cluster: s.cluster,
    namespace: s.namespace,
    workload: { kind: s.workload.kind, name: s.workload.name },
    openedAt: s.openedAt,
    ...(s.closedAt === undefined ? {} : { closedAt: s.closedAt }),
    ...(s.closeReason === undefined ? {} : { closeReason: s.closeReason }),
    pods: s.pods.map((x) => ({ name: x.name, uid: x.uid, ...(x.deletedAt === undefined ? {} : { deletedAt: x.deletedAt }) })),
    incidents: s.incidents.map((i) => ({
      incidentId: i.incidentId,
      reason: i.reason,
      severity: i.severity,
      detectedAt: i.detectedAt,
      repeatCount: i.repeatCount,
      ...(i.container === undefined ? {} : { container: i.container }),
    })),
    logLines,
  };
}

/** A closed window's file (not a snapshot) is final. */
export const isClosed = (s: { closeReason?: string }) => s.closeReason !== undefined && s.closeReason !== "snapshot";
