// Waits until one cluster's pipeline is drained: each of its durable consumers has nothing pending and nothing
// new was delivered to any of them for a while. Only the pipeline's own consumers are looked at, so other
// pipelines busy on the same bus do not keep it from draining.
import type { JetStreamManager } from "@nats-io/jetstream";
import { FARO_CLEAN, FARO_INCIDENT, FARO_INSIGHT, FARO_RAW, FARO_STORY } from "@faro/contracts";
import { scopedDurable } from "@faro/kernel";
import { CommandError } from "./errors.js";

export interface DrainTarget {
  stream: string;
  durable: string;
  /** The service consuming it (`filter`, …), when it is one of the pipeline's. */
  service?: string;
}

/** The durables of the pipeline of `cluster` downstream of the watcher (`<cluster>_filter`, …), in pipeline order. */
export function pipelineConsumers(cluster: string): DrainTarget[] {
  return (
    [
      [FARO_RAW.name, "log-streamer"],
      [FARO_RAW.name, "filter"],
      [FARO_CLEAN.name, "correlator"],
      [FARO_INCIDENT.name, "analyzer"],
      [FARO_STORY.name, "writer"],
    ] as const
  ).map(([stream, service]) => ({ stream, durable: scopedDurable(cluster, service), service }));
}

/**
 * The forwarder's per-sink durables of `cluster` (`<cluster>_forwarder-<sink>` on FARO_INCIDENT, and on FARO_INSIGHT
 * for sinks that take insights): their names depend on the configured sinks, so they are listed, not derived.
 */
export async function forwarderConsumers(jsm: JetStreamManager, cluster: string): Promise<DrainTarget[]> {
  const prefix = scopedDurable(cluster, "forwarder-");
  const found: DrainTarget[] = [];
  for (const stream of [FARO_INCIDENT.name, FARO_INSIGHT.name]) {
    try {
      for await (const c of jsm.consumers.list(stream)) {
        if (c.name.startsWith(prefix)) found.push({ stream, durable: c.name, service: "forwarder" });
      }
    } catch (err) {
      if (!/stream not found/i.test((err as Error).message)) throw err;
    }
  }
  return found;
}

export interface DrainOptions {
  /** The consumers to wait for: `pipelineConsumers(cluster)` or a part of it. */
  consumers: readonly DrainTarget[];
  /** Nothing new may have been delivered to the consumers for this long (covers work a service holds between consuming and publishing). */
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
  /** The last stream sequence delivered to each consumer (-1: it does not exist yet); grows only with the consumer's own subjects. */
  delivered: Record<string, number>;
}

/** One look at the consumers; a durable that does not exist yet counts as one outstanding. */
export async function drainState(jsm: JetStreamManager, consumers: readonly DrainTarget[]): Promise<DrainState> {
  let outstanding = 0;
  const delivered: Record<string, number> = {};
  const byConsumer: Record<string, number> = {};
  for (const c of consumers) {
    try {
      const info = await jsm.consumers.info(c.stream, c.durable);
      const n = info.num_pending + info.num_ack_pending;
      outstanding += n;
      if (n > 0) byConsumer[c.durable] = n;
      delivered[c.durable] = info.delivered.stream_seq;
    } catch (err) {
      if (!/consumer not found|stream not found/i.test((err as Error).message)) throw err;
      outstanding += 1;
      byConsumer[c.durable] = 1;
      delivered[c.durable] = -1;
    }
  }
  return { outstanding, byConsumer, delivered };
}

/**
 * Polls until every consumer has num_pending = num_ack_pending = 0 and none was delivered anything new for
 * `quietMs`. Throws CommandError after `timeoutMs`.
 */
export async function waitDrained(jsm: JetStreamManager, options: DrainOptions): Promise<void> {
  const consumers = options.consumers;
  const quietMs = options.quietMs ?? 1000;
  const deadline = Date.now() + (options.timeoutMs ?? 120_000);
  const pollMs = options.pollMs ?? 100;
  let stableSince = 0;
  let previous = "";
  for (;;) {
    const s = await drainState(jsm, consumers);
    options.onProgress?.(s);
    const key = JSON.stringify(s.delivered);
    if (s.outstanding === 0 && key === previous) {
      if (Date.now() - stableSince >= quietMs) return;
    } else stableSince = Date.now();
    previous = key;
    if (Date.now() > deadline) throw new CommandError(`pipeline not drained after ${options.timeoutMs ?? 120_000}ms (${s.outstanding} messages outstanding)`, "drain");
    await new Promise((r) => setTimeout(r, pollMs));
  }
}
