// Errors raised by the test harness when a server cannot be provided.

export class HarnessError extends Error {
  override name = "HarnessError";
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** Neither a local binary nor a Docker engine can provide the server. */
export class ServerUnavailableError extends HarnessError {
  override name = "ServerUnavailableError";
  constructor(readonly server: "nats-server" | "redis-server", hint: string) {
    super(`${server} is not available: ${hint}`);
  }
}
