// A counting semaphore: the bounded publish window the watch handlers wait on (backpressure).

export class Slots {
  private used = 0;
  private readonly waiters: Array<() => void> = [];

  constructor(readonly capacity: number) {}

  get inUse(): number {
    return this.used;
  }

  /** Resolves once a slot is held; callers must release() it exactly once. */
  acquire(): Promise<void> {
    if (this.used < this.capacity) {
      this.used++;
      return Promise.resolve();
    }
    // The slot is handed over by release(), so `used` never exceeds the capacity.
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  release(): void {
    const next = this.waiters.shift();
    if (next) next();
    else this.used--;
  }
}
