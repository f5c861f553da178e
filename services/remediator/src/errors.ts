// Named errors of the remediator, each carrying the context a reader needs to act on it.

export class RemediatorError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "RemediatorError";
  }
}

/** An incident message that can never be handled (undecodable): dead-lettered at stage `decode`. */
export class MalformedIncidentError extends RemediatorError {
  constructor(
    readonly subject: string,
    detail: string,
    options?: { cause?: unknown },
  ) {
    super(`malformed incident on ${subject}: ${detail}`, options);
    this.name = "MalformedIncidentError";
  }
}

/** An AutoRemediationPolicy the remediator cannot use; it is ignored until it is changed. */
export class InvalidPolicyError extends RemediatorError {
  constructor(
    readonly policy: string,
    readonly field: string,
    detail: string,
  ) {
    super(`AutoRemediationPolicy ${policy}: ${field}: ${detail}`);
    this.name = "InvalidPolicyError";
  }
}

/** A request to the Kubernetes API failed while acting. */
export class KubeWriteError extends RemediatorError {
  constructor(
    readonly method: string,
    readonly path: string,
    readonly status: number,
    detail: string,
    options?: { cause?: unknown },
  ) {
    super(`${method} ${path} failed (${status}): ${detail}`, options);
    this.name = "KubeWriteError";
  }
}
