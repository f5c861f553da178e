// What the bus still knows when Redis lost the log-streamer's state: how far an instance's stream got (its
// batches on FARO_RAW) and which pods exist (the last pod change per pod), read with ephemeral ordered consumers.
import type { Bus } from "@faro/bus";
import { FARO_RAW, buildRawSubject, decodeLogBatch, decodeResourceChange, rawFilter, type LogBatch } from "@faro/contracts";
import type { PodLike, WantedInstance } from "./instances.js";
import { RecoveryError } from "./errors.js";
import { START, advanceBy, tailOf, type Position, type Tail } from "./lines.js";

/** How far an instance's stream got, as its batches on FARO_RAW say. */
export interface BusPosition {
  /** Seq of the next line (= lines published). */
  seq: number;
  /** Position after the last published line. */
  pos: Position;
  /** Its endOfStream batch is on the bus. */
  done: boolean;
  /** Batches of the instance found. */
  batches: number;
}

export interface RecoveryReadOptions {
  /** A read fails when no message arrives for this long (ms). */
  idleTimeoutMs: number;
  /** The server drops a read's consumer this long after the process that made it died (ms). */
  inactiveMs?: number;
}

/** A batch's place in its instance's numbering, and the tail of its lines. */
interface BatchTail {
  seqStart: number;
  count: number;
  tail: Tail | undefined;
  eos: boolean;
}

const isInstance = (b: LogBatch, i: WantedInstance) => b.podUid === i.podUid && b.container === i.container && b.restartCount === i.restartCount;

function tailOfBatch(b: LogBatch): BatchTail {
  return { seqStart: b.seqStart, count: b.lines.length, tail: tailOf(b.lines), eos: b.endOfStream };
}

/** The position after the batches of one instance (they tile its seq range; replays of one range count once). */
export function positionOf(batches: readonly BatchTail[]): BusPosition | undefined {
  if (batches.length === 0) return undefined;
  const sorted = [...batches].sort((a, b) => a.seqStart - b.seqStart || a.count - b.count);
  let pos = START;
  let seq = 0;
  let done = false;
  for (const b of sorted) {
    if (b.seqStart + b.count <= seq && b.count > 0) continue;
    if (b.count > 0) pos = advanceBy(pos, b.tail);
    seq = Math.max(seq, b.seqStart + b.count);
    done ||= b.eos;
  }
  return { seq, pos, done, batches: batches.length };
}

/**
 * Where the stream of `inst` stands on FARO_RAW: the newest message on the pod/container subject first (one
 * request; enough when it is the instance's own and its tail is unambiguous), else every message on that subject
 * (the container's instances share it; FARO_RAW keeps 24 h). Undefined when nothing of the instance is there.
 * Clocks are not compared: the API server's, the bus' and this process' may differ (the simulator's runs faster).
 */
export async function positionOnBus(bus: Pick<Bus, "js" | "jsm">, cluster: string, inst: WantedInstance, opts: RecoveryReadOptions): Promise<BusPosition | undefined> {
  const subject = buildRawSubject(cluster, inst.namespace, { category: "log", pod: inst.pod, container: inst.container });
  let last;
  try {
    last = await bus.jsm.streams.getMessage(FARO_RAW.name, { last_by_subj: subject });
  } catch (err) {
    throw new RecoveryError(subject, "reading the last log batch failed", { cause: err });
  }
  if (!last) return undefined;
  let newest: LogBatch | undefined;
  try {
    newest = decodeLogBatch(last.data);
  } catch {
    newest = undefined;
  }
  if (newest && isInstance(newest, inst)) {
    const t = tailOfBatch(newest);
    // A batch whose lines all share one timestamp may continue a run of that timestamp: read the rest.
    if (newest.endOfStream || newest.seqStart === 0 || !t.tail?.all) return positionOf([t]);
  }
  const tails: BatchTail[] = [];
  await readSubject(bus, subject, last.seq, undefined, opts, (data) => {
    let b: LogBatch;
    try {
      b = decodeLogBatch(data);
    } catch {
      return;
    }
    if (isInstance(b, inst)) tails.push(tailOfBatch(b));
  });
  return positionOf(tails);
}

