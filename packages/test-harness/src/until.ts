// Polls a condition until it yields a truthy value: tests wait for events this way instead of sleeping.

/**
 * Calls `cond` every `pollMs` until it returns a truthy value, which is returned. A throwing `cond`
 * counts as "not yet" (its last error is reported on timeout). The deadline only matters on failure,
 * so it is generous by default.
 */
export async function until<V>(
  cond: () => V | undefined | false | Promise<V | undefined | false>,
  what: string,
  timeoutMs = 30_000,
  pollMs = 20,
): Promise<V> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await cond();
      if (v) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${(last as Error).message}` : ""}`);
    await new Promise((r) => setTimeout(r, pollMs));
  }
}
