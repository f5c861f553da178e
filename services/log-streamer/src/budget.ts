// A byte budget shared by every stream of a replica: lines buffered or in flight count against it, so
// memory stays bounded however many containers are followed (readers wait while it is spent).

export class LineBudget {
  private used = 0;
  private waiters: Array<() => void> = [];

  constructor(
    readonly limit: number,
    private readonly onChange: (used: number) => void = () => {},
  ) {}

  get bytes(): number {
    return this.used;
  }

  get exhausted(): boolean {
    return this.used >= this.limit;
  }

  take(bytes: number): void {
    this.used += bytes;
  }

  give(bytes: number): void {
    this.used = Math.max(0, this.used - bytes);
    this.onChange(this.used);
    if (this.used < this.limit && this.waiters.length > 0) for (const w of this.waiters.splice(0)) w();
  }

  /** Resolves once the budget has room again, or when `signal` aborts. */
  wait(signal: AbortSignal): Promise<void> {
    this.onChange(this.used);
    if (!this.exhausted || signal.aborted) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const done = () => {
        signal.removeEventListener("abort", done);
        this.waiters = this.waiters.filter((w) => w !== done);
        resolve();
      };
      this.waiters.push(done);
      signal.addEventListener("abort", done, { once: true });
    });
  }
}
