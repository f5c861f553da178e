// Retention of story files: removes files older than the maximum age and temp files a crashed writer left.
import fs from "node:fs/promises";
import path from "node:path";
import { isTempFile } from "./atomic.js";

export interface RetentionResult {
  deleted: string[];
  tempRemoved: string[];
  errors: Array<{ file: string; err: unknown }>;
}

/** A temp file this old belongs to a writer that died mid-write (a write takes milliseconds). */
export const STALE_TEMP_MS = 5 * 60_000;

/**
 * Removes `*.json` story files (and their `*.html` pages) in `dir`'s namespace folders not modified for `maxAgeMs` (0 = keep forever),
 * and temp files older than STALE_TEMP_MS. Missing directories are fine.
 */
export async function scanRetention(dir: string, maxAgeMs: number, nowMs: number = Date.now()): Promise<RetentionResult> {
  const result: RetentionResult = { deleted: [], tempRemoved: [], errors: [] };
  let namespaces: string[];
  try {
    namespaces = (await fs.readdir(dir, { withFileTypes: true })).filter((d) => d.isDirectory()).map((d) => d.name);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "ENOENT") result.errors.push({ file: dir, err });
    return result;
  }
  for (const ns of namespaces) {
    const nsDir = path.join(dir, ns);
    let names: string[];
    try {
      names = await fs.readdir(nsDir);
    } catch (err) {
      result.errors.push({ file: nsDir, err });
      continue;
    }
    for (const name of names) {
      const temp = isTempFile(name);
      // Story files, and the HTML pages written beside them (html.enabled).
      if (!temp && !name.endsWith(".json") && !name.endsWith(".html")) continue;
      const file = path.join(nsDir, name);
      try {
        const st = await fs.stat(file);
        const age = nowMs - st.mtimeMs;
        if (temp ? age > STALE_TEMP_MS : maxAgeMs > 0 && age > maxAgeMs) {
          await fs.rm(file, { force: true });
          (temp ? result.tempRemoved : result.deleted).push(file);
        }
      } catch (err) {
        // Another replica removed or replaced it between readdir and stat: nothing to do.
        if ((err as NodeJS.ErrnoException).code !== "ENOENT") result.errors.push({ file, err });
      }
    }
  }
  return result;
}
