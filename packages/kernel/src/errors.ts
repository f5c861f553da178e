// Errors of @faro/kernel: a service definition is malformed, or a connection the runner owns cannot be made.

/** Base class of every kernel error. */
export class KernelError extends Error {
  override name = "KernelError";
}

/** A service definition breaks a rule of the kernel (a programming error, found at definition time). */
export class DefinitionError extends KernelError {
  override name = "DefinitionError";
  constructor(
    readonly service: string,
    reason: string,
  ) {
    super(`service definition "${service}": ${reason}`);
  }
}

/** A step of starting a service failed (connect, provision, create, start); `step` names which. */
export class ServiceStepError extends KernelError {
  override name = "ServiceStepError";
  constructor(
    readonly service: string,
    readonly step: string,
    options: { cause: unknown },
  ) {
    super(`${step} failed: ${(options.cause as Error)?.message ?? String(options.cause)}`, options);
  }
}

/** A credential or certificate file named in the configuration cannot be read. */
export class CredentialFileError extends KernelError {
  override name = "CredentialFileError";
  constructor(
    readonly field: string,
    readonly file: string,
    options: { cause: unknown },
  ) {
    super(`${field}: cannot read ${file}: ${(options.cause as Error)?.message ?? String(options.cause)}`, options);
  }
}

/** Something asked for a resource the definition did not declare (e.g. Redis without `redis: true`). */
export class UndeclaredResourceError extends KernelError {
  override name = "UndeclaredResourceError";
  constructor(
    readonly service: string,
    readonly resource: string,
  ) {
    super(`${service} uses ${resource} but its definition does not declare it`);
  }
}
