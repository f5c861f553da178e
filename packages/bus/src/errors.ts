// Named errors raised by @faro/bus, each carrying the context (stream, consumer, subject, setting) a reader needs.

/** Base class of every error @faro/bus raises. */
export class BusError extends Error {
  override name = "BusError";
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** Connecting to NATS (or reaching JetStream on it) failed. */
export class BusConnectionError extends BusError {
  override name = "BusConnectionError";
  constructor(
    readonly servers: string | string[],
    message: string,
    options?: { cause?: unknown },
  ) {
    super(`cannot connect to NATS at ${String(servers)}: ${message}`, options);
  }
}

/** A stream or consumer spec is invalid before it is sent to the server (e.g. a stream without max age). */
export class InvalidSpecError extends BusError {
  override name = "InvalidSpecError";
  constructor(
    readonly resource: string,
    readonly field: string,
    message: string,
  ) {
    super(`invalid spec for ${resource}: ${field} ${message}`);
  }
}

/**
 * Creating or updating a stream/consumer failed, or the server dropped or changed a setting (read back
 * after the write): `setting` names it, `expected`/`actual` show the difference.
 */
export class ProvisioningError extends BusError {
  override name = "ProvisioningError";
  constructor(
    readonly resource: string,
    readonly setting: string | undefined,
    message: string,
    readonly expected?: unknown,
    readonly actual?: unknown,
    options?: { cause?: unknown },
  ) {
    super(`provisioning ${resource} failed${setting ? ` (setting ${setting})` : ""}: ${message}`, options);
  }
}

/** A publish did not get a PubAck within its retry budget, or was rejected by the server. */
export class PublishError extends BusError {
  override name = "PublishError";
  constructor(
    readonly subject: string,
    readonly msgId: string,
    readonly attempts: number,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(`publish to ${subject} (msgId ${msgId}) failed after ${attempts} attempt(s): ${message}`, options);
  }
}

/** The publisher or consumer group was stopped; the operation was not attempted. */
export class StoppedError extends BusError {
  override name = "StoppedError";
  constructor(readonly what: string) {
    super(`${what} is stopped`);
  }
}

/**
 * Thrown by a handler when processing may succeed later (a dependency is down): the message is nak'ed
 * with an exponential delay. `delayMs` overrides the computed delay. Unknown errors are treated the same.
 */
export class RetryableError extends BusError {
  override name = "RetryableError";
  constructor(
    message: string,
    options?: { cause?: unknown; delayMs?: number },
  ) {
    super(message, options);
    this.delayMs = options?.delayMs;
  }
  readonly delayMs: number | undefined;
}

/**
 * Thrown by a handler when a message can never succeed (undecodable, invalid): it is published to the
 * dead-letter subject with this error's message as the reason, then term()'ed.
 */
export class PoisonError extends BusError {
  override name = "PoisonError";
  /** The dead letter's stage (`decode`, `redact`, `write`, …); the consumer group's default when unset. */
  readonly stage: string | undefined;
  constructor(message: string, options?: { cause?: unknown; stage?: string }) {
    super(message, options);
    this.stage = options?.stage;
  }
}

/** Publishing a dead letter failed; the original message is nak'ed so nothing is lost. */
export class DeadLetterError extends BusError {
  override name = "DeadLetterError";
  constructor(
    readonly stream: string,
    readonly seq: number,
    readonly dlqSubject: string,
    options?: { cause?: unknown },
  ) {
    super(`dead-lettering ${stream}#${seq} to ${dlqSubject} failed`, options);
  }
}
