// Named errors of the filter service, each carrying the subject, stage or step a reader needs.

/** Base class of every error the filter raises. */
export class FilterError extends Error {
  override name = "FilterError";
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/**
 * A raw message cannot be understood (bad subject, undecodable payload, subject and payload disagree).
 * It can never succeed: the service turns it into a PoisonError (dead letter, stage `decode`).
 */
export class MalformedMessageError extends FilterError {
  override name = "MalformedMessageError";
  constructor(
    readonly subject: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(`malformed raw message on ${subject}: ${message}`, options);
  }
}

/**
 * Redacting (or re-encoding) a message failed. Fail-safe: the message is never forwarded; it is
 * dead-lettered (stage `redact`) without its payload.
 */
export class RedactStageError extends FilterError {
  override name = "RedactStageError";
  constructor(
    readonly subject: string,
    /** Error class names only: safe to log and to put into the dead letter (never quotes the payload). */
    readonly reason: string,
    options?: { cause?: unknown },
  ) {
    super(`redaction failed for ${subject}: ${reason}`, options);
  }
}
