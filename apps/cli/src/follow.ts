// Follows bus stages with ordered (ephemeral) consumers: no provisioning, nothing left behind on the server
// (deleted on stop; dropped by the server FOLLOW_INACTIVE_MS after a tail that died).
import { DeliverPolicy, jetstream, type Consumer, type ConsumerMessages } from "@nats-io/jetstream";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { cleanFilter, dlqFilter, FARO_CLEAN, FARO_DLQ, FARO_INCIDENT, FARO_RAW, FARO_STORY, incidentFilter, rawFilter, storyFilter } from "@faro/contracts";
import { CommandError } from "./errors.js";
import { decodeRecord, type TailRecord } from "./tail-format.js";

export const TAIL_STAGES = ["raw", "clean", "story", "incident", "dlq"] as const;
export type TailStage = (typeof TAIL_STAGES)[number];
/** How often `caughtUp()` asks the server whether a stage with nothing new to hand over is done. */
const CATCH_UP_POLL_MS = 200;
/** The server deletes a follower's consumer this long after its last pull. */
const FOLLOW_INACTIVE_MS = 10_000;

export interface FollowOptions {
  servers: string;
  stages: readonly TailStage[];
  namespace?: string;
  cluster?: string;
  /** Replay what the streams hold (DeliverPolicy All) instead of only new messages. */
  all?: boolean;
  /** Replay from this time on (DeliverPolicy StartTime); wins over `all`. */
  since?: Date;
  onRecord(r: TailRecord): void;
  /** An existing connection (the caller closes it); otherwise one is opened and closed by stop(). */
  nc?: NatsConnection;
}

export interface Follower {
  /** Resolves once every consumer has ended (after stop()). */
  readonly done: Promise<void>;
  /** Resolves once every stage has printed all its stream holds so far (`faro tail --no-follow`). */
  caughtUp(): Promise<void>;
  stop(): Promise<void>;
}

function streamAndFilter(stage: TailStage, o: FollowOptions): [string, string] {
  const f = { cluster: o.cluster, namespace: o.namespace };
  switch (stage) {
    case "raw":
      return [FARO_RAW.name, rawFilter(f)];
    case "clean":
      return [FARO_CLEAN.name, cleanFilter(f)];
    case "story":
      return [FARO_STORY.name, storyFilter(f)];
    case "incident":
      return [FARO_INCIDENT.name, incidentFilter(f)];
    case "dlq":
      return [FARO_DLQ.name, dlqFilter()];
  }
}

/** Starts following; throws CommandError when NATS is unreachable or a stream does not exist yet. */
export async function follow(o: FollowOptions): Promise<Follower> {
  let nc = o.nc;
  const own = nc === undefined;
  try {
    nc ??= await connect({ servers: o.servers, name: "faro-tail", maxReconnectAttempts: -1 });
  } catch (err) {
    throw new CommandError(`cannot reach NATS at ${o.servers} (${(err as Error).message}) — start it with: npm run services up (or point --nats / FARO_NATS_URL at a running NATS)`, "tail", { cause: err });
  }
  const js = jetstream(nc);
  const iterators: ConsumerMessages[] = [];
  const consumers: Consumer[] = [];
  const remove = async () => {
    for (const c of consumers.splice(0)) await c.delete().catch(() => undefined);
  };
  try {
    for (const stage of o.stages) {
      const [stream, filter] = streamAndFilter(stage, o);
      let consumer;
      try {
        const start = o.since
          ? { deliver_policy: DeliverPolicy.StartTime, opt_start_time: o.since.toISOString() }
          : { deliver_policy: o.all ? DeliverPolicy.All : DeliverPolicy.New };
        consumer = await js.consumers.get(stream, { filter_subjects: filter, ...start, inactive_threshold: FOLLOW_INACTIVE_MS });
      } catch (err) {
        throw new CommandError(`cannot follow ${stream} (${(err as Error).message}); is the pipeline running against ${o.servers}?`, "tail", { cause: err });
      }
      consumers.push(consumer);
      iterators.push(await consumer.consume());
    }
  } catch (err) {
    for (const it of iterators) await it.close();
    await remove();
    if (own) await nc.close();
    throw err;
  }
  // A stage is caught up when a message it handed over had nothing pending after it, or (no such message, e.g.
  // nothing matches) the server says nothing is pending and all it delivered has been handed over.
  const handled = consumers.map(() => 0);
  const caught = consumers.map(() => {
    let mark!: () => void;
    const p = new Promise<void>((resolve) => (mark = resolve));
    return { p, mark, done: false };
  });
  const markCaught = (i: number) => {
    caught[i]!.done = true;
    caught[i]!.mark();
  };
  const done = Promise.all(
    iterators.map(async (it, i) => {
      for await (const m of it) {
        o.onRecord(decodeRecord(m.subject, m.data, m.seq));
        handled[i] = m.seq;
        if (m.info.pending === 0) markCaught(i);
      }
    }),
  ).then(() => undefined);
  let polling: Promise<void> | undefined;
  const caughtUp = () =>
    (polling ??= (async () => {
      const all = Promise.all(caught.map((c) => c.p));
      while (caught.some((c) => !c.done)) {
        for (const [i, c] of consumers.entries()) {
          if (caught[i]!.done) continue;
          const info = await c.info(false).catch(() => undefined);
          if (info && info.num_pending === 0 && info.delivered.stream_seq <= handled[i]!) markCaught(i);
        }
        if (caught.some((c) => !c.done)) await Promise.race([all, new Promise((r) => setTimeout(r, CATCH_UP_POLL_MS))]);
      }
    })());
  let stopping: Promise<void> | undefined;
  return {
    done,
    caughtUp,
    stop() {
      stopping ??= (async () => {
        for (const it of iterators) await it.close();
        await done.catch(() => undefined);
        await remove();
        if (own) await nc!.close();
      })();
      return stopping;
    },
  };
}
