// Runs tasks of the same key one after another (delivery order) while tasks of different keys run in parallel.

export class KeyedQueue {
  private readonly tails = new Map<string, Promise<unknown>>();

  /** Keys with work queued or running (bounded by the consumer's concurrency). */
  get size(): number {
    return this.tails.size;
  }

  run<T>(key: string, task: () => Promise<T>): Promise<T> {
    const prev = this.tails.get(key) ?? Promise.resolve();
    // A failed predecessor must not block its successors: each task's outcome is its own caller's.
    const next = prev.then(task, task);
    const tail = next.then(
      () => undefined,
      () => undefined,
    );
    this.tails.set(key, tail);
    void tail.then(() => {
      if (this.tails.get(key) === tail) this.tails.delete(key);
    });
    return next;
  }
}
