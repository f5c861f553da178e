// Named errors of the ingester, each carrying the context a reader needs to act on it.

export class IngesterError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "IngesterError";
  }
}

/** A request the ingester refuses; `status` is the HTTP answer and `reason` the counted drop reason. */
export class RejectedRequestError extends IngesterError {
  constructor(
    readonly status: number,
    readonly reason: "unauthorized" | "not_found" | "method" | "too_large" | "rate_limited" | "busy" | "invalid_json" | "invalid_payload" | "disabled",
    message: string,
    readonly details: readonly string[] = [],
  ) {
    super(message);
    this.name = "RejectedRequestError";
  }
}

/** The token file named in the configuration cannot be read or is empty. */
export class TokenFileError extends IngesterError {
  constructor(
    readonly file: string,
    readonly detail: string,
    options?: { cause?: unknown },
  ) {
    super(`auth.tokenFile ${file}: ${detail}`, options);
    this.name = "TokenFileError";
  }
}
