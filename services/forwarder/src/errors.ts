// Named errors of the forwarder, each carrying the sink and the context a reader needs; none ever carries a secret.

function causeText(cause: unknown): string {
  return cause instanceof Error ? `: ${cause.message}` : "";
}

export class ForwarderError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "ForwarderError";
  }
}

/** An incident on the bus that can never be decoded: dead-lettered (stage `decode`). */
export class MalformedIncidentError extends ForwarderError {
  constructor(
    readonly subject: string,
    detail: string,
    options?: { cause?: unknown; what?: "incident" | "insight" },
  ) {
    super(`malformed ${options?.what ?? "incident"} on ${subject}: ${detail}`, options);
    this.name = "MalformedIncidentError";
  }
}

/** One delivery attempt to a sink failed. `retryable` says whether another attempt may succeed. */
export class DeliveryError extends ForwarderError {
  constructor(
    readonly sink: string,
    readonly idempotencyKey: string,
    detail: string,
    readonly retryable: boolean,
    readonly extra: { status?: number | string; retryAfterMs?: number; kind?: string } = {},
    options?: { cause?: unknown },
  ) {
    super(`sink ${sink}: delivery of ${idempotencyKey} failed: ${detail}`, options);
    this.name = retryable ? "RetryableDeliveryError" : "PermanentDeliveryError";
  }
  /** A short label for metrics: the HTTP status class, the gRPC code name, `network`, `timeout`, … */
  get kind(): string {
    return this.extra.kind ?? (typeof this.extra.status === "number" ? `http_${this.extra.status}` : String(this.extra.status ?? "error"));
  }
}

/** Another attempt may succeed (5xx, 429, timeout, connection refused, receiver not reachable). */
export function retryable(sink: string, key: string, detail: string, extra: DeliveryError["extra"] = {}, cause?: unknown): DeliveryError {
  return new DeliveryError(sink, key, detail, true, extra, cause === undefined ? undefined : { cause });
}

/** Retrying can never help (401, 403, 400, 404, 422, a receiver that says so): dead-lettered at once. */
export function permanent(sink: string, key: string, detail: string, extra: DeliveryError["extra"] = {}, cause?: unknown): DeliveryError {
  return new DeliveryError(sink, key, detail, false, extra, cause === undefined ? undefined : { cause });
}

/** A secret (token, signing key) could not be read from its file or environment variable; the value is never shown. */
export class SecretError extends ForwarderError {
  constructor(
    readonly sink: string,
    readonly field: string,
    detail: string,
    options?: { cause?: unknown },
  ) {
    super(`sink ${sink}: ${field}: ${detail}${causeText(options?.cause)}`, options);
    this.name = "SecretError";
  }
}

/** The reference gRPC receiver could not start (bad address, unreadable certificate). */
export class ReceiverError extends ForwarderError {
  constructor(
    readonly listen: string,
    detail: string,
    options?: { cause?: unknown },
  ) {
    super(`incident receiver on ${listen}: ${detail}${causeText(options?.cause)}`, options);
    this.name = "ReceiverError";
  }
}
