// Named errors of the log-streamer, each carrying the container instance or Redis key it concerns.

/** Base class of every error the log-streamer raises. */
export class LogStreamerError extends Error {
  override name = "LogStreamerError";
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** This replica no longer holds the lease of a stream (expired, or taken by another replica): it must stop at once. */
export class LeaseLostError extends LogStreamerError {
  override name = "LeaseLostError";
  constructor(
    readonly instance: string,
    readonly replica: string,
  ) {
    super(`lease of log stream ${instance} is no longer held by replica ${replica}`);
  }
}

/** A Redis state operation (checkpoint, lease, wanted set) failed. */
export class StateError extends LogStreamerError {
  override name = "StateError";
  constructor(
    readonly operation: string,
    readonly key: string,
    options?: { cause?: unknown },
  ) {
    super(`redis ${operation} on ${key} failed${options?.cause instanceof Error ? `: ${options.cause.message}` : ""}`, options);
  }
}

/** A pod change on the bus could not be understood (not a pod, undecodable object JSON). */
export class PodChangeError extends LogStreamerError {
  override name = "PodChangeError";
  constructor(
    readonly subject: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(`pod change on ${subject}: ${message}`, options);
  }
}

/** What the bus says about the streams could not be read while recovering from lost Redis state. */
export class RecoveryError extends LogStreamerError {
  override name = "RecoveryError";
  constructor(
    readonly subject: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(`recovering from the bus (${subject}): ${message}${options?.cause instanceof Error ? `: ${options.cause.message}` : ""}`, options);
  }
}
