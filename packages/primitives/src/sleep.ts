// The one abortable sleep: node:timers/promises with a signal, resolving (not rejecting) on abort.
import { setTimeout as delay } from "node:timers/promises";

/**
 * Resolves after `ms` with true, or early with false once `signal` aborts (at once when it already has).
 * Each pending sleep holds one abort listener on `signal` until it ends: an owner that lets more than 10
 * sleep on one signal at a time declares that bound with `events.setMaxListeners(n, signal)`.
 */
export async function sleep(ms: number, signal?: AbortSignal, options: { ref?: boolean } = {}): Promise<boolean> {
  if (signal?.aborted) return false;
  try {
    // ref: false lets the process exit while the sleep is pending (a best-effort retry).
    await delay(Math.max(0, ms), undefined, { ...(signal ? { signal } : {}), ...(options.ref === false ? { ref: false } : {}) });
    return true;
  } catch (err) {
    if (signal?.aborted) return false;
    throw err;
  }
}
