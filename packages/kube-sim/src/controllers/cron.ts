// Minimal five-field cron schedule parser (numbers, *, */N, a-b, a-b/N, lists) evaluated in UTC.

export interface CronSchedule {
  /** First matching minute strictly after `afterMs` (ms since epoch), or undefined within a year. */
  next(afterMs: number): number | undefined;
}

const RANGES: [number, number][] = [
  [0, 59],
  [0, 23],
  [1, 31],
  [1, 12],
  [0, 6],
];

const MACROS: Record<string, string> = { "@hourly": "0 * * * *", "@daily": "0 0 * * *", "@midnight": "0 0 * * *", "@weekly": "0 0 * * 0", "@monthly": "0 0 1 * *", "@yearly": "0 0 1 1 *" };

export function parseCron(expr: string): CronSchedule {
  const fields = (MACROS[expr.trim()] ?? expr).trim().split(/\s+/);
  if (fields.length !== 5) throw new RangeError(`invalid cron schedule "${expr}": expected 5 fields`);
  const sets = fields.map((f, i) => field(f, RANGES[i]!, expr));
  const [min, hour, dom, mon, dow] = sets as [Set<number>, Set<number>, Set<number>, Set<number>, Set<number>];
  return {
    next(afterMs) {
      let t = Math.floor(afterMs / 60_000) * 60_000 + 60_000;
      for (let i = 0; i < 366 * 24 * 60; i++, t += 60_000) {
        const d = new Date(t);
        if (min.has(d.getUTCMinutes()) && hour.has(d.getUTCHours()) && dom.has(d.getUTCDate()) && mon.has(d.getUTCMonth() + 1) && dow.has(d.getUTCDay())) return t;
      }
      return undefined;
    },
  };
}

function field(f: string, [lo, hi]: [number, number], expr: string): Set<number> {
  const out = new Set<number>();
  for (const part of f.split(",")) {
    const m = /^(\*|\d+(?:-\d+)?)(?:\/(\d+))?$/.exec(part);
    if (!m) throw new RangeError(`invalid cron schedule "${expr}": bad field "${f}"`);
    let a = lo;
    let b = hi;
    if (m[1] !== "*") {
      const [x, y] = m[1]!.split("-").map(Number);
      a = x!;
      b = y ?? (m[2] ? hi : x!);
    }
    const step = m[2] ? Number(m[2]) : 1;
    if (a < lo || b > hi || step < 1) throw new RangeError(`invalid cron schedule "${expr}": "${part}" out of range ${lo}-${hi}`);
    for (let v = a; v <= b; v += step) out.add(v === 7 && hi === 6 ? 0 : v);
  }
  return out;
}
