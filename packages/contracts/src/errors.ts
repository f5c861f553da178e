// Named errors of @faro/contracts: every failure to encode, decode, parse or validate a contract.

/** Base class: anything that violates the public contract of the bus. */
export class ContractError extends Error {
  override name = "ContractError";
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** Bytes that are not a valid protobuf encoding of the expected message. */
export class DecodeError extends ContractError {
  override name = "DecodeError";
  constructor(
    readonly messageType: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(`cannot decode ${messageType}: ${message}`, options);
  }
}

/** A message whose schema_version is missing (0) or not one this code understands. */
export class SchemaVersionError extends ContractError {
  override name = "SchemaVersionError";
  constructor(
    readonly messageType: string,
    readonly got: number,
    readonly supported: readonly number[],
  ) {
    super(
      `${messageType}: schema_version ${got === 0 ? "missing (0)" : got} is not supported (supported: ${supported.join(", ")})`,
    );
  }
}

/** A message object that does not fit its schema (wrong field type, unknown enumerated value). */
export class InvalidMessageError extends ContractError {
  override name = "InvalidMessageError";
  constructor(
    readonly messageType: string,
    readonly field: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(`${messageType}.${field}: ${message}`, options);
  }
}

/** A subject that does not follow the faro.v1 taxonomy, or a token that cannot be escaped/unescaped. */
export class SubjectError extends ContractError {
  override name = "SubjectError";
  constructor(
    readonly subject: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(`subject ${JSON.stringify(subject)}: ${message}`, options);
  }
}
