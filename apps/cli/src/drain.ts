// Waits until the pipeline is drained: every durable consumer has nothing pending and the streams stopped growing.
import type { JetStreamManager } from "@nats-io/jetstream";
import { FARO_CLEAN, FARO_RAW, FARO_STORY } from "@faro/contracts";
import { CommandError } from "./errors.js";

export interface DrainTarget {
  stream: string;
  durable: string;
}

/** The durables downstream of the sources, in pipeline order. */
export const PIPELINE_CONSUMERS: readonly DrainTarget[] = [
  { stream: FARO_RAW.name, durable: "log-streamer" },
  { stream: FARO_RAW.name, durable: "filter" },
  { stream: FARO_CLEAN.name, durable: "correlator" },
  { stream: FARO_STORY.name, durable: "writer" },
];

export interface DrainOptions {
  consumers?: readonly DrainTarget[];
  /** The streams must not have grown for this long (covers work a service holds between consuming and publishing). */
  quietMs?: number;
  timeoutMs?: number;
  pollMs?: number;
  /** Called on every poll with what is still outstanding (progress lines). */
  onProgress?(state: DrainState): void;
}

export interface DrainState {
  /** Messages not yet delivered or not yet acked, summed over the consumers. */
  outstanding: number;
  /** Outstanding per durable (only those with any). */
  byConsumer: Record<string, number>;
  /** Last sequence of each stream involved. */
  lastSeqs: Record<string, number>;
}

/** One look at the consumers and streams; a durable that does not exist yet counts as one outstanding. */
export async function drainState(jsm: JetStreamManager, consumers: readonly DrainTarget[] = PIPELINE_CONSUMERS): Promise<DrainState> {
  let outstanding = 0;
  const lastSeqs: Record<string, number> = {};
  const byConsumer: Record<string, number> = {};
  for (const c of consumers) {
    try {
      const info = await jsm.consumers.info(c.stream, c.durable);
      const n = info.num_pending + info.num_ack_pending;
      outstanding += n;
      if (n > 0) byConsumer[c.durable] = n;
    } catch (err) {
      if (!/consumer not found|stream not found/i.test((err as Error).message)) throw err;
      outstanding += 1;
      byConsumer[c.durable] = 1;
    }
    if (!(c.stream in lastSeqs)) {
      try {
        lastSeqs[c.stream] = (await jsm.streams.info(c.stream)).state.last_seq;
      } catch (err) {
        if (!/stream not found/i.test((err as Error).message)) throw err;
        lastSeqs[c.stream] = -1;
      }
    }
  }
  return { outstanding, byConsumer, lastSeqs };
}

/**
 * Polls until every consumer has num_pending = num_ack_pending = 0 and no stream has grown for `quietMs`.
 * Throws CommandError after `timeoutMs`.
 */
export async function waitDrained(jsm: JetStreamManager, options: DrainOptions = {}): Promise<void> {
  const consumers = options.consumers ?? PIPELINE_CONSUMERS;
  const quietMs = options.quietMs ?? 1000;
  const deadline = Date.now() + (options.timeoutMs ?? 120_000);
  const pollMs = options.pollMs ?? 100;
  let stableSince = 0;
  let previous = "";
  for (;;) {
    const s = await drainState(jsm, consumers);
    options.onProgress?.(s);
    const key = JSON.stringify(s.lastSeqs);
    if (s.outstanding === 0 && key === previous) {
      if (Date.now() - stableSince >= quietMs) return;
    } else stableSince = Date.now();
    previous = key;
    if (Date.now() > deadline) throw new CommandError(`pipeline not drained after ${options.timeoutMs ?? 120_000}ms (${s.outstanding} messages outstanding)`, "drain");
    await new Promise((r) => setTimeout(r, pollMs));
  }
}
