// Errors of the Kubernetes API simulator: ApiError carries the Kubernetes Status object it answers with.

/** The Kubernetes `Status` object an API error is reported as. */
export interface StatusObject {
  kind: "Status";
  apiVersion: "v1";
  metadata: Record<string, unknown>;
  status: "Failure" | "Success";
  message: string;
  reason: string;
  details?: { name?: string; group?: string; kind?: string; uid?: string; causes?: unknown[]; retryAfterSeconds?: number };
  code: number;
}

export interface ApiErrorDetails {
  name?: string;
  group?: string;
  kind?: string;
  uid?: string;
}

/** An API failure with its HTTP code and Kubernetes reason; `status()` is the body to send. */
export class ApiError extends Error {
  override readonly name = "ApiError";
  constructor(
    readonly code: number,
    readonly reason: string,
    message: string,
    readonly details?: ApiErrorDetails,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }

  status(): StatusObject {
    const s: StatusObject = {
      kind: "Status",
      apiVersion: "v1",
      metadata: {},
      status: "Failure",
      message: this.message,
      reason: this.reason,
      code: this.code,
    };
    if (this.details) s.details = { ...this.details };
    return s;
  }
}

/** What a resource is called in messages: `deployments.apps` or `pods`. */
function qualified(group: string, resource: string): string {
  return group ? `${resource}.${group}` : resource;
}

export function notFound(group: string, resource: string, name: string): ApiError {
  return new ApiError(404, "NotFound", `${qualified(group, resource)} "${name}" not found`, {
    name,
    group: group || undefined,
    kind: resource,
  });
}

export function alreadyExists(group: string, resource: string, name: string): ApiError {
  return new ApiError(409, "AlreadyExists", `${qualified(group, resource)} "${name}" already exists`, {
    name,
    group: group || undefined,
    kind: resource,
  });
}

export function conflict(group: string, resource: string, name: string, why: string): ApiError {
  return new ApiError(
    409,
    "Conflict",
    `Operation cannot be fulfilled on ${qualified(group, resource)} "${name}": ${why}`,
    { name, group: group || undefined, kind: resource },
  );
}

export function badRequest(message: string, cause?: unknown): ApiError {
  return new ApiError(400, "BadRequest", message, undefined, { cause });
}

export function invalid(kind: string, name: string, message: string): ApiError {
  return new ApiError(422, "Invalid", `${kind} "${name}" is invalid: ${message}`, { name, kind });
}

export function gone(message: string): ApiError {
  return new ApiError(410, "Expired", message);
}

export function methodNotAllowed(message: string): ApiError {
  return new ApiError(405, "MethodNotAllowed", message);
}
