// Entry point of the `faro` CLI: routes `faro <command> [flags]` to the registered commands.
import type { CommandIO } from "./command.js";
import { commands } from "./commands/index.js";
import { ConfigError } from "@faro/config";
import { UsageError } from "./errors.js";

export function helpText(): string {
  const w = Math.max(...commands.map((c) => c.name.length));
  return ["usage: faro <command> [flags]", "", "commands:", ...commands.map((c) => `  ${c.name.padEnd(w)}  ${c.summary}`), "", "Run `faro <command> --help` for its flags."].join("\n");
}

/** Runs the CLI with `argv` (without node and script) and returns the exit code. */
export async function main(argv: string[], io: CommandIO): Promise<number> {
  const [name, ...rest] = argv;
  try {
    if (!name || name === "--help" || name === "-h" || name === "help") {
      io.out(helpText());
      return name ? 0 : 2;
    }
    const cmd = commands.find((c) => c.name === name);
    if (!cmd) throw new UsageError(`unknown command "${name}" (commands: ${commands.map((c) => c.name).join(", ")})`);
    return await cmd.run(rest, io);
  } catch (err) {
    const e = err as Error;
    // An invalid configuration lists every problem (several lines) and exits 2, like every service.
    if (err instanceof ConfigError) {
      io.err(e.message);
      return 2;
    }
    io.err(`faro${name ? ` ${name}` : ""}: ${e.message}`);
    return err instanceof UsageError ? 2 : 1;
  }
}

/**
 * One Ctrl-C drains; a second, deliberate one forces (exit 130). A terminal sends SIGINT to the whole process
 * group and wrappers (npm, pnpm, tsx) forward their own copy, so a signal arriving within this window of the
 * first is the same Ctrl-C, not a second one.
 */
const SAME_SIGNAL_MS = 150;

const isEntry = process.argv[1] !== undefined && /(?:^|[/\\])(?:main\.ts|faro(?:\.m?js)?)$/.test(process.argv[1]);
if (isEntry) {
  const ac = new AbortController();
  let firstAt = 0;
  const onSignal = (signal: NodeJS.Signals) => {
    const now = Date.now();
    if (firstAt === 0) {
      firstAt = now;
      ac.abort();
    } else if (now - firstAt > SAME_SIGNAL_MS) {
      process.stderr.write(`faro: second ${signal}: stopping now without draining\n`);
      process.exit(130);
    }
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  // The reader went away (`faro tail | head`): nothing more to say to it, like any Unix filter.
  process.stdout.on("error", (err: NodeJS.ErrnoException) => {
    if (err.code === "EPIPE") process.exit(0);
    throw err;
  });
  const code = await main(process.argv.slice(2), { out: (l) => console.log(l), err: (l) => console.error(l), signal: ac.signal });
  // stdout to a pipe is written asynchronously: exit once what was printed has been handed over (else
  // `faro stories show --json | jq` gets the first 64 KiB).
  process.stdout.write("", () => process.exit(code));
}
