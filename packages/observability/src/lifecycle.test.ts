import { describe, expect, it } from "vitest";
import { LifecycleError } from "./errors.js";
import { Lifecycle } from "./lifecycle.js";

describe("Lifecycle", () => {
  it("follows starting → ready → draining → stopped and refuses going back", async () => {
    const lc = new Lifecycle("svc");
    const seen: string[] = [];
    lc.onChange((to, from) => seen.push(`${from}>${to}`));
    const drained = lc.waitFor("draining");
    lc.transition("ready");
    lc.transition("draining");
    await drained;
    expect(() => lc.transition("ready")).toThrow(LifecycleError);
    lc.transition("stopped");
    lc.transition("stopped"); // same state: no-op
    expect(seen).toEqual(["starting>ready", "ready>draining", "draining>stopped"]);
    await lc.waitFor("ready"); // already passed: resolves
  });

  it("is ready only in state ready with every check passing, naming the failing ones", async () => {
    const lc = new Lifecycle("svc", 50);
    let natsOk = false;
    lc.addReadinessCheck("nats", () => (natsOk ? true : { ok: false, detail: "not connected" }));
    lc.addReadinessCheck("redis", async () => true);
    expect(await lc.readiness()).toEqual({ ready: false, state: "starting", failing: [{ name: "nats", detail: "not connected" }] });
    lc.transition("ready");
    expect((await lc.readiness()).ready).toBe(false);
    natsOk = true;
    expect(await lc.readiness()).toEqual({ ready: true, state: "ready", failing: [] });
    const remove = lc.addReadinessCheck("slow", () => new Promise<boolean>(() => {}));
    expect((await lc.readiness()).failing).toEqual([{ name: "slow", detail: "check timed out after 50ms" }]);
    remove();
    lc.addReadinessCheck("throws", () => {
      throw new Error("boom");
    });
    expect((await lc.readiness()).failing).toEqual([{ name: "throws", detail: "check threw: boom" }]);
  });
});
