// Named errors of `faro mcp`: each becomes one clear tool error for the assistant (never a stack trace).

/** A call was refused before it ran: too large, too frequent, too many at once, or not allowed. */
export class RefusedError extends Error {
  constructor(
    readonly reason: "result_too_large" | "request_too_large" | "rate_limited" | "busy" | "pattern_too_long" | "bad_pattern" | "bad_cursor" | "bad_time",
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = "RefusedError";
  }
}

/** What was asked for does not exist, or exists for another tenant only (the caller cannot tell the two apart). */
export class NotFoundError extends Error {
  constructor(
    readonly what: string,
    readonly id: string,
  ) {
    super(`${what} ${id} not found (or not in your tenants)`);
    this.name = "NotFoundError";
  }
}

/** A read from the bus failed (unreachable NATS, missing stream). */
export class BusReadError extends Error {
  constructor(
    readonly stream: string,
    readonly filter: string,
    detail: string,
    options?: { cause?: unknown },
  ) {
    super(`reading ${stream} (${filter}) failed: ${detail}`, options);
    this.name = "BusReadError";
  }
}
