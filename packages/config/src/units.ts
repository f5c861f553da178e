// Parsing of human-written durations ("250ms", "5s", "1m30s") and byte sizes ("16KiB", "1MiB").

const durationUnits: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
const durationRe = /^(?:\d+(?:\.\d+)?(?:ms|s|m|h|d))+$/;
const durationPartRe = /(\d+(?:\.\d+)?)(ms|s|m|h|d)/g;

/** Parses a duration string into milliseconds; returns undefined when it is not one. Bare "0" is allowed. */
export function parseDuration(text: string): number | undefined {
  const s = text.trim();
  if (s === "0") return 0;
  if (!durationRe.test(s)) return undefined;
  let total = 0;
  for (const m of s.matchAll(durationPartRe)) total += Number(m[1]) * durationUnits[m[2]!]!;
  return Math.round(total);
}

/** Formats milliseconds the way a user would write them (for docs and messages). */
export function formatDuration(ms: number): string {
  if (ms === 0) return "0";
  for (const [unit, size] of [["d", 86_400_000], ["h", 3_600_000], ["m", 60_000], ["s", 1000]] as const) {
    if (ms % size === 0) return `${ms / size}${unit}`;
  }
  return `${ms}ms`;
}

const byteUnits: Record<string, number> = {
  b: 1,
  kb: 1e3,
  mb: 1e6,
  gb: 1e9,
  tb: 1e12,
  kib: 1024,
  mib: 1024 ** 2,
  gib: 1024 ** 3,
  tib: 1024 ** 4,
};
const bytesRe = /^(\d+(?:\.\d+)?)\s*([a-zA-Z]*)$/;

/** Parses "16KiB", "1.5MB", "512" (bytes) into a byte count; undefined when it is not one. */
export function parseBytes(text: string): number | undefined {
  const m = bytesRe.exec(text.trim());
  if (!m) return undefined;
  const unit = m[2] === "" ? "b" : m[2]!.toLowerCase();
  const size = byteUnits[unit];
  if (size === undefined) return undefined;
  return Math.round(Number(m[1]) * size);
}

/** Formats a byte count with the largest binary unit that divides it. */
export function formatBytes(n: number): string {
  for (const [unit, size] of [["TiB", 1024 ** 4], ["GiB", 1024 ** 3], ["MiB", 1024 ** 2], ["KiB", 1024]] as const) {
    if (n !== 0 && n % size === 0) return `${n / size}${unit}`;
  }
  return `${n}B`;
}
