// Where a story window's file lives: <dir>/<namespace or _cluster>/<storyId>-w<window>.json.
import path from "node:path";
import { CLUSTER_SCOPE_TOKEN } from "@faro/contracts";

const SAFE = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

/** A path segment that can neither escape the directory nor collide with temp files. */
function segment(s: string): string {
  return SAFE.test(s) && s !== "." && s !== ".." ? s : encodeURIComponent(s).replace(/^\./, "%2E");
}

export function namespaceDir(namespace: string): string {
  return namespace === "" ? CLUSTER_SCOPE_TOKEN : segment(namespace);
}

export function storyFileName(storyId: string, window: number): string {
  return `${segment(storyId)}-w${window}.json`;
}

export function storyFilePath(dir: string, namespace: string, storyId: string, window: number): string {
  return path.join(dir, namespaceDir(namespace), storyFileName(storyId, window));
}
