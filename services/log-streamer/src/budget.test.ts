// Unit tests of the shared line budget: waiting while spent, waking on release, and on abort.
import { describe, expect, it } from "vitest";
import { LineBudget } from "./budget.js";

describe("LineBudget", () => {
  it("makes readers wait while spent and wakes them when bytes come back", async () => {
    const seen: number[] = [];
    const b = new LineBudget(100, (u) => seen.push(u));
    b.take(60);
    expect(b.exhausted).toBe(false);
    b.take(60);
    expect(b.exhausted).toBe(true);
    let woke = false;
    const w = b.wait(new AbortController().signal).then(() => (woke = true));
    await Promise.resolve();
    expect(woke).toBe(false);
    b.give(30); // 90 < 100
    await w;
    expect(woke).toBe(true);
    expect(b.bytes).toBe(90);
    expect(seen.at(-1)).toBe(90);
  });

  it("releases waiters when their read is aborted", async () => {
    const b = new LineBudget(10);
    b.take(10);
    const ac = new AbortController();
    const w = b.wait(ac.signal);
    ac.abort();
    await expect(w).resolves.toBeUndefined();
    expect(b.exhausted).toBe(true);
  });
});
