// Exponential delays with jitter: the one retry schedule of every layer (NATS pulls, publish retries,
// nak delays, Kubernetes watches, Redis and log-stream retries).

export interface BackoffOptions {
  /** Delay before the first retry (attempt 1). */
  baseMs: number;
  /** Longest delay: no attempt waits longer, jitter included. */
  maxMs: number;
  /** Fraction of the delay that is randomised, 0..1 (0.2 → delay × [0.8, 1.2], never above maxMs). */
  jitter?: number;
}

/**
 * Delay before attempt `attempt` (1-based): base × 2^(attempt-1), capped at max, then jittered by
 * ±jitter and capped at max again (so `maxMs` is a true maximum and replicas still spread out there).
 */
export function backoffDelay(attempt: number, opts: BackoffOptions, random: () => number = Math.random): number {
  const exp = Math.max(0, Math.min(Math.floor(attempt) - 1, 30));
  const raw = Math.min(opts.maxMs, opts.baseMs * 2 ** exp);
  const j = Math.max(0, Math.min(1, opts.jitter ?? 0));
  const factor = j === 0 ? 1 : 1 - j + 2 * j * random();
  return Math.max(0, Math.round(Math.min(opts.maxMs, raw * factor)));
}
