// Named errors of @faro/story-view.

/** Base class: a story that cannot be told or drawn. */
export class StoryViewError extends Error {
  override name = "StoryViewError";
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** A story file whose schemaVersion this code does not read (docs/story-format.md, "Versioning"). */
export class UnsupportedStoryError extends StoryViewError {
  override name = "UnsupportedStoryError";
  constructor(
    readonly schemaVersion: unknown,
    options?: { cause?: unknown },
  ) {
    super(`story file schemaVersion ${JSON.stringify(schemaVersion)} is not supported (supported: 1)`, options);
  }
}
