// KeyedLock: serial per key in call order, concurrent across keys, a failure does not block the next task.
import { describe, expect, it } from "vitest";
import { KeyedLock } from "./keyed-lock.js";

describe("KeyedLock", () => {
  it("runs one task at a time per key, in call order, and other keys meanwhile", async () => {
    const lock = new KeyedLock();
    const log: string[] = [];
    let releaseA!: () => void;
    const a1 = lock.run("a", () => new Promise<void>((r) => (releaseA = () => (log.push("a1"), r()))));
    const a2 = lock.run("a", async () => void log.push("a2"));
    await lock.run("b", async () => void log.push("b1"));
    expect(log).toEqual(["b1"]);
    releaseA();
    await Promise.all([a1, a2]);
    expect(log).toEqual(["b1", "a1", "a2"]);
    await lock.idle();
    expect(lock.size).toBe(0);
  });

  it("passes a failure to its caller and runs the next task of the key", async () => {
    const lock = new KeyedLock();
    const failed = lock.run("k", () => Promise.reject(new Error("boom")));
    const next = lock.run("k", async () => 42);
    await expect(failed).rejects.toThrow("boom");
    await expect(next).resolves.toBe(42);
  });
});
