// Reading story files back: listing a story directory and finding one file by id (used by `faro stories`).
import fs from "node:fs/promises";
import path from "node:path";
import type { StoryFile } from "@faro/contracts";
import { StoryNotFoundError } from "./errors.js";

export interface StoryFileSummary {
  /** File stem, `<storyId>-w<window>`: what `faro stories show` accepts. */
  id: string;
  path: string;
  storyId: string;
  window: number;
  namespace: string;
  workload: string;
  pods: number;
  /** Incidents by reason. */
  incidents: Record<string, number>;
  /** "closed" for a final file, "snapshot" while the window is open. */
  state: "closed" | "snapshot";
  closeReason: string;
  openedAt: string;
  closedAt: string | undefined;
  bytes: number;
}

export interface UnreadableFile {
  path: string;
  error: string;
}

/** The story files under `dir` (one folder per namespace), sorted by namespace, then opening time. */
export async function listStoryFiles(dir: string): Promise<{ files: StoryFileSummary[]; unreadable: UnreadableFile[] }> {
  const files: StoryFileSummary[] = [];
  const unreadable: UnreadableFile[] = [];
  let namespaces: string[];
  try {
    namespaces = (await fs.readdir(dir, { withFileTypes: true })).filter((d) => d.isDirectory()).map((d) => d.name);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return { files, unreadable };
    throw err;
  }
  for (const ns of namespaces.sort()) {
    const names = (await fs.readdir(path.join(dir, ns))).filter((n) => n.endsWith(".json") && !n.startsWith("."));
    for (const name of names.sort()) {
      const file = path.join(dir, ns, name);
      try {
        const text = await fs.readFile(file, "utf8");
        files.push(summarize(JSON.parse(text) as StoryFile, file, Buffer.byteLength(text)));
      } catch (err) {
        // A file removed by retention between readdir and read is simply gone.
        if ((err as NodeJS.ErrnoException).code !== "ENOENT") unreadable.push({ path: file, error: (err as Error).message });
      }
    }
  }
  files.sort((a, b) => (a.namespace < b.namespace ? -1 : a.namespace > b.namespace ? 1 : a.openedAt < b.openedAt ? -1 : a.openedAt > b.openedAt ? 1 : a.id < b.id ? -1 : 1));
  return { files, unreadable };
}

export function summarize(s: StoryFile, file: string, bytes: number): StoryFileSummary {
  const incidents: Record<string, number> = {};
  for (const i of s.incidents ?? []) incidents[i.reason] = (incidents[i.reason] ?? 0) + 1;
  return {
    id: path.basename(file, ".json"),
    path: file,
    storyId: s.storyId,
    window: s.window,
    namespace: s.namespace,
    workload: `${s.workload?.kind ?? "?"}/${s.workload?.name ?? "?"}`,
    pods: s.pods?.length ?? 0,
    incidents,
    state: s.closeReason === "snapshot" || !s.closedAt ? "snapshot" : "closed",
    closeReason: s.closeReason ?? "",
    openedAt: s.openedAt,
    closedAt: s.closedAt,
    bytes,
  };
}

/**
 * Finds the file `id` names: a path to a file, a file stem (`s-…-w1`), a story id (its newest window) or a
 * unique prefix of either. Throws StoryNotFoundError.
 */
export async function findStoryFile(dir: string, id: string): Promise<string> {
  // A path to an existing file wins; anything else is looked up as an id.
  if (id.endsWith(".json") && (await fs.access(id).then(() => true, () => false))) return id;
  const { files } = await listStoryFiles(dir);
  const stem = id.replace(/\.json$/, "");
  const exact = files.find((f) => f.id === stem);
  if (exact) return exact.path;
  const byStory = files.filter((f) => f.storyId === stem).sort((a, b) => b.window - a.window);
  if (byStory[0]) return byStory[0].path;
  const prefixed = files.filter((f) => f.id.startsWith(stem));
  const stories = new Set(prefixed.map((f) => f.storyId));
  if (prefixed.length > 0 && stories.size === 1) return prefixed.sort((a, b) => b.window - a.window)[0]!.path;
  throw new StoryNotFoundError(id, dir);
}
