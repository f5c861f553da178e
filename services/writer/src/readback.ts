// Reads a story window (and its incident contexts) back from JetStream with ephemeral ordered consumers, each
// deleted when its read ends (and dropped by the server after READ_INACTIVE_MS should the process die first),
// so reads leave nothing on the stream however many stories there are.
import type { JetStreamClient, JetStreamManager } from "@nats-io/jetstream";
import { buildInsightSubject, decodeIncidentContext, decodeInsight, decodeStoryEntry, FARO_INCIDENT, FARO_INSIGHT, FARO_STORY, incidentFilter, type IncidentContext, type Insight, type StoryEntry } from "@faro/contracts";
import type { ReadEntry } from "./build.js";
import { ReadBackError } from "./errors.js";

export interface ReadOptions {
  /** Fails when nothing arrives for this long (ms). */
  idleTimeoutMs: number;
  /** Called every few hundred messages (keeps the triggering message's ack timer alive). */
  onProgress?: () => void;
  /** Told about failures that do not fail the read (closing the consumer). */
  onWarning?: (what: string, err: unknown) => void;
}

/** The server deletes a read-back consumer this long after its last pull (a process that died mid-read). */
export const READ_INACTIVE_MS = 10_000;

interface RawMsg {
  seq: number;
  subject: string;
  data: Uint8Array;
  msgId: string | undefined;
}

/** The stream sequence of the newest message on `filter` (wildcards allowed), or 0 when there is none. */
export async function lastSeqOf(jsm: JetStreamManager, stream: string, filter: string): Promise<{ seq: number; data: Uint8Array } | undefined> {
  try {
    const m = await jsm.streams.getMessage(stream, { last_by_subj: filter });
    return m ? { seq: m.seq, data: m.data } : undefined;
  } catch (err) {
    throw new ReadBackError(stream, filter, "reading the last message failed", { cause: err });
  }
}

/**
 * Delivers every message on `filter` from the start of the stream up to `endSeq` (inclusive) in stream order;
 * `visit` returns false to stop early. Messages that aged out are simply absent.
 */
async function readUpTo(js: JetStreamClient, stream: string, filter: string, endSeq: number, opts: ReadOptions, visit: (m: RawMsg) => boolean, startSeq = 1): Promise<void> {
  if (endSeq <= 0 || startSeq > endSeq) return;
  let consumer;
  try {
    consumer = await js.consumers.get(
      stream,
      startSeq > 1
        ? { filter_subjects: filter, deliver_policy: "by_start_sequence" as never, opt_start_seq: startSeq, inactive_threshold: READ_INACTIVE_MS }
        : { filter_subjects: filter, deliver_policy: "all" as never, inactive_threshold: READ_INACTIVE_MS },
    );
  } catch (err) {
    throw new ReadBackError(stream, filter, "creating the ordered consumer failed", { cause: err });
  }
  const c = consumer;
  const remove = () => c.delete().catch((err: unknown) => opts.onWarning?.("deleting a read's consumer", err));
  const messages = await consumer.consume({ max_messages: 1024 }).catch(async (err: unknown) => {
    await remove();
    throw new ReadBackError(stream, filter, "starting the read failed", { cause: err });
  });
  let stalled = false;
  let timer: NodeJS.Timeout | undefined;
  const arm = () => {
    clearTimeout(timer);
    timer = setTimeout(() => {
      stalled = true;
      void messages.close().catch((err: unknown) => opts.onWarning?.("closing a stalled read", err));
    }, opts.idleTimeoutMs);
  };
  let reached = false;
  let n = 0;
  try {
    arm();
    for await (const m of messages) {
      arm();
      if (++n % 256 === 0) opts.onProgress?.();
      if (m.seq > endSeq) {
        reached = true;
        break;
      }
      const more = visit({ seq: m.seq, subject: m.subject, data: m.data, msgId: m.headers?.get("Nats-Msg-Id") || undefined });
      // pending counts what is left on the filter now: 0 means the end even when endSeq itself aged out.
      if (!more || m.seq >= endSeq || m.info.pending === 0) {
        reached = true;
        break;
      }
    }
  } catch (err) {
    throw new ReadBackError(stream, filter, "the read failed", { cause: err });
  } finally {
    clearTimeout(timer);
    await messages.close().catch((err: unknown) => opts.onWarning?.("closing a read", err));
    await remove();
  }
  if (!reached) throw new ReadBackError(stream, filter, stalled ? `no message for ${opts.idleTimeoutMs}ms before sequence ${endSeq}` : `ended before sequence ${endSeq}`);
}

