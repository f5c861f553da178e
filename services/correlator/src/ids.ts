// Deterministic identities of stories, story entries and incidents, derived from inputs, never from counters.
import { shortHash } from "@faro/contracts";

/** se:<storyId>:<window>:<input id>:<index of the entry among those the input produced>. */
export function entryMsgId(storyId: string, window: number, inputId: string, index: number | string): string {
  return `se:${storyId}:${window}:${inputId}:${index}`;
}

/** One incident per debounced episode of (story, container, reason), first seen at a Kubernetes time. */
export function incidentIdFor(storyId: string, container: string, reason: string, firstSeenMs: number): string {
  return `i-${shortHash(storyId, container, reason, firstSeenMs)}`;
}

/** The largest tiebreak orderingKey() keeps in order (12 digits): entries without an input of their own (closes, updates). */
export const MAX_SEQ = 999_999_999_999;

/**
 * Ordering tiebreak of an input: resourceVersions come from one global counter per cluster, so they
 * order objects and Events; log batches use their line index. Times 16 leaves room for the entries
 * one input produces.
 */
export function entrySeq(base: string | number, index: number): number {
  let n = typeof base === "number" ? base : Number(base);
  if (!Number.isSafeInteger(n) || n < 0) n = parseInt(shortHash(String(base)).slice(0, 10), 16);
  // Past 12 digits the keys would stop sorting; wrap (ties at one timestamp are then merely stable).
  return (n % Math.floor(MAX_SEQ / 16)) * 16 + Math.min(index, 15);
}
