// Unit tests of the shared counting semaphore: capacity, first-come-first-served handover, abort, idle.
import { describe, expect, it } from "vitest";
import { Semaphore } from "./semaphore.js";

const tick = () => new Promise((r) => setImmediate(r));

describe("Semaphore", () => {
  it("holds at most `capacity` slots and hands them over in arrival order", async () => {
    const seen: number[] = [];
    const s = new Semaphore(2, (n) => seen.push(n));
    expect(await s.acquire()).toBe(true);
    expect(await s.acquire()).toBe(true);
    expect(s.inUse).toBe(2);
    const order: string[] = [];
    const a = s.acquire().then((held) => order.push(`a:${held}`));
    const b = s.acquire().then((held) => order.push(`b:${held}`));
    await tick();
    expect(order).toEqual([]);
    expect(s.waiting).toBe(2);
    s.release();
    await a;
    expect(order).toEqual(["a:true"]);
    expect(s.inUse).toBe(2); // handed over, never above capacity
    s.release();
    await b;
    expect(order).toEqual(["a:true", "b:true"]);
    s.release();
    s.release();
    expect(s.inUse).toBe(0);
    expect(seen).toEqual([1, 2, 1, 0]);
  });

  it("tryAcquire never waits and never jumps the queue", async () => {
    const s = new Semaphore(1);
    expect(s.tryAcquire()).toBe(true);
    expect(s.tryAcquire()).toBe(false);
    const w = s.acquire();
    s.release();
    expect(await w).toBe(true);
    expect(s.tryAcquire()).toBe(false);
  });

  it("gives up waiting without a slot when the signal aborts", async () => {
    const s = new Semaphore(1);
    await s.acquire();
    const ac = new AbortController();
    const w = s.acquire(ac.signal);
    const next = s.acquire();
    ac.abort();
    expect(await w).toBe(false);
    expect(s.waiting).toBe(1);
    s.release();
    expect(await next).toBe(true); // the aborted waiter was skipped
    expect(await s.acquire(ac.signal)).toBe(false);
    expect(s.inUse).toBe(1);
  });

  it("tells when the last slot comes back", async () => {
    const s = new Semaphore(3);
    await expect(s.idle()).resolves.toBeUndefined();
    await s.acquire();
    await s.acquire();
    let idle = false;
    const p = s.idle().then(() => (idle = true));
    s.release();
    await tick();
    expect(idle).toBe(false);
    s.release();
    await p;
    expect(idle).toBe(true);
  });

  it("refuses a release without a held slot and a capacity below 1", () => {
    expect(() => new Semaphore(1).release()).toThrow(/without a held slot/);
    expect(() => new Semaphore(0)).toThrow(RangeError);
  });
});
