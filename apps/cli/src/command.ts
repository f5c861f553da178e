// The shape of a faro CLI command and a small flag parser shared by all commands.
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

/** Parses `--flag value`, `--flag=value` and boolean `--flag`; rejects unknown flags and positionals. */
export function parseFlags(args: string[], spec: FlagSpec, command: string): Record<string, string | number | boolean> {
  const out: Record<string, string | number | boolean> = {};
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (!a.startsWith("--")) throw new UsageError(`unexpected argument "${a}"`, command);
    const eq = a.indexOf("=");
    const name = a.slice(2, eq < 0 ? undefined : eq);
    const kind = spec[name];
    if (!kind) throw new UsageError(`unknown flag --${name}`, command);
    if (kind === "boolean") {
      out[name] = true;
      continue;
    }
    const v = eq >= 0 ? a.slice(eq + 1) : args[++i];
    if (v === undefined) throw new UsageError(`--${name} needs a value`, command);
    if (kind === "number") {
      const n = Number(v);
      if (!Number.isFinite(n)) throw new UsageError(`--${name} must be a number, got "${v}"`, command);
      out[name] = n;
    } else out[name] = v;
  }
  return out;
}
