// Errors of the faro CLI: bad usage exits 2, a failed command exits 1, both with one clear line.

/** The command line is wrong (unknown command or flag, missing value). Exit code 2. */
export class UsageError extends Error {
  constructor(
    message: string,
    readonly command?: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = "UsageError";
  }
}

/** A command failed while running. Exit code 1. */
export class CommandError extends Error {
  constructor(
    message: string,
    readonly command: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = "CommandError";
  }
}

/**
 * What to do about a service that failed to start, as one line: the address, file or field, and the fix.
 * `message` is the failure's own message (the innermost useful one); unknown failures come back unchanged.
 */
export function explainStartFailure(message: string, env: Readonly<Record<string, string | undefined>> = process.env): string {
  const server = /(NATS|Redis) at (\S+?) failed: .*(ECONNREFUSED|connection refused|ENOTFOUND|EAI_AGAIN|ETIMEDOUT|timeout)/i.exec(message);
  if (server) {
    const [, what, url] = server;
    return `cannot reach ${what} at ${url} — start it with: npm run services up (or point FARO_${what!.toUpperCase()}_URL / --${what!.toLowerCase()} at a running ${what})`;
  }
  const missing = /kubeconfig file "([^"]+)" does not exist/.exec(message) ?? /kubeconfig file\(s\) from \$KUBECONFIG do not exist: (.+)$/.exec(message);
  if (missing) return `kubeconfig ${missing[1]} does not exist — pass --kubeconfig PATH of an existing file (or set KUBECONFIG); to try Faro without a cluster: npm run demo`;
  const api = /(?:API discovery failed|cannot reach|connect) .*?(ECONNREFUSED|ENOTFOUND|EHOSTUNREACH|ETIMEDOUT) ([\d.:a-z-]+)/i.exec(message);
  if (api && /discovery|kube/i.test(message)) {
    const noConfig = !env.KUBECONFIG && !env.FARO_KUBE_KUBECONFIG;
    return `cannot reach the Kubernetes API at ${api[2]}${noConfig ? " (no kubeconfig given; KUBECONFIG and ~/.kube/config are unset or missing)" : ""} — pass --kubeconfig PATH (and --context NAME), or try Faro without a cluster: npm run demo`;
  }
  return message.replace(/^start failed: /, "");
}
