// Errors of the faro CLI: bad usage exits 2, a failed command exits 1, both with one clear line.

/** The command line is wrong (unknown command or flag, missing value). Exit code 2. */
export class UsageError extends Error {
  constructor(
    message: string,
    readonly command?: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = "UsageError";
  }
}

/** A command failed while running. Exit code 1. */
export class CommandError extends Error {
  constructor(
    message: string,
    readonly command: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = "CommandError";
  }
}
