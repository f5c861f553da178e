// RFC 3339 timestamps with 9 fixed fractional digits, as the kubelet prints with timestamps=true.

/** Formats (epoch seconds, nanoseconds) as 2026-01-01T00:00:00.000000001Z. */
export function formatNanos(sec: number, ns: number): string {
  return `${new Date(sec * 1000).toISOString().slice(0, 19)}.${String(ns).padStart(9, "0")}Z`;
}

/** Formats a (possibly fractional) ms-since-epoch time with 9 fractional digits. */
export function formatMs(ms: number): string {
  const sec = Math.floor(ms / 1000);
  return formatNanos(sec, Math.min(999_999_999, Math.round((ms - sec * 1000) * 1e6)));
}

/**
 * Normalises an RFC 3339 time to the 9-digit UTC form, so times compare as strings. Offsets other than
 * Z go through Date (millisecond precision).
 */
export function normalizeRfc3339(t: string): string | undefined {
  const m = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d{1,9}))?Z$/.exec(t);
  if (m) return `${m[1]}.${(m[2] ?? "").padEnd(9, "0")}Z`;
  const ms = Date.parse(t);
  return Number.isFinite(ms) ? formatMs(ms) : undefined;
}