/**
 * Every pod of `cluster` whose last change on FARO_RAW is not a deletion (the watcher's view, so the same
 * namespaces and filters), handed to `visit` one at a time.
 */
export async function lastPodChanges(bus: Pick<Bus, "js" | "jsm">, cluster: string, opts: RecoveryReadOptions, visit: (pod: PodLike) => void | Promise<void>): Promise<number> {
  const filter = rawFilter({ cluster, category: "obj", a: "pods" });
  let last;
  try {
    last = await bus.jsm.streams.getMessage(FARO_RAW.name, { last_by_subj: filter });
  } catch (err) {
    throw new RecoveryError(filter, "reading the last pod change failed", { cause: err });
  }
  if (!last) return 0;
  let pods = 0;
  // One pod at a time: a cluster's pods parsed all at once would not fit the deployment's heap.
  await readSubject(bus, filter, last.seq, "last_per_subject", opts, async (data) => {
    let pod: PodLike;
    try {
      const rc = decodeResourceChange(data);
      if (rc.type === "DELETED" || rc.resource !== "pods" || rc.group !== "") return;
      pod = JSON.parse(rc.objectJson) as PodLike;
      if (!pod?.metadata?.uid || !pod.metadata.name) return;
      pod.metadata.namespace ??= rc.namespace;
    } catch {
      // An undecodable pod change was dead-lettered when it was consumed.
      return;
    }
    await visit(pod);
    pods++;
  });
  return pods;
}

/**
 * Reads `filter` with an ordered ephemeral consumer up to stream sequence `endSeq`: every subject's last message
 * (`last_per_subject`), or everything from the stream's start. The consumer is deleted when done.
 */
async function readSubject(
  bus: Pick<Bus, "js">,
  filter: string,
  endSeq: number,
  from: "last_per_subject" | undefined,
  opts: RecoveryReadOptions,
  visit: (data: Uint8Array) => void | Promise<void>,
): Promise<void> {
  const inactive = opts.inactiveMs ?? 10_000;
  const policy = from === "last_per_subject" ? { deliver_policy: "last_per_subject" as never } : { deliver_policy: "all" as never };
  let consumer;
  try {
    consumer = await bus.js.consumers.get(FARO_RAW.name, { filter_subjects: filter, inactive_threshold: inactive, ...policy });
  } catch (err) {
    throw new RecoveryError(filter, "creating the ordered consumer failed", { cause: err });
  }
  const c = consumer;
  let messages;
  try {
    messages = await c.consume({ max_messages: 512 });
  } catch (err) {
    await c.delete().catch(() => undefined);
    throw new RecoveryError(filter, "starting the read failed", { cause: err });
  }
  let stalled = false;
  let timer: NodeJS.Timeout | undefined;
  const arm = () => {
    clearTimeout(timer);
    timer = setTimeout(() => {
      stalled = true;
      void messages.close().catch(() => undefined);
    }, opts.idleTimeoutMs);
  };
  let reached = false;
  try {
    arm();
    for await (const m of messages) {
      arm();
      if (m.seq > endSeq) {
        reached = true;
        break;
      }
      await visit(m.data);
      if (m.seq >= endSeq || m.info.pending === 0) {
        reached = true;
        break;
      }
    }
  } catch (err) {
    throw new RecoveryError(filter, "the read failed", { cause: err });
  } finally {
    clearTimeout(timer);
    await messages.close().catch(() => undefined);
    await c.delete().catch(() => undefined);
  }
  if (!reached) throw new RecoveryError(filter, stalled ? `no message for ${opts.idleTimeoutMs}ms before sequence ${endSeq}` : `ended before sequence ${endSeq}`);
}
