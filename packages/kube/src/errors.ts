// Named errors of the Kubernetes access layer, each carrying the context a reader needs.

/** The kubeconfig could not be loaded or has no usable cluster/context. */
export class KubeConfigError extends Error {
  override readonly name = "KubeConfigError";
  readonly source: string | undefined;
  readonly context: string | undefined;
  constructor(message: string, opts: { source?: string; context?: string; cause?: unknown } = {}) {
    super(message, { cause: opts.cause });
    this.source = opts.source;
    this.context = opts.context;
  }
}

/** A Kubernetes API request failed; carries the HTTP code and the Status object when there was one. */
export class KubeApiError extends Error {
  override readonly name = "KubeApiError";
  readonly code: number;
  readonly reason: string | undefined;
  readonly path: string;
  readonly status: unknown;
  constructor(message: string, opts: { code: number; path: string; reason?: string; status?: unknown; cause?: unknown }) {
    super(message, { cause: opts.cause });
    this.code = opts.code;
    this.path = opts.path;
    this.reason = opts.reason;
    this.status = opts.status;
  }
  /** 410 Gone / reason Expired: the requested resourceVersion is no longer in the server's history. */
  get expired(): boolean {
    return this.code === 410 || this.reason === "Expired" || this.reason === "Gone";
  }
  get notFound(): boolean {
    return this.code === 404;
  }
}

/** The connection to the API server broke before a response was complete, or what came back was not HTTP/1.1. */
export class KubeConnectionError extends Error {
  override readonly name = "KubeConnectionError";
  readonly path: string | undefined;
  constructor(message: string, opts: { path?: string; cause?: unknown } = {}) {
    super(message, { cause: opts.cause });
    this.path = opts.path;
  }
}

/** A resource spec (`pods`, `deployments.apps`, `deploy`) matches nothing in API discovery. */
export class UnknownResourceError extends Error {
  override readonly name = "UnknownResourceError";
  readonly spec: string;
  constructor(spec: string, opts: { cause?: unknown; known?: number } = {}) {
    super(
      `unknown resource "${spec}": not found in API discovery` +
        (opts.known !== undefined ? ` (${opts.known} resources known)` : ""),
      { cause: opts.cause },
    );
    this.spec = spec;
  }
}

/** A resource exists but lacks the verbs needed (list and watch) to be watched. */
export class ResourceNotWatchableError extends Error {
  override readonly name = "ResourceNotWatchableError";
  readonly spec: string;
  readonly verbs: string[];
  constructor(spec: string, verbs: string[], missing: string[]) {
    super(`resource "${spec}" cannot be watched: missing verb(s) ${missing.join(", ")} (has ${verbs.join(", ") || "none"})`);
    this.spec = spec;
    this.verbs = verbs;
  }
}

/** A namespace or resource-set pattern is malformed (e.g. an invalid /regex/). */
export class SelectorError extends Error {
  override readonly name = "SelectorError";
  readonly pattern: string;
  constructor(pattern: string, message: string, opts: { cause?: unknown } = {}) {
    super(`invalid namespace pattern "${pattern}": ${message}`, { cause: opts.cause });
    this.pattern = pattern;
  }
}
