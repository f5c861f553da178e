// Structured logging: pino JSON lines with service and pid, or pino-pretty for humans at a terminal.
import { pino, type DestinationStream, type Logger, type LevelWithSilent } from "pino";
import { PinoPretty } from "pino-pretty";

export type { Logger } from "pino";

export interface LoggerOptions {
  service: string;
  level?: LevelWithSilent | string;
  /** true/false, or "auto"/undefined = pretty when stdout is a TTY. Accepts the config's "true"/"false" strings. */
  pretty?: boolean | "auto" | "true" | "false";
  /** Where lines go (tests); defaults to stdout, written synchronously so nothing is lost on process.exit. */
  destination?: DestinationStream | NodeJS.WritableStream;
}

export function createLogger(options: LoggerOptions): Logger {
  const pretty =
    options.pretty === true || options.pretty === "true"
      ? true
      : options.pretty === false || options.pretty === "false"
        ? false
        : process.stdout.isTTY === true;
  const base = { service: options.service, pid: process.pid };
  const level = options.level ?? "info";
  // Synchronous writes: a service that exits right after logging "forced stop" must still show the line.
  const dest = options.destination ?? (pretty ? undefined : pino.destination({ dest: 1, sync: true }));
  if (pretty) {
    // In-thread pretty printer (no worker transport): simpler under tsx and flushes before exit.
    const stream = PinoPretty({ sync: true, colorize: process.stdout.isTTY === true, destination: dest ?? 1, ignore: "pid,hostname" });
    return pino({ base, level }, stream);
  }
  return pino({ base, level, timestamp: pino.stdTimeFunctions.isoTime }, dest as DestinationStream);
}
