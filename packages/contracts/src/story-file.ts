// The story FILE format written by the writer: TS types and validation against schema/story.schema.json.
import fs from "node:fs";
import path from "node:path";
import { Ajv, type ErrorObject } from "ajv";
import { ContractError } from "./errors.js";
import type { ContainerTermination, ContainerType, EntryKind, LifecyclePayload, Severity, StoryEntry } from "./messages.js";

/** Absolute path of the JSON Schema (draft-07) of story files. */
export const STORY_SCHEMA_PATH = path.join(import.meta.dirname, "..", "schema", "story.schema.json");
export const STORY_FILE_SCHEMA_VERSION = 1;

export type CloseReason = "root-deleted" | "idle" | "max-length" | "snapshot" | "shutdown";

export interface StoryWorkloadRef {
  apiVersion: string;
  kind: string;
  name: string;
  uid: string;
}

export interface StoryLogLine {
  timestamp: string;
  line: string;
  truncated?: boolean;
}

export interface StoryContainerInstance {
  restartCount: number;
  startedAt?: string;
  finishedAt?: string;
  exitCode?: number;
  reason?: string;
}

export interface StoryContainer {
  name: string;
  type: ContainerType;
  instances: StoryContainerInstance[];
}

export interface StoryPod {
  name: string;
  uid: string;
  node: string;
  replacesPodUid?: string;
  createdAt: string;
  deletedAt?: string;
  containers: StoryContainer[];
}

export interface StoryEventData {
  reason: string;
  type: string;
  message: string;
  count: number;
  source: string;
  [extra: string]: unknown;
}

export interface StoryTimelineEntry {
  seq: number;
  timestamp: string;
  kind: EntryKind;
  summary: string;
  pod?: string;
  container?: string;
  /**
   * Shape per kind: change {diff}, event StoryEventData, log {container, restartCount, lines, unread?: {reason}},
   * incident {incidentId, reason, severity}; more fields may appear. storyTimelineData() renders it from the entry.
   */
  data: Record<string, unknown>;
}

export interface StoryEventSummary {
  reason: string;
  type: string;
  message: string;
  count?: number;
  first?: string;
  last?: string;
  source?: string;
}

export interface StoryIncident {
  incidentId: string;
  reason: string;
  severity: Severity;
  detectedAt: string;
  repeatCount: number;
  container?: string;
  exitCode?: number;
  logTail: StoryLogLine[];
  previousLog: StoryLogLine[];
  events: StoryEventSummary[];
  [extra: string]: unknown;
}

/**
 * A container instance whose log lines could not be read and are gone for good: the correlator's log
 * entry without lines whose `data.unread.reason` says why.
 */
export interface StoryUnreadLog {
  pod: string;
  podUid: string;
  container: string;
  restartCount: number;
  /** LogBatch.unreadReason: "gone_before_read" (pod deleted first) or "not_served" (the API no longer serves it); more may appear. */
  reason: string;
}

export interface StoryFile {
  schemaVersion: 1;
  storyId: string;
  window: number;
  previousWindow?: number;
  tenant: string;
  cluster: string;
  namespace: string;
  workload: StoryWorkloadRef;
  /** Pod first, root last. */
  ownerChain: StoryWorkloadRef[];
  openedAt: string;
  closedAt?: string;
  closeReason?: CloseReason;
  pods: StoryPod[];
  timeline: StoryTimelineEntry[];
  incidents: StoryIncident[];
  /** Instances whose log could not be read, by pod, container, restart; absent when there are none. */
  unreadLogs?: StoryUnreadLog[];
  elided: { logLines?: Record<string, number>; [extra: string]: unknown };
  stats: Record<string, unknown>;
}

export type StoryValidation = { ok: true; errors: [] } | { ok: false; errors: string[] };

function compile() {
  try {
    const schema = JSON.parse(fs.readFileSync(STORY_SCHEMA_PATH, "utf8")) as object;
    return new Ajv({ allErrors: true, strict: false }).compile(schema);
  } catch (err) {
    throw new ContractError(`cannot load story schema ${STORY_SCHEMA_PATH}: ${(err as Error).message}`, { cause: err });
  }
}

let validator: ReturnType<typeof compile> | undefined;

/** Validates a parsed story file; errors read like "/timeline/2/data: must have required property 'diff'". */
export function validateStoryFile(obj: unknown): StoryValidation {
  validator ??= compile();
  if (validator(obj)) return { ok: true, errors: [] };
  const errors = (validator.errors ?? [])
    // if/then failures repeat the real error above them; keep the informative one.
    .filter((e: ErrorObject) => e.keyword !== "if")
    .map((e: ErrorObject) => {
      const where = e.instancePath || "/";
      const extra = e.keyword === "enum" ? ` (${(e.params as { allowedValues: unknown[] }).allowedValues.join("|")})` : "";
      return `${where}: ${e.message ?? e.keyword}${extra}`;
    });
  return { ok: false, errors };
}