export interface WindowRead {
  entries: ReadEntry[];
  /** The stream sequence of the window's close entry, when it was reached. */
  closeSeq: number | undefined;
  /** Entries that could not be decoded (skipped, counted). */
  undecodable: number;
}

/**
 * Every entry of `window` on the story's exact subject up to `endSeq`, stopping at the window's close entry.
 * `startSeq` skips what precedes the window's first entry (known from an earlier read; the stream only appends).
 */
export async function readStoryWindow(js: JetStreamClient, subject: string, window: number, endSeq: number, opts: ReadOptions, startSeq = 1): Promise<WindowRead> {
  const entries: ReadEntry[] = [];
  let closeSeq: number | undefined;
  let undecodable = 0;
  await readUpTo(js, FARO_STORY.name, subject, endSeq, opts, (m) => {
    let entry: StoryEntry;
    try {
      entry = decodeStoryEntry(m.data);
    } catch {
      // Such an entry was dead-lettered when it was consumed; the file is built from the rest.
      undecodable++;
      return true;
    }
    if (entry.window !== window) return true;
    entries.push({ streamSeq: m.seq, msgId: m.msgId, entry });
    if (entry.entryKind === "close") {
      closeSeq = m.seq;
      return false;
    }
    return true;
  }, startSeq);
  return { entries, closeSeq, undecodable };
}

/**
 * The IncidentContexts of the wanted incidents (ids by reason) of one story, read from the story's tenant,
 * cluster and namespace on one incident subject per reason.
 */
export async function readIncidents(
  js: JetStreamClient,
  jsm: JetStreamManager,
  scope: { tenant: string; cluster: string; namespace: string; storyId: string },
  wanted: ReadonlyMap<string, ReadonlySet<string>>,
  opts: ReadOptions,
): Promise<{ contexts: IncidentContext[]; undecodable: number }> {
  const out: IncidentContext[] = [];
  let undecodable = 0;
  for (const [reason, ids] of [...wanted].sort(([a], [b]) => (a < b ? -1 : 1))) {
    const filter = incidentFilter({ tenant: scope.tenant, cluster: scope.cluster, namespace: scope.namespace, reason });
    const last = await lastSeqOf(jsm, FARO_INCIDENT.name, filter);
    if (!last) continue;
    await readUpTo(js, FARO_INCIDENT.name, filter, last.seq, opts, (m) => {
      try {
        const ctx = decodeIncidentContext(m.data);
        if (ctx.storyId === scope.storyId && ids.has(ctx.incidentId)) out.push(ctx);
      } catch {
        // Not ours to dead-letter (the incident consumers do); counted, and the story keeps the entry's summary.
        undecodable++;
      }
      return true;
    });
  }
  return { contexts: out, undecodable };
}

/**
 * The analyzer's insights about the wanted incidents of one story (docs/analysis.md), read from the story's
 * insight subject. None when the analyzer does not run.
 */
export async function readInsights(
  js: JetStreamClient,
  jsm: JetStreamManager,
  scope: { tenant: string; cluster: string; namespace: string; storyId: string },
  ids: ReadonlySet<string>,
  opts: ReadOptions,
): Promise<{ insights: Insight[]; undecodable: number }> {
  const out: Insight[] = [];
  let undecodable = 0;
  if (ids.size === 0) return { insights: out, undecodable };
  const subject = buildInsightSubject(scope.tenant, scope.cluster, scope.namespace, scope.storyId);
  const last = await lastSeqOf(jsm, FARO_INSIGHT.name, subject);
  if (!last) return { insights: out, undecodable };
  await readUpTo(js, FARO_INSIGHT.name, subject, last.seq, opts, (m) => {
    try {
      const insight = decodeInsight(m.data);
      if (ids.has(insight.incidentId)) out.push(insight);
    } catch {
      // Not ours to dead-letter; counted, and the story goes without it.
      undecodable++;
    }
    return true;
  });
  return { insights: out, undecodable };
}
