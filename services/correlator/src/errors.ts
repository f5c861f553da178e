// Named errors of the correlator, each carrying the context a reader needs to act on it.

export class CorrelatorError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "CorrelatorError";
  }
}

/** A clean message that can never be processed (undecodable, unknown category): goes to the dead letters. */
export class MalformedInputError extends CorrelatorError {
  constructor(
    readonly subject: string,
    detail: string,
    options?: { cause?: unknown },
  ) {
    super(`malformed input on ${subject}: ${detail}`, options);
    this.name = "MalformedInputError";
  }
}

/** A Redis script or command failed; retrying the input later may succeed. */
export class StateError extends CorrelatorError {
  constructor(
    readonly operation: string,
    options?: { cause?: unknown },
  ) {
    super(`correlator state operation ${operation} failed${causeText(options?.cause)}`, options);
    this.name = "StateError";
  }
}

function causeText(cause: unknown): string {
  return cause instanceof Error ? `: ${cause.message}` : "";
}

/** An Event's involved object is neither in the ownership graph nor readable from the API yet: retry later. */
export class InvolvedObjectPendingError extends CorrelatorError {
  constructor(
    readonly kind: string,
    readonly namespace: string,
    readonly objectName: string,
  ) {
    super(`the object of an Event, ${kind} ${namespace}/${objectName}, is not known yet`);
    this.name = "InvolvedObjectPendingError";
  }
}
