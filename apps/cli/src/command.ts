// The shape of a faro CLI command and a small flag parser shared by all commands.
import { parseArgs } from "node:util";
import { closest } from "@faro/config";
import { UsageError } from "./errors.js";

export interface CommandIO {
  out: (line: string) => void;
  err: (line: string) => void;
  /** Resolves on SIGINT/SIGTERM (long-running commands wait on it). */
  signal: AbortSignal;
}

export interface Command {
  name: string;
  summary: string;
  usage: string;
  /** Returns the process exit code. */
  run(args: string[], io: CommandIO): Promise<number>;
}

export interface FlagSpec {
  [flag: string]: "string" | "number" | "boolean";
}

/**
 * Parses `--flag value`, `--flag=value` and boolean `--flag` with node:util parseArgs; an unknown flag is a
 * UsageError with a "did you mean" hint, positionals are rejected, numbers are checked.
 */
export function parseFlags(args: string[], spec: FlagSpec, command: string): Record<string, string | number | boolean> {
  const options = Object.fromEntries(Object.entries(spec).map(([name, kind]) => [name, { type: kind === "boolean" ? ("boolean" as const) : ("string" as const) }]));
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({ args, options, strict: true, allowPositionals: false }) as { values: Record<string, string | boolean | undefined> });
  } catch (err) {
    throw new UsageError(explainParseError(err as Error & { code?: string }, spec), command);
  }
  const out: Record<string, string | number | boolean> = {};
  for (const [name, v] of Object.entries(values)) {
    if (v === undefined) continue;
    if (spec[name] === "number") {
      const n = Number(v);
      if (typeof v !== "string" || v.trim() === "" || !Number.isFinite(n)) throw new UsageError(`--${name} must be a number, got "${String(v)}"`, command);
      out[name] = n;
    } else out[name] = v;
  }
  return out;
}

function explainParseError(err: Error & { code?: string }, spec: FlagSpec): string {
  const quoted = /'(-[^']*)'/.exec(err.message)?.[1];
  switch (err.code) {
    case "ERR_PARSE_ARGS_UNKNOWN_OPTION": {
      const name = (quoted ?? "").replace(/^-+/, "").split("=")[0] ?? "";
      const hint = closest(name, Object.keys(spec));
      return `unknown flag ${quoted ?? name}${hint ? ` (did you mean --${hint}?)` : ""}`;
    }
    case "ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL": {
      const arg = /'([^']*)'/.exec(err.message)?.[1];
      return arg === undefined ? "unexpected argument" : `unexpected argument "${arg}"`;
    }
    case "ERR_PARSE_ARGS_INVALID_OPTION_VALUE":
      return quoted ? `${quoted.split(" ")[0]} needs a value` : err.message;
    default:
      return err.message;
  }
}