/** JSON text parsed; text that is not JSON is kept as the string it was (the file shows what the correlator sent). */
function jsonOr(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

const times = (t: ContainerTermination | undefined) => ({ ...(t?.startedAt ? { startedAt: t.startedAt } : {}), ...(t?.finishedAt ? { finishedAt: t.finishedAt } : {}) });

function lifecycleData(p: LifecyclePayload): Record<string, unknown> {
  const instance = { what: p.what, container: p.container, containerType: p.containerType, restartCount: p.restartCount };
  const t = p.termination;
  switch (p.what) {
    case "replaced":
      return { what: p.what, replacesPod: p.replacesPod, replacesPodUid: p.replacesPodUid };
    case "scheduled":
      return { what: p.what, container: null, node: p.node };
    case "phase":
      return { what: p.what, container: null, phase: p.phase, previous: p.previousPhase || null };
    case "terminating":
      return { what: p.what, container: null, deletionTimestamp: p.deletionTimestamp };
    case "deleted":
      return { what: p.what, container: null };
    case "started":
      return instance;
    case "restarted":
      // Only the latest restart the status reported says how the previous instance ended.
      return t ? { ...instance, exitCode: t.exitCode ?? null, reason: t.reason || null, waiting: p.waiting || null, ...times(t) } : instance;
    case "terminated":
      return { ...instance, exitCode: t?.exitCode ?? null, reason: t?.reason || null, ...times(t) };
  }
}

/**
 * The `data` of a story file's timeline entry: the entry's typed payload in the JSON form story files have
 * always had (docs/story-format.md, "Timeline `data` per kind"), whatever the StoryEntry's schema version.
 * JSON-by-nature fields become JSON again: a change's object is `diff: [{path: "", op: "add", to: object}]`,
 * a DELETED change `diff: [{path: "", op: "remove"}]`, a log's unreadReason `unread: {reason}`; fields that
 * may be unknown are null (`previousWindow`, `exitCode`, a lifecycle's `container`).
 */
export function storyTimelineData(e: StoryEntry): Record<string, unknown> {
  switch (e.entryKind) {
    case "open": {
      const p = e.open;
      return {
        window: p.window,
        previousWindow: p.previousWindow ?? null,
        root: { kind: p.root.kind, name: p.root.name, apiVersion: p.root.apiVersion, uid: p.root.uid },
        ownerChain: p.ownerChain.map((r) => ({ apiVersion: r.apiVersion, kind: r.kind, name: r.name, uid: r.uid })),
      };
    }
    case "change": {
      const p = e.change;
      const diff = p.diffJson
        ? jsonOr(p.diffJson)
        : p.objectJson
          ? [{ path: "", op: "add", to: jsonOr(p.objectJson) }]
          : p.type === "DELETED"
            ? [{ path: "", op: "remove" }]
            : undefined;
      // A change without either (and not a deletion) has no diff: the file does not validate (a correlator bug).
      return { type: p.type, resourceVersion: p.resourceVersion, kind: p.kind, name: p.name, ...(diff !== undefined ? { diff } : {}) };
    }
    case "lifecycle":
      return lifecycleData(e.lifecycle);
    case "event": {
      const p = e.event;
      const i = p.involved;
      return {
        reason: p.reason,
        type: p.type,
        message: p.message,
        count: p.count,
        firstTimestamp: p.firstTimestamp,
        lastTimestamp: p.lastTimestamp,
        eventTime: p.eventTime,
        source: p.source,
        involved: { apiVersion: i.apiVersion, kind: i.kind, namespace: i.namespace, name: i.name, uid: i.uid, fieldPath: i.fieldPath },
        name: p.name,
      };
    }
    case "log": {
      const p = e.log;
      return {
        container: p.container,
        containerType: p.containerType,
        restartCount: p.restartCount,
        source: p.source,
        seqStart: p.seqStart,
        lines: p.lines.map((l) => ({ timestamp: l.timestamp, line: l.line, truncated: l.truncated, originalBytes: l.originalBytes })),
        ...(p.unreadReason ? { unread: { reason: p.unreadReason } } : {}),
      };
    }
    case "incident": {
      const p = e.incident;
      return {
        incidentId: p.incidentId,
        reason: p.reason,
        severity: p.severity,
        container: p.container,
        repeatCount: p.repeatCount,
        isUpdate: p.isUpdate,
        exitCode: p.exitCode ?? null,
        firstSeen: p.firstSeen,
        lastSeen: p.lastSeen,
      };
    }
    case "close": {
      const p = e.close;
      return { why: p.why, window: p.window, ...(p.next !== undefined ? { next: p.next } : {}) };
    }
    case "snapshot":
      return {};
    case "security": {
      const p = e.security;
      const j = p.subject;
      return {
        source: p.source,
        rule: p.rule,
        severity: p.severity,
        sourceSeverity: p.sourceSeverity,
        title: p.title,
        findingId: p.findingId,
        subject: { apiVersion: j.apiVersion, kind: j.kind, namespace: j.namespace, name: j.name, uid: j.uid },
        container: p.container,
        evidence: jsonOr(p.evidenceJson || "{}"),
        report: p.report,
      };
    }
  }
}
