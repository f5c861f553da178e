// Unit tests of the publisher's window and retries against a fake JetStream client (no server).
import type { JetStreamClient, PubAck } from "@nats-io/jetstream";
import { pino } from "pino";
import { Registry } from "prom-client";
import { describe, expect, it } from "vitest";
import { Publisher } from "./publisher.js";

/** A client whose first `failures` attempts of every msgId time out, then acks. */
function flakyJs(failures: number, seen: { maxConcurrent: number } = { maxConcurrent: 0 }): JetStreamClient {
  const attempts = new Map<string, number>();
  let running = 0;
  return {
    async publish(_subject: string, _data: Uint8Array, opts: { msgID: string }): Promise<PubAck> {
      running++;
      seen.maxConcurrent = Math.max(seen.maxConcurrent, running);
      try {
        await new Promise((r) => setImmediate(r));
        const n = (attempts.get(opts.msgID) ?? 0) + 1;
        attempts.set(opts.msgID, n);
        if (n <= failures) throw Object.assign(new Error("timeout"), { name: "TimeoutError" });
        return { stream: "S", seq: n, duplicate: false, domain: "" } as PubAck;
      } finally {
        running--;
      }
    },
  } as unknown as JetStreamClient;
}

const quiet = pino({ enabled: false });

describe("Publisher", () => {
  it("retries many publishes at once without a MaxListenersExceededWarning", async () => {
    const warnings: Error[] = [];
    const onWarning = (w: Error) => warnings.push(w);
    process.on("warning", onWarning);
    try {
      const pub = new Publisher({ js: flakyJs(2), window: 64, retryBaseMs: 5, retryMaxMs: 20, registry: new Registry(), logger: quiet });
      // 40 publishes retrying together: 40 sleeps pending on the publisher's signal at once.
      const acks = await Promise.all(Array.from({ length: 40 }, (_, i) => pub.publish("s", new Uint8Array(), { msgId: `m${i}` })));
      expect(acks.every((a) => a.seq === 3)).toBe(true);
      await pub.close();
      await new Promise((r) => setImmediate(r));
    } finally {
      process.off("warning", onWarning);
    }
    expect(warnings.filter((w) => w.name === "MaxListenersExceededWarning").map((w) => w.message)).toEqual([]);
  });

  it("keeps at most `window` publishes in flight", async () => {
    const seen = { maxConcurrent: 0 };
    const pub = new Publisher({ js: flakyJs(1, seen), window: 3, retryBaseMs: 1, retryMaxMs: 2, registry: new Registry(), logger: quiet });
    await Promise.all(Array.from({ length: 20 }, (_, i) => pub.publish("s", new Uint8Array(), { msgId: `m${i}` })));
    expect(seen.maxConcurrent).toBeLessThanOrEqual(3);
    expect(pub.inflight).toBe(0);
    await pub.close();
  });
});
