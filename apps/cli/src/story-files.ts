// Reads the story files of a directory back (validated against the JSON Schema) for summaries and checks.
import fs from "node:fs";
import path from "node:path";
import { validateStoryFile, type StoryFile } from "@faro/contracts";

export interface ReadStory {
  path: string;
  story: StoryFile;
  /** Schema problems; empty when the file is valid. */
  errors: string[];
}

/**
 * Every `*.json` under `dir` (one level of namespace folders), optionally only one cluster's. Unparseable files
 * are reported as errors; `validate: false` skips the schema check (listing and lookup by name).
 */
export function readStoryFiles(dir: string, filter: { cluster?: string; namespace?: string; validate?: boolean } = {}): ReadStory[] {
  const out: ReadStory[] = [];
  if (!fs.existsSync(dir)) return out;
  for (const ns of fs.readdirSync(dir, { withFileTypes: true })) {
    if (!ns.isDirectory()) continue;
    for (const f of fs.readdirSync(path.join(dir, ns.name))) {
      if (!f.endsWith(".json") || f.startsWith(".")) continue;
      const p = path.join(dir, ns.name, f);
      let obj: unknown;
      try {
        obj = JSON.parse(fs.readFileSync(p, "utf8"));
      } catch (err) {
        out.push({ path: p, story: {} as StoryFile, errors: [`not JSON: ${(err as Error).message}`] });
        continue;
      }
      const story = obj as StoryFile;
      if (filter.cluster !== undefined && story.cluster !== filter.cluster) continue;
      if (filter.namespace !== undefined && story.namespace !== filter.namespace) continue;
      if (filter.validate === false) {
        out.push({ path: p, story, errors: [] });
        continue;
      }
      const v = validateStoryFile(obj);
      out.push({ path: p, story, errors: v.ok ? [] : v.errors });
    }
  }
  return out.sort((a, b) => a.path.localeCompare(b.path));
}

/** Incidents by reason over a set of stories (each incident once, by id). */
export function incidentsByReason(stories: readonly ReadStory[]): Map<string, number> {
  const seen = new Set<string>();
  const counts = new Map<string, number>();
  for (const s of stories) {
    for (const i of s.story.incidents ?? []) {
      if (seen.has(i.incidentId)) continue;
      seen.add(i.incidentId);
      counts.set(i.reason, (counts.get(i.reason) ?? 0) + 1);
    }
  }
  return new Map([...counts].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])));
}
