// The client-side rate limit of one sink: a token bucket, plus a pause every delivery honours after a
// receiver answered 429 with Retry-After (one throttled answer slows the whole sink, not one message).
import { sleep } from "@faro/primitives";

export class RateLimiter {
  private tokens: number;
  private last: number;
  private pausedUntil = 0;

  constructor(
    private readonly perSecond: number,
    private readonly burst: number,
    private readonly now: () => number = Date.now,
  ) {
    this.tokens = burst;
    this.last = now();
  }

  /** Everything waits until `atMs` (Retry-After). */
  pauseUntil(atMs: number): void {
    this.pausedUntil = Math.max(this.pausedUntil, atMs);
  }

  /** Waits for a token (and any pause); resolves false when `signal` aborts first. Returns the time waited in `waited`. */
  async take(signal: AbortSignal): Promise<{ ok: boolean; waitedMs: number }> {
    const started = this.now();
    for (;;) {
      if (signal.aborted) return { ok: false, waitedMs: this.now() - started };
      const t = this.now();
      if (t < this.pausedUntil) {
        await sleep(this.pausedUntil - t, signal);
        continue;
      }
      if (this.perSecond <= 0) return { ok: true, waitedMs: t - started };
      this.tokens = Math.min(this.burst, this.tokens + ((t - this.last) / 1000) * this.perSecond);
      this.last = t;
      if (this.tokens >= 1) {
        this.tokens -= 1;
        return { ok: true, waitedMs: t - started };
      }
      await sleep(Math.ceil(((1 - this.tokens) / this.perSecond) * 1000), signal);
    }
  }
}
