// Errors raised by @faro/observability: metric registration conflicts, lifecycle misuse, contract violations.

export class ObservabilityError extends Error {
  override name = "ObservabilityError";
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** A metric name is already registered with another type or other label names. */
export class MetricConflictError extends ObservabilityError {
  override name = "MetricConflictError";
  constructor(
    readonly metric: string,
    detail: string,
  ) {
    super(`metric ${metric} is already registered ${detail}`);
  }
}

/** A lifecycle transition that the state machine does not allow. */
export class LifecycleError extends ObservabilityError {
  override name = "LifecycleError";
  constructor(
    readonly service: string,
    readonly from: string,
    readonly to: string,
  ) {
    super(`${service}: cannot go from ${from} to ${to}`);
  }
}

/** A running service does not follow docs/spec/service.md; `problems` lists every violation. */
export class ContractError extends ObservabilityError {
  override name = "ContractError";
  constructor(
    readonly baseUrl: string,
    readonly problems: readonly string[],
    options?: { cause?: unknown },
  ) {
    super(`service at ${baseUrl} breaks the service contract:\n${problems.map((p) => `  - ${p}`).join("\n")}`, options);
  }
}

/** start() threw; the service was stopped (its stop() ran to release what start acquired). */
export class ServiceStartError extends ObservabilityError {
  override name = "ServiceStartError";
  constructor(
    readonly service: string,
    readonly exitCode: number,
    options: { cause: unknown },
  ) {
    super(`${service} failed to start: ${(options.cause as Error)?.message ?? String(options.cause)}`, options);
  }
}
