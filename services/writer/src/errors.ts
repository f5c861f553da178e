// Named errors of the writer, each carrying the context a reader needs to act on it.

function causeText(cause: unknown): string {
  return cause instanceof Error ? `: ${cause.message}` : "";
}

export class WriterError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "WriterError";
  }
}

/** A story entry that can never be processed (undecodable, wrong stage): goes to the dead letters. */
export class MalformedEntryError extends WriterError {
  constructor(
    readonly subject: string,
    detail: string,
    options?: { cause?: unknown },
  ) {
    super(`malformed story entry on ${subject}: ${detail}`, options);
    this.name = "MalformedEntryError";
  }
}

/** The story file built from the stream does not validate against the JSON Schema: a bug, never written. */
export class InvalidStoryError extends WriterError {
  constructor(
    readonly storyId: string,
    readonly window: number,
    readonly errors: readonly string[],
  ) {
    super(`story ${storyId} window ${window} does not validate: ${errors.slice(0, 5).join("; ")}${errors.length > 5 ? ` (+${errors.length - 5} more)` : ""}`);
    this.name = "InvalidStoryError";
  }
}

/** Reading a story window (or its incidents) back from JetStream failed or stalled; retrying may succeed. */
export class ReadBackError extends WriterError {
  constructor(
    readonly stream: string,
    readonly filter: string,
    detail: string,
    options?: { cause?: unknown },
  ) {
    super(`reading ${filter} back from ${stream} failed: ${detail}${causeText(options?.cause)}`, options);
    this.name = "ReadBackError";
  }
}

/** Writing a story file failed (disk full, permissions); the close entry is nak'ed and retried. */
export class StoryWriteError extends WriterError {
  constructor(
    readonly file: string,
    options?: { cause?: unknown },
  ) {
    super(`writing ${file} failed${causeText(options?.cause)}`, options);
    this.name = "StoryWriteError";
  }
}

/** A story file named on the command line or asked for by id does not exist or cannot be read. */
export class StoryNotFoundError extends WriterError {
  constructor(
    readonly id: string,
    readonly dir: string,
  ) {
    super(`no story file matches "${id}" in ${dir}`);
    this.name = "StoryNotFoundError";
  }
}
