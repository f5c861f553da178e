// Simulated clock: wall-clock time sped up by a factor, with timers scaled to match, so back-offs of
// minutes take seconds in tests.
import type { SimClock } from "./types.js";

export interface ClockOptions {
  /** Simulated seconds per wall second (default 1). */
  speed?: number;
  /** Simulated time at creation: ms since epoch, ISO string or Date (default: wall now). */
  start?: number | string | Date;
}

/** Creates a SimClock: simulated now = start + wall elapsed × speed. */
export function createClock(opts: ClockOptions = {}): SimClock {
  const speed = opts.speed ?? 1;
  if (!(speed > 0) || !Number.isFinite(speed)) throw new RangeError(`clock speed must be a positive number, got ${speed}`);
  const start =
    opts.start === undefined ? Date.now() : opts.start instanceof Date ? opts.start.getTime() : typeof opts.start === "string" ? Date.parse(opts.start) : opts.start;
  if (!Number.isFinite(start)) throw new RangeError(`clock start is not a valid time: ${String(opts.start)}`);
  // performance.now() is monotonic: simulated time never goes backwards when the wall clock is adjusted.
  const wall0 = performance.now();
  const timeouts = new Set<NodeJS.Timeout>();
  const intervals = new Set<NodeJS.Timeout>();
  let stopped = false;

  const now = () => start + (performance.now() - wall0) * speed;
  const toWall = (simMs: number) => Math.max(0, simMs / speed);

  return {
    speed,
    now,
    isoNow: () => new Date(Math.floor(now() / 1000) * 1000).toISOString().replace(".000Z", "Z"),
    setTimeout(fn, simMs) {
      if (stopped) return () => {};
      const h = setTimeout(() => {
        timeouts.delete(h);
        fn();
      }, toWall(simMs));
      timeouts.add(h);
      return () => {
        clearTimeout(h);
        timeouts.delete(h);
      };
    },
    setInterval(fn, simMs) {
      if (stopped) return () => {};
      const h = setInterval(fn, Math.max(1, toWall(simMs)));
      intervals.add(h);
      return () => {
        clearInterval(h);
        intervals.delete(h);
      };
    },
    sleep(simMs) {
      return new Promise<void>((resolve) => {
        if (stopped) return resolve();
        const h = setTimeout(() => {
          timeouts.delete(h);
          resolve();
        }, toWall(simMs));
        timeouts.add(h);
      });
    },
    stop() {
      stopped = true;
      for (const h of timeouts) clearTimeout(h);
      for (const h of intervals) clearInterval(h);
      timeouts.clear();
      intervals.clear();
    },
  };
}

/** Parses a simulated duration: "500ms", "30s", "5m", "1h", "1m30s" or a number of seconds. */
export function parseDuration(v: string | number, what = "duration"): number {
  if (typeof v === "number") return v * 1000;
  const s = v.trim();
  if (/^\d+(\.\d+)?$/.test(s)) return Number(s) * 1000;
  const re = /(\d+(?:\.\d+)?)(ms|s|m|h)/g;
  let total = 0;
  let consumed = 0;
  for (const m of s.matchAll(re)) {
    const n = Number(m[1]);
    total += m[2] === "ms" ? n : m[2] === "s" ? n * 1000 : m[2] === "m" ? n * 60_000 : n * 3_600_000;
    consumed += m[0].length;
  }
  if (consumed !== s.length || consumed === 0) throw new RangeError(`invalid ${what} "${v}" (expected e.g. 500ms, 30s, 5m, 1h30m)`);
  return total;
}

/** Formats ms like Go's time.Duration.String() for whole seconds: 10s, 1m20s, 5m0s. */
export function goDuration(ms: number): string {
  const total = Math.round(ms / 1000);
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  if (h > 0) return `${h}h${m}m${s}s`;
  if (m > 0) return `${m}m${s}s`;
  return `${s}s`;
}
