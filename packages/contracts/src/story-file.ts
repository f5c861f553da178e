// The story FILE format written by the writer: TS types and validation against schema/story.schema.json.
import fs from "node:fs";
import path from "node:path";
import { Ajv, type ErrorObject } from "ajv";
import { ContractError } from "./errors.js";
import type { ContainerType, EntryKind, Severity } from "./messages.js";

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
  /** Shape per kind: change {diff}, event StoryEventData, log {container, restartCount, lines, unread?: {reason}}, incident {incidentId, reason, severity}; more fields may appear. */
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
