// The one counting semaphore: publish windows, handlers in flight, watch backpressure. Slots are handed
// over first come, first served, so `inUse` never exceeds the capacity; `inUse` and `waiting` are the
// depths metrics report (faro_queue_depth, faro_bus_*_inflight).

export class Semaphore {
  readonly capacity: number;
  private used = 0;
  /** Waiters in arrival order; each is told whether it got a slot (false: its signal aborted). */
  private readonly queue: Array<(held: boolean) => void> = [];
  private idleWaiters: Array<() => void> = [];

  /** `onChange` sees `inUse` after every change (a gauge's `set`). */
  constructor(
    capacity: number,
    private readonly onChange?: (inUse: number) => void,
  ) {
    if (!Number.isFinite(capacity) || capacity < 1) throw new RangeError(`semaphore capacity must be at least 1, got ${capacity}`);
    this.capacity = Math.floor(capacity);
  }

  /** Slots held now. */
  get inUse(): number {
    return this.used;
  }

  /** Callers waiting for a slot. */
  get waiting(): number {
    return this.queue.length;
  }

  /** Takes a slot when one is free and nobody waits; never waits. */
  tryAcquire(): boolean {
    if (this.used >= this.capacity || this.queue.length > 0) return false;
    this.used++;
    this.onChange?.(this.used);
    return true;
  }

  /**
   * Resolves true once a slot is held (release() it exactly once), or false without a slot when `signal`
   * aborts first. A waiter holds one abort listener on `signal` while it waits.
   */
  acquire(signal?: AbortSignal): Promise<boolean> {
    if (signal?.aborted) return Promise.resolve(false);
    if (this.tryAcquire()) return Promise.resolve(true);
    return new Promise<boolean>((resolve) => {
      const grant = (held: boolean) => {
        signal?.removeEventListener("abort", onAbort);
        resolve(held);
      };
      const onAbort = () => {
        const i = this.queue.indexOf(grant);
        if (i >= 0) this.queue.splice(i, 1);
        resolve(false);
      };
      this.queue.push(grant);
      signal?.addEventListener("abort", onAbort, { once: true });
    });
  }

  /** Gives a slot back: to the longest waiter when there is one (inUse unchanged), else to the pool. */
  release(): void {
    if (this.used === 0) throw new Error("Semaphore.release() without a held slot");
    const next = this.queue.shift();
    if (next) {
      next(true);
      return;
    }
    this.used--;
    this.onChange?.(this.used);
    if (this.used === 0 && this.idleWaiters.length > 0) for (const w of this.idleWaiters.splice(0)) w();
  }

  /** Resolves once no slot is held (at once when none is). */
  idle(): Promise<void> {
    if (this.used === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }
}
