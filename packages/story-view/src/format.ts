// Small text helpers shared by the narrative and the page: times, durations, quoting.

/** Milliseconds since the epoch of an RFC3339 time (any fractional precision), or undefined. */
export function ms(t: string | undefined | null): number | undefined {
  if (!t) return undefined;
  const v = Date.parse(t);
  return Number.isFinite(v) ? v : undefined;
}

/** "450 ms", "2.1 s", "12 s", "1 min 29 s", "2 h 5 min". */
export function duration(msValue: number): string {
  const d = Math.max(0, msValue);
  if (d < 1000) return `${Math.round(d)} ms`;
  if (d < 10_000) return `${(Math.round(d / 100) / 10).toString()} s`;
  const s = Math.round(d / 1000);
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return s % 60 ? `${m} min ${s % 60} s` : `${m} min`;
  const h = Math.floor(m / 60);
  return m % 60 ? `${h} h ${m % 60} min` : `${h} h`;
}

/** Time of day of an RFC3339 time, "HH:MM:SS.mmm" in UTC (one format everywhere on the page). */
export function clock(t: string | undefined): string {
  const v = ms(t);
  if (v === undefined) return t ?? "";
  return new Date(v).toISOString().slice(11, 23);
}

/** A value cut to `max` characters with an ellipsis. */
export function cut(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

/** A log line or message as quoted in a sentence: one line, bounded. */
export function quote(text: string, max = 120): string {
  return `"${cut(text.replace(/\s+/g, " ").trim(), max)}"`;
}

export function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}
