// Unit tests of the position a stream continues from when its checkpoint is rebuilt from its batches on the bus.
import { describe, expect, it } from "vitest";
import { tailOf } from "./lines.js";
import { positionOf } from "./recovery.js";

const T = (ns: number) => `2026-01-01T00:00:00.${String(ns).padStart(9, "0")}Z`;
const batch = (seqStart: number, stamps: number[], eos = false) => ({ seqStart, count: stamps.length, tail: tailOf(stamps.map((n) => ({ timestamp: T(n) }))), eos });

describe("positionOf", () => {
  it("is undefined when the instance published nothing", () => {
    expect(positionOf([])).toBeUndefined();
  });

  it("continues after the last line of batches that tile the seq range, in any order", () => {
    expect(positionOf([batch(3, [4, 5]), batch(0, [1, 2, 3])])).toEqual({ seq: 5, pos: { ts: T(5), atTs: 1 }, done: false, batches: 2 });
  });

  it("counts the lines at the last timestamp across batches, and a replayed batch once", () => {
    const p = positionOf([batch(0, [1, 7]), batch(2, [7, 7]), batch(2, [7, 7])]);
    expect(p).toMatchObject({ seq: 4, pos: { ts: T(7), atTs: 3 } });
  });

  it("is done when the endOfStream batch is there (also an empty marker)", () => {
    expect(positionOf([batch(0, [1, 2]), batch(2, [], true)])).toMatchObject({ seq: 2, pos: { ts: T(2), atTs: 1 }, done: true });
    expect(positionOf([batch(0, [], true)])).toMatchObject({ seq: 0, done: true });
  });
});
