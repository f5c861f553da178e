// Deterministic Nats-Msg-Id values: the same logical message always gets the same id, so retries dedupe.
import { createHash } from "node:crypto";
import { ContractError } from "./errors.js";

// Watch types reduce to one letter to keep ids short.
function watchLetter(type: string): string {
  switch (type) {
    case "ADDED":
      return "A";
    case "MODIFIED":
      return "M";
    case "DELETED":
      return "D";
    default:
      throw new ContractError(`unknown watch type ${JSON.stringify(type)}`);
  }
}

/** 16 hex chars of sha256 over the parts, NUL-separated so ("a","bc") and ("ab","c") differ. */
export function shortHash(...parts: (string | number)[]): string {
  return createHash("sha256").update(parts.map(String).join("\u0000")).digest("hex").slice(0, 16);
}

/** rc:<uid>:<resourceVersion>:<A|M|D> */
export function resourceChangeId(uid: string, resourceVersion: string, type: string): string {
  return `rc:${uid}:${resourceVersion}:${watchLetter(type)}`;
}

/** ev:<uid>:<resourceVersion>:<A|M|D> */
export function eventId(uid: string, resourceVersion: string, type: string): string {
  return `ev:${uid}:${resourceVersion}:${watchLetter(type)}`;
}

/**
 * lg:<podUid>:<container>:<restartCount>:<seqStart>[:p]. Dedupes only if a retry re-sends the same
 * batch boundaries, which is why batches start at checkpointed line indexes. ":p" marks `previous` logs,
 * whose line indexes are a separate stream from the followed ones.
 */
export function logBatchId(podUid: string, container: string, restartCount: number, seqStart: number, source: "follow" | "previous" = "follow"): string {
  return `lg:${podUid}:${container}:${restartCount}:${seqStart}${source === "previous" ? ":p" : ""}`;
}

/**
 * The id a raw message carries on the bus: its logical id scoped by the pipeline's cluster, `<id>@<cluster>`.
 * Objects, Events and pods have the same uids whoever watches them, so without the scope two pipelines
 * watching one Kubernetes cluster under different names (a `faro up` and a `faro capture`, or two tenants'
 * pipelines) would drop each other's messages as duplicates in the shared FARO_RAW.
 */
export function busMsgId(id: string, cluster: string): string {
  return `${id}@${cluster}`;
}

/** se:<storyId>:<window>:<seq> */
export function storyEntryId(storyId: string, window: number, seq: number): string {
  return `se:${storyId}:${window}:${seq}`;
}

/**
 * One story per root workload: s-<16 hex> of (tenant, cluster, namespace, root kind, root name). Names,
 * not uids, so a re-created root continues its story (docs/decisions/0002-story-identity-by-root-name.md).
 */
export function storyIdFor(tenant: string, cluster: string, namespace: string, rootKind: string, rootName: string): string {
  return `s-${shortHash(tenant, cluster, namespace, rootKind, rootName)}`;
}

/**
 * One incident per debounced episode: the same story, pod, container and reason, first seen at the same
 * time, is the same incident however often it repeats.
 */
export function incidentId(storyId: string, podUid: string, container: string, reason: string, firstSeen: string): string {
  return `i-${shortHash(storyId, podUid, container, reason, firstSeen)}`;
}

/** in:<incidentId>:<repeatCount> — each update of an incident (new repeat count) is a distinct message. */
export function incidentMessageId(incidentId: string, repeatCount: number): string {
  return `in:${incidentId}:${repeatCount}`;
}

/** is:<incidentId>:<repeatCount>:<source> — one insight per incident revision and source (builtin, llm). */
export function insightMessageId(incidentId: string, repeatCount: number, source: string): string {
  return `is:${incidentId}:${repeatCount}:${source}`;
}

/** dl:<service>:<stage>:<streamSeq> — one dead letter per source message and stage. */
export function deadLetterId(service: string, stage: string, streamSeq: number): string {
  return `dl:${service}:${stage}:${streamSeq}`;
}
