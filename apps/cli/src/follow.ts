// Follows bus stages with ordered (ephemeral) consumers: no provisioning, nothing left behind on the server
// (deleted on stop; dropped by the server FOLLOW_INACTIVE_MS after a tail that died).
import { DeliverPolicy, jetstream, type Consumer, type ConsumerMessages } from "@nats-io/jetstream";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { cleanFilter, dlqFilter, FARO_CLEAN, FARO_DLQ, FARO_INCIDENT, FARO_RAW, FARO_STORY, incidentFilter, rawFilter, storyFilter } from "@faro/contracts";
import { CommandError } from "./errors.js";
import { decodeRecord, type TailRecord } from "./tail-format.js";

export const TAIL_STAGES = ["raw", "clean", "story", "incident", "dlq"] as const;
export type TailStage = (typeof TAIL_STAGES)[number];
/** The server deletes a follower's consumer this long after its last pull. */
const FOLLOW_INACTIVE_MS = 10_000;

export interface FollowOptions {
  servers: string;
  stages: readonly TailStage[];
  namespace?: string;
  cluster?: string;
  /** Replay what the streams hold (DeliverPolicy All) instead of only new messages. */
  all?: boolean;
  onRecord(r: TailRecord): void;
  /** An existing connection (the caller closes it); otherwise one is opened and closed by stop(). */
  nc?: NatsConnection;
}

export interface Follower {
  /** Resolves once every consumer has ended (after stop()). */
  readonly done: Promise<void>;
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
    throw new CommandError(`cannot connect to NATS at ${o.servers}: ${(err as Error).message}`, "tail", { cause: err });
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
        consumer = await js.consumers.get(stream, { filter_subjects: filter, deliver_policy: o.all ? DeliverPolicy.All : DeliverPolicy.New, inactive_threshold: FOLLOW_INACTIVE_MS });
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
  const done = Promise.all(
    iterators.map(async (it) => {
      for await (const m of it) o.onRecord(decodeRecord(m.subject, m.data, m.seq));
    }),
  ).then(() => undefined);
  let stopping: Promise<void> | undefined;
  return {
    done,
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
