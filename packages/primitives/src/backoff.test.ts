// Unit tests of the shared backoff schedule and the abortable sleep.
import { describe, expect, it } from "vitest";
import { backoffDelay } from "./backoff.js";
import { sleep } from "./sleep.js";

describe("backoffDelay", () => {
  it("doubles from the base and caps at the max without jitter", () => {
    const o = { baseMs: 100, maxMs: 1000 };
    expect([1, 2, 3, 4, 5, 40].map((a) => backoffDelay(a, o))).toEqual([100, 200, 400, 800, 1000, 1000]);
  });

  it("treats attempts below 1 as the first", () => {
    expect(backoffDelay(0, { baseMs: 100, maxMs: 1000 })).toBe(100);
    expect(backoffDelay(-3, { baseMs: 100, maxMs: 1000 })).toBe(100);
  });

  it("keeps jitter within its fraction", () => {
    const o = { baseMs: 1000, maxMs: 10_000, jitter: 0.2 };
    expect(backoffDelay(1, o, () => 0)).toBe(800);
    expect(backoffDelay(1, o, () => 1)).toBe(1200);
    expect(backoffDelay(1, o, () => 0.5)).toBe(1000);
  });

  it("never exceeds maxMs, jitter included, and still spreads out below it", () => {
    const o = { baseMs: 100, maxMs: 1000, jitter: 0.5 };
    expect(backoffDelay(20, o, () => 1)).toBe(1000);
    expect(backoffDelay(20, o, () => 0)).toBe(500);
    for (let i = 0; i < 200; i++) expect(backoffDelay(1 + (i % 12), o)).toBeLessThanOrEqual(1000);
  });

  it("does not overflow on huge attempt numbers", () => {
    expect(backoffDelay(1e9, { baseMs: 250, maxMs: 30_000 })).toBe(30_000);
  });
});

describe("sleep", () => {
  it("resolves true after the delay", async () => {
    const t0 = Date.now();
    expect(await sleep(20)).toBe(true);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(15);
  });

  it("resolves false early when aborted, and at once when already aborted", async () => {
    const ac = new AbortController();
    const t0 = Date.now();
    const p = sleep(10_000, ac.signal);
    ac.abort();
    expect(await p).toBe(false);
    expect(Date.now() - t0).toBeLessThan(1000);
    expect(await sleep(10_000, ac.signal)).toBe(false);
  });

  it("leaves no abort listener behind once it has slept", async () => {
    const ac = new AbortController();
    const warnings: Error[] = [];
    const onWarning = (w: Error) => warnings.push(w);
    process.on("warning", onWarning);
    try {
      // 30 sleeps one after another on one signal: each removes its listener when it ends.
      for (let i = 0; i < 30; i++) await sleep(0, ac.signal);
      await new Promise((r) => setImmediate(r));
    } finally {
      process.off("warning", onWarning);
    }
    expect(warnings.filter((w) => w.name === "MaxListenersExceededWarning")).toEqual([]);
  });
});
