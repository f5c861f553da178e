import { describe, expect, it } from "vitest";
import { backoffDelay, sleep } from "./backoff.js";

describe("backoffDelay", () => {
  it("doubles from the base and caps at the max without jitter", () => {
    const o = { baseMs: 100, maxMs: 1000 };
    expect([1, 2, 3, 4, 5, 40].map((a) => backoffDelay(a, o))).toEqual([100, 200, 400, 800, 1000, 1000]);
  });

  it("keeps jitter within its fraction", () => {
    const o = { baseMs: 1000, maxMs: 10_000, jitter: 0.2 };
    expect(backoffDelay(1, o, () => 0)).toBe(800);
    expect(backoffDelay(1, o, () => 1)).toBe(1200);
    expect(backoffDelay(1, o, () => 0.5)).toBe(1000);
  });
});

describe("sleep", () => {
  it("returns early when aborted", async () => {
    const ac = new AbortController();
    const t0 = Date.now();
    const p = sleep(10_000, ac.signal);
    ac.abort();
    await p;
    expect(Date.now() - t0).toBeLessThan(1000);
  });
});
