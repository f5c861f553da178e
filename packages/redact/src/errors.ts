// Named errors of the redaction package; each carries the context a reader needs to act on it.

/** A user rule (redaction or filter) whose pattern cannot be compiled; config loading turns it into exit 2. */
export class RuleError extends Error {
  override readonly name = "RuleError";
  readonly rule: string;
  readonly pattern: string | undefined;
  constructor(rule: string, message: string, options: { pattern?: string; cause?: unknown } = {}) {
    super(`rule ${rule}: ${message}`, { cause: options.cause });
    this.rule = rule;
    this.pattern = options.pattern;
  }
}

/**
 * Redaction of one message failed. Never comes with partial output: the caller must drop the
 * message and dead-letter it WITHOUT its payload.
 */
export class RedactionError extends Error {
  override readonly name = "RedactionError";
  readonly what: string;
  constructor(what: string, message: string, options: { cause?: unknown } = {}) {
    super(`redaction of ${what} failed: ${message}`, { cause: options.cause });
    this.what = what;
  }
}

/** `faro redact` input (or rules file) that cannot be parsed; the CLI exits 2 on it. */
export class RedactCliError extends Error {
  override readonly name = "RedactCliError";
  readonly format: string;
  constructor(format: string, message: string, options: { cause?: unknown } = {}) {
    super(message, { cause: options.cause });
    this.format = format;
  }
}
