// Exponential delays with jitter, shared by reconnects, publish retries and nak delays.

export interface BackoffOptions {
  baseMs: number;
  maxMs: number;
  /** Fraction of the delay that is randomised, 0..1 (0.2 → delay × [0.8, 1.2]). */
  jitter?: number;
}

/** Delay before attempt `attempt` (1-based): base × 2^(attempt-1), capped at max, jittered. */
export function backoffDelay(attempt: number, opts: BackoffOptions, random: () => number = Math.random): number {
  const exp = Math.max(0, Math.min(attempt - 1, 30));
  const raw = Math.min(opts.maxMs, opts.baseMs * 2 ** exp);
  const j = Math.max(0, Math.min(1, opts.jitter ?? 0));
  const factor = 1 - j + 2 * j * random();
  return Math.max(0, Math.round(Math.min(opts.maxMs * (1 + j), raw * factor)));
}

/** Resolves after `ms`, or early (without rejecting) when `signal` aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal?.removeEventListener("abort", done);
      resolve();
    }
    signal?.addEventListener("abort", done, { once: true });
  });
}
