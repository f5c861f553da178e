// Shared helpers of the bus integration tests: polling a condition with a deadline, test-sized specs.
import type { ConsumerSpec, StreamSpec } from "../src/index.js";

export async function waitFor(cond: () => boolean | Promise<boolean>, timeoutMs = 10_000, what = "condition"): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await cond()) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

export function streamSpec(name: string, subjects: string[], over: Partial<StreamSpec> = {}): StreamSpec {
  return {
    name,
    subjects,
    maxAgeMs: 3600_000,
    maxBytes: 256 * 1024 * 1024,
    duplicateWindowMs: 120_000,
    storage: "memory",
    ...over,
  };
}

export function consumerSpec(durable: string, over: Partial<ConsumerSpec> = {}): ConsumerSpec {
  return { durable, ackWaitMs: 5000, maxDeliver: 5, maxAckPending: 1000, ...over };
}

export const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
export const dec = (b: Uint8Array): string => new TextDecoder().decode(b);
