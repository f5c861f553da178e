// Named errors of the watcher service, each carrying the resource or key a reader needs.

/** Base class of every error the watcher raises. */
export class WatcherError extends Error {
  override name = "WatcherError";
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** Reading or writing the remembered resourceVersions in Redis failed. */
export class StateStoreError extends WatcherError {
  override name = "StateStoreError";
  constructor(
    readonly key: string,
    readonly operation: "load" | "apply",
    message: string,
    options?: { cause?: unknown },
  ) {
    super(`redis state ${operation} of ${key} failed: ${message}`, options);
  }
}

/** A watch object that cannot be turned into a bus message (no uid or resourceVersion). */
export class EncodeError extends WatcherError {
  override name = "EncodeError";
  constructor(
    readonly resource: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(`cannot encode ${resource} object: ${message}`, options);
  }
}
