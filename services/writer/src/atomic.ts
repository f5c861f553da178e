// Atomic file replacement: unique temp file in the same directory, fsync, rename, fsync of the directory.
import { randomBytes } from "node:crypto";
import fs from "node:fs/promises";
import path from "node:path";
import { StoryWriteError } from "./errors.js";

/** Temp files start with "." and end in ".tmp", so readers listing "*.json" never see one. */
export const TEMP_SUFFIX = ".tmp";

export function isTempFile(name: string): boolean {
  return name.startsWith(".") && name.endsWith(TEMP_SUFFIX);
}

/**
 * Replaces `file` with `data` so that a reader sees either the old or the new complete content, never a
 * mix, and the new content survives a crash once this resolves. Concurrent writers use unique temp names,
 * so they never write into each other's file; the last rename wins.
 */
export async function writeFileAtomic(file: string, data: string | Uint8Array): Promise<void> {
  const dir = path.dirname(file);
  const tmp = path.join(dir, `.${path.basename(file)}.${process.pid}-${randomBytes(6).toString("hex")}${TEMP_SUFFIX}`);
  try {
    await fs.mkdir(dir, { recursive: true });
    const fh = await fs.open(tmp, "wx", 0o644);
    try {
      await fh.writeFile(data);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await fs.rename(tmp, file);
  } catch (err) {
    // Best effort: the write error below is what matters, and retention removes a temp file left behind.
    await fs.rm(tmp, { force: true }).catch(() => undefined);
    throw new StoryWriteError(file, { cause: err });
  }
  // The rename is durable only once the directory entry is on disk.
  try {
    const dh = await fs.open(dir, "r");
    try {
      await dh.sync();
    } finally {
      await dh.close();
    }
  } catch (err) {
    throw new StoryWriteError(file, { cause: err });
  }
}
