// What the CLI's human output shares: one timestamp format, colours only on a terminal, stable colours per
// name, cutting a line to the terminal width, and a pager for long output.
import { spawn } from "node:child_process";
import { parseDuration } from "@faro/config";
import { UsageError } from "./errors.js";

/** Whether stdout gets ANSI colours: a terminal, no NO_COLOR, no --no-color. */
export function useColour(stream: NodeJS.WriteStream, noColorFlag: boolean, env: Readonly<Record<string, string | undefined>> = process.env): boolean {
  return !noColorFlag && stream.isTTY === true && !env.NO_COLOR && env.TERM !== "dumb";
}

export const ANSI = {
  reset: "\x1b[0m",
  dim: "\x1b[2m",
  bold: "\x1b[1m",
  red: "\x1b[31m",
  green: "\x1b[32m",
  yellow: "\x1b[33m",
  blue: "\x1b[34m",
  magenta: "\x1b[35m",
  cyan: "\x1b[36m",
} as const;
export type Colour = keyof typeof ANSI;

/** `paint(colour)("red", s)`: ANSI-wrapped when colour is on, `s` unchanged otherwise. */
export function painter(colour: boolean): (name: Colour, s: string) => string {
  return (name, s) => (colour && s !== "" ? `${ANSI[name]}${s}${ANSI.reset}` : s);
}

// Colours stern uses for pods: readable on dark and light backgrounds (no red: that means trouble here).
const NAME_COLOURS = ["\x1b[32m", "\x1b[33m", "\x1b[34m", "\x1b[35m", "\x1b[36m", "\x1b[92m", "\x1b[93m", "\x1b[94m", "\x1b[95m", "\x1b[96m"];

/** The same colour for the same name in every run (FNV-1a of the name). */
export function nameColour(name: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < name.length; i++) {
    h ^= name.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return NAME_COLOURS[h % NAME_COLOURS.length]!;
}

export function paintName(name: string, colour: boolean): string {
  return colour && name !== "" ? `${nameColour(name)}${name}${ANSI.reset}` : name;
}

/**
 * The one timestamp format of human output: UTC, milliseconds always (columns align whatever precision the
 * source had). `full` → `2026-12-08T00:52:55.779Z`; otherwise the time of day `00:52:55.779` (what
 * @faro/story-view's page shows). Unparseable input is returned as written, an empty one as `-` padded.
 */
export function formatTime(ts: string | number | undefined, full = true): string {
  const width = full ? 24 : 12;
  if (ts === undefined || ts === "" || ts === 0) return "-".padEnd(width);
  let ms: number;
  if (typeof ts === "number") ms = ts;
  else {
    // Date.parse keeps milliseconds only; nanosecond precision is cut, not rounded (a line never moves forward).
    ms = Date.parse(ts.replace(/(\.\d{3})\d+/, "$1"));
    if (Number.isNaN(ms)) return ts;
  }
  const iso = new Date(ms).toISOString();
  return full ? iso : iso.slice(11, 23);
}

/** `--since`: a duration back from now (`10m`, `2h`) or an RFC 3339 time. */
export function parseSince(s: string, command: string, now = Date.now()): Date {
  const ms = parseDuration(s);
  if (ms !== undefined) return new Date(now - ms);
  const t = Date.parse(s);
  if (!Number.isNaN(t) && /^\d{4}-\d{2}-\d{2}/.test(s)) return new Date(t);
  throw new UsageError(`--since: want a duration (30s, 10m, 2h) or an RFC 3339 time, got "${s}"`, command);
}

// eslint-disable-next-line no-control-regex
const ANSI_RE = /\x1b\[[0-9;]*m/g;

export function visibleLength(s: string): number {
  return s.replace(ANSI_RE, "").length;
}

/** Cuts `s` to `width` visible characters (ANSI sequences kept, an ellipsis marks the cut). */
export function cutToWidth(s: string, width: number | undefined): string {
  if (width === undefined || width <= 0 || visibleLength(s) <= width) return s;
  let out = "";
  let visible = 0;
  let coloured = false;
  for (let i = 0; i < s.length; ) {
    if (s[i] === "\x1b") {
      const m = /^\x1b\[[0-9;]*m/.exec(s.slice(i));
      if (m) {
        out += m[0];
        coloured = m[0] !== ANSI.reset;
        i += m[0].length;
        continue;
      }
    }
    if (visible === width - 1) break;
    out += s[i];
    visible++;
    i++;
  }
  return `${out}…${coloured ? ANSI.reset : ""}`;
}

/** Tabs and control characters as they would break a one-line view. */
export function oneLine(s: string): string {
  // eslint-disable-next-line no-control-regex
  return s.replace(/\r?\n/g, "⏎").replace(/\t/g, "  ").replace(/[\x00-\x08\x0b-\x1a\x1c-\x1f\x7f]/g, "");
}

/**
 * Writes `lines` to stdout through a pager when stdout is a terminal and they do not fit on one screen:
 * $PAGER, else `less -FRX` (quits at once when the text fits, keeps colours, leaves the text on screen).
 * Resolves when the pager exits; falls back to plain writing when the pager cannot be started.
 */
export async function page(lines: readonly string[], o: { enabled: boolean; out: (l: string) => void; env?: Readonly<Record<string, string | undefined>> }): Promise<void> {
  const env = o.env ?? process.env;
  const rows = process.stdout.rows ?? 0;
  if (!o.enabled || process.stdout.isTTY !== true || rows === 0 || lines.length < rows) {
    for (const l of lines) o.out(l);
    return;
  }
  const pager = env.FARO_PAGER ?? env.PAGER ?? "less";
  if (pager === "" || pager === "cat") {
    for (const l of lines) o.out(l);
    return;
  }
  const started = await new Promise<boolean>((resolve) => {
    const child = spawn(pager, { shell: true, stdio: ["pipe", "inherit", "inherit"], env: { LESS: "FRX", ...env } });
    child.once("error", () => resolve(false));
    child.once("spawn", () => {
      child.stdin.on("error", () => undefined); // the reader quit the pager early: nothing left to do
      child.stdin.end(`${lines.join("\n")}\n`);
    });
    child.once("exit", (code) => resolve(code !== 127));
  });
  if (!started) for (const l of lines) o.out(l);
}
