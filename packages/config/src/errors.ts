// Errors raised by @faro/config: a user's configuration is invalid, or a schema itself is malformed.

/** Where a configuration value came from, as shown to the user. */
export type ConfigSource =
  | { kind: "default" }
  | { kind: "file"; file: string; line?: number; column?: number }
  | { kind: "env"; name: string }
  | { kind: "flag"; name: string };

/** One problem with one configuration value. */
export interface ConfigIssue {
  /** Dotted field path, e.g. `nats.url` or `rules[2].name`; empty for problems with the file itself. */
  readonly path: string;
  /** What is wrong, e.g. `unknown key` or `expected an integer`. */
  readonly message: string;
  /** The offending value as given (raw text from env/flags, YAML value from a file). */
  readonly value?: unknown;
  /** What would have been accepted. */
  readonly allowed?: string;
  readonly source?: ConfigSource;
}

/** Renders a source as `file.yaml:12:3`, `env FARO_NATS_URL` or `flag --nats.url`. */
export function describeSource(source: ConfigSource): string {
  switch (source.kind) {
    case "default":
      return "default";
    case "file":
      return source.line === undefined
        ? `file ${source.file}`
        : `${source.file}:${source.line}${source.column === undefined ? "" : `:${source.column}`}`;
    case "env":
      return `env ${source.name}`;
    case "flag":
      return `flag ${source.name}`;
  }
}

function formatValue(value: unknown): string {
  if (typeof value === "string") return JSON.stringify(value);
  try {
    const s = JSON.stringify(value);
    return s === undefined ? String(value) : s.length > 120 ? `${s.slice(0, 117)}...` : s;
  } catch (err) {
    // Values come from YAML/env, so this only happens for exotic objects; show something rather than fail.
    return `<unprintable: ${(err as Error).message}>`;
  }
}

/** Formats one issue as a single line for humans. */
export function formatIssue(issue: ConfigIssue): string {
  const parts = [issue.path === "" ? issue.message : `${issue.path}: ${issue.message}`];
  if ("value" in issue && issue.value !== undefined) parts.push(`got ${formatValue(issue.value)}`);
  if (issue.allowed) parts.push(`allowed: ${issue.allowed}`);
  if (issue.source) parts.push(`(from ${describeSource(issue.source)})`);
  return parts.join("; ").replace(/; \(from/, " (from");
}

/** The configuration is invalid; `issues` lists every problem found, not only the first. */
export class ConfigError extends Error {
  override name = "ConfigError";
  constructor(
    readonly service: string,
    readonly issues: readonly ConfigIssue[],
    options?: { cause?: unknown },
  ) {
    super(
      `invalid configuration for ${service} (${issues.length} problem${issues.length === 1 ? "" : "s"}):\n` +
        issues.map((i) => `  - ${formatIssue(i)}`).join("\n"),
      options,
    );
  }
}

/** A schema definition is malformed (a programming error, found when the schema is defined). */
export class SchemaError extends Error {
  override name = "SchemaError";
  constructor(
    message: string,
    readonly path: string,
    options?: { cause?: unknown },
  ) {
    super(`schema error at ${path || "(root)"}: ${message}`, options);
  }
}
