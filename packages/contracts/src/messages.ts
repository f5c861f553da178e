// Typed protobuf codecs for the bus messages defined in proto/faro.proto (loaded at run time).
import path from "node:path";
import protobuf from "protobufjs";
import { ContractError, DecodeError, InvalidMessageError, SchemaVersionError } from "./errors.js";

/** The schema_version every message written by this code carries. */
export const SCHEMA_VERSION = 1;
/** Versions this code can decode. A reader that sees anything else refuses the message (DLQ it). */
export const SUPPORTED_SCHEMA_VERSIONS: readonly number[] = [1];
/** Absolute path of the .proto file, for tools that want to load it themselves. */
export const PROTO_PATH = path.join(import.meta.dirname, "..", "proto", "faro.proto");

export const WATCH_TYPES = ["ADDED", "MODIFIED", "DELETED"] as const;
export type WatchType = (typeof WATCH_TYPES)[number];
export const CONTAINER_TYPES = ["init", "regular", "ephemeral"] as const;
export type ContainerType = (typeof CONTAINER_TYPES)[number];
export const LOG_SOURCES = ["follow", "previous"] as const;
export type LogSource = (typeof LOG_SOURCES)[number];
export const ENTRY_KINDS = ["open", "change", "lifecycle", "event", "log", "incident", "close", "snapshot"] as const;
export type EntryKind = (typeof ENTRY_KINDS)[number];
export const SEVERITIES = ["critical", "high", "medium", "low", "info"] as const;
export type Severity = (typeof SEVERITIES)[number];
export const PREVIOUS_LOG_SOURCES = ["buffer", "api", "none"] as const;
export type PreviousLogSource = (typeof PREVIOUS_LOG_SOURCES)[number];

export interface OwnerRef {
  apiVersion: string;
  kind: string;
  name: string;
  uid: string;
  controller: boolean;
}

export interface ObjectRef {
  apiVersion: string;
  kind: string;
  namespace: string;
  name: string;
  uid: string;
  fieldPath: string;
}

export interface WorkloadRef {
  apiVersion: string;
  kind: string;
  name: string;
  uid: string;
}

export interface PodInstance {
  name: string;
  uid: string;
  node: string;
  /** "" when this pod replaces no earlier pod. */
  replacesPodUid: string;
}

export interface LogLine {
  /** RFC3339 with 9 fractional digits, as the API gives it. */
  timestamp: string;
  line: string;
  truncated: boolean;
  originalBytes: number;
}

export interface ResourceChange {
  schemaVersion: number;
  cluster: string;
  type: WatchType;
  /** "" for the core group. */
  group: string;
  version: string;
  /** Plural resource name, e.g. "deployments". */
  resource: string;
  kind: string;
  /** "" for cluster-scoped objects. */
  namespace: string;
  name: string;
  uid: string;
  resourceVersion: string;
  observedAtMs: number;
  ownerRefs: OwnerRef[];
  labels: Record<string, string>;
  objectJson: string;
}

export interface KubeEvent {
  schemaVersion: number;
  cluster: string;
  type: WatchType;
  uid: string;
  resourceVersion: string;
  namespace: string;
  name: string;
  reason: string;
  message: string;
  /** Normal | Warning (the API allows any string). */
  eventType: string;
  sourceComponent: string;
  sourceHost: string;
  reportingController: string;
  involved: ObjectRef;
  count: number;
  firstTimestamp: string;
  lastTimestamp: string;
  eventTime: string;
  observedAtMs: number;
  objectJson: string;
  /**
   * Labels of the involved object when the watcher has seen it (absent when it has not: the Event came
   * first, the object's type is not watched, or it has no labels). Tenant rules on labels match them.
   */
  involvedLabels?: Record<string, string>;
}

export interface LogBatch {
  schemaVersion: number;
  cluster: string;
  namespace: string;
  pod: string;
  podUid: string;
  container: string;
  containerType: ContainerType;
  /** Identifies the container instance the lines belong to. */
  restartCount: number;
  source: LogSource;
  /** Index of lines[0] in this instance's stream (per source), for ordering and dedupe. */
  seqStart: number;
  lines: LogLine[];
  podOwnerRefs: OwnerRef[];
  node: string;
  observedAtMs: number;
  /** True on the last batch of an instance's stream (the container terminated, every line was published). */
  endOfStream: boolean;
  podLabels: Record<string, string>;
  /**
   * On an endOfStream marker: why lines of the instance could not be read ("" when every line was read).
   * "gone_before_read": the pod was deleted before its log was read; "not_served": the API no longer serves it.
   */
  unreadReason?: UnreadReason;
}

export const UNREAD_REASONS = ["", "gone_before_read", "not_served"] as const;
export type UnreadReason = (typeof UNREAD_REASONS)[number];

export interface StoryEntry {
  schemaVersion: number;
  storyId: string;
  window: number;
  seq: number;
  /** Sorts lexicographically in story order; see orderingKey(). */
  orderingKey: string;
  tenant: string;
  cluster: string;
  namespace: string;
  workload: WorkloadRef;
  entryKind: EntryKind;
  /** Source time, RFC3339. */
  timestamp: string;
  pod?: PodInstance;
  payloadJson: string;
  summary: string;
}

export interface EventSummary {
  reason: string;
  type: string;
  message: string;
  count: number;
  first: string;
  last: string;
  source: string;
}

export interface Manifest {
  kind: string;
  name: string;
  json: string;
}

export interface Change {
  timestamp: string;
  kind: string;
  name: string;
  diffJson: string;
}

export interface IncidentContext {
  schemaVersion: number;
  incidentId: string;
  storyId: string;
  tenant: string;
  cluster: string;
  namespace: string;
  reason: string;
  severity: Severity;
  /** RFC3339 with milliseconds. */
  detectedAt: string;
  /** The Kubernetes timestamp the detection reacts to. */
  k8sTimestamp: string;
  firstSeen: string;
  lastSeen: string;
  repeatCount: number;
  isUpdate: boolean;
  /** Pod first, root workload last. */
  ownerChain: WorkloadRef[];
  pod?: PodInstance;
  container: string;
  exitCode?: number;
  restartCount: number;
  message: string;
  logTail: LogLine[];
  previousLog: LogLine[];
  previousLogSource: PreviousLogSource;
  events: EventSummary[];
  manifests: Manifest[];
  recentChanges: Change[];
}

export interface DeadLetter {
  schemaVersion: number;
  service: string;
  stage: string;
  originalSubject: string;
  reason: string;
  error: string;
  deliveries: number;
  streamSeq: number;
  /** Empty when withheld. */
  payload: Uint8Array;
  payloadWithheld: boolean;
  atMs: number;
}

/** What a producer passes to encodeX: schemaVersion defaults to SCHEMA_VERSION. */
export type Encodable<T extends { schemaVersion: number }> = Omit<T, "schemaVersion"> & { schemaVersion?: number };

const root = loadRoot();

function loadRoot(): protobuf.Root {
  try {
    return protobuf.loadSync(PROTO_PATH);
  } catch (err) {
    throw new ContractError(`cannot load ${PROTO_PATH}: ${(err as Error).message}`, { cause: err });
  }
}

const toObjectOptions: protobuf.IConversionOptions = {
  longs: Number,
  enums: String,
  defaults: true,
  arrays: true,
  objects: true,
};

interface CodecSpec {
  /** Closed sets of string values, checked on encode and decode. */
  enums?: Record<string, readonly string[]>;
  /** Like enums, for fields that may be absent on encode (proto3 default: ""). */
  optionalEnums?: Record<string, readonly string[]>;
  /** Sub-message fields that are always present in the TS type (filled with defaults when absent). */
  required?: string[];
  /** Map fields that may be absent in the TS type: an empty map (proto3 cannot tell it from none) decodes as absent. */
  optionalMaps?: string[];
}

interface Codec<T extends { schemaVersion: number }> {
  encode(msg: Encodable<T>): Uint8Array;
  decode(bytes: Uint8Array): T;
}

// Removes the nulls protobufjs puts in place of absent sub-messages, so optional fields read as undefined.
function dropNulls(value: unknown): void {
  if (Array.isArray(value)) {
    for (const v of value) if (v !== null && typeof v === "object") dropNulls(v);
    return;
  }
  if (value === null || typeof value !== "object" || value instanceof Uint8Array) return;
  const obj = value as Record<string, unknown>;
  for (const k of Object.keys(obj)) {
    const v = obj[k];
    if (v === null) delete obj[k];
    else if (typeof v === "object") dropNulls(v);
  }
}

function checkEnums(typeName: string, obj: Record<string, unknown>, enums: Record<string, readonly string[]>): void {
  for (const [field, allowed] of Object.entries(enums)) {
    const v = obj[field];
    if (typeof v !== "string" || !allowed.includes(v)) {
      throw new InvalidMessageError(typeName, field, `${JSON.stringify(v)} is not one of ${allowed.join("|")}`);
    }
  }
}

function makeCodec<T extends { schemaVersion: number }>(typeName: string, spec: CodecSpec = {}): Codec<T> {
  const type = root.lookupType(`faro.v1.${typeName}`);
  const enums = spec.enums ?? {};
  const optionalEnums = spec.optionalEnums ?? {};
  const present = (obj: Record<string, unknown>) => Object.fromEntries(Object.entries(optionalEnums).filter(([f]) => obj[f] !== undefined));
  const required = (spec.required ?? []).map((f) => {
    const field = type.fields[f];
    if (!field?.resolvedType) throw new ContractError(`${typeName}.${f} is not a message field`);
    const sub = field.resolvedType as protobuf.Type;
    return { name: field.name, empty: () => sub.toObject(sub.create(), toObjectOptions) };
  });
  const optionalMaps = spec.optionalMaps ?? [];
  for (const f of optionalMaps) {
    if (!(type.fields[f] instanceof protobuf.MapField)) throw new ContractError(`${typeName}.${f} is not a map field`);
  }
  return {
    encode(msg) {
      const obj = { ...msg, schemaVersion: msg.schemaVersion ?? SCHEMA_VERSION } as Record<string, unknown>;
      checkEnums(typeName, obj, enums);
      checkEnums(typeName, obj, present(obj));
      const problem = type.verify(obj);
      if (problem) throw new InvalidMessageError(typeName, problem.split(":")[0] ?? "?", problem);
      return type.encode(type.fromObject(obj)).finish();
    },
    decode(bytes) {
      let decoded: protobuf.Message;
      try {
        decoded = type.decode(bytes);
      } catch (err) {
        throw new DecodeError(typeName, (err as Error).message, { cause: err });
      }
      const obj = type.toObject(decoded, toObjectOptions);
      dropNulls(obj);
      const version = obj["schemaVersion"] as number;
      if (!SUPPORTED_SCHEMA_VERSIONS.includes(version)) {
        throw new SchemaVersionError(typeName, version, SUPPORTED_SCHEMA_VERSIONS);
      }
      for (const r of required) if (obj[r.name] === undefined) obj[r.name] = r.empty();
      // An optional enumerated field left at the proto3 default reads as absent.
      for (const f of Object.keys(optionalEnums)) if (obj[f] === "") delete obj[f];
      for (const f of optionalMaps) if (Object.keys(obj[f] as object).length === 0) delete obj[f];
      try {
        checkEnums(typeName, obj, enums);
        checkEnums(typeName, obj, present(obj));
      } catch (err) {
        throw new DecodeError(typeName, (err as Error).message, { cause: err });
      }
      return obj as T;
    },
  };
}

const resourceChange = makeCodec<ResourceChange>("ResourceChange", { enums: { type: WATCH_TYPES } });
const kubeEvent = makeCodec<KubeEvent>("KubeEvent", { enums: { type: WATCH_TYPES }, required: ["involved"], optionalMaps: ["involvedLabels"] });
const logBatch = makeCodec<LogBatch>("LogBatch", {
  enums: { containerType: CONTAINER_TYPES, source: LOG_SOURCES },
  optionalEnums: { unreadReason: UNREAD_REASONS },
});
const storyEntry = makeCodec<StoryEntry>("StoryEntry", { enums: { entryKind: ENTRY_KINDS }, required: ["workload"] });
const incidentContext = makeCodec<IncidentContext>("IncidentContext", {
  enums: { severity: SEVERITIES, previousLogSource: PREVIOUS_LOG_SOURCES },
});
const deadLetter = makeCodec<DeadLetter>("DeadLetter");

export const encodeResourceChange = (msg: Encodable<ResourceChange>): Uint8Array => resourceChange.encode(msg);
export const decodeResourceChange = (bytes: Uint8Array): ResourceChange => resourceChange.decode(bytes);
export const encodeKubeEvent = (msg: Encodable<KubeEvent>): Uint8Array => kubeEvent.encode(msg);
export const decodeKubeEvent = (bytes: Uint8Array): KubeEvent => kubeEvent.decode(bytes);
export const encodeLogBatch = (msg: Encodable<LogBatch>): Uint8Array => logBatch.encode(msg);
export const decodeLogBatch = (bytes: Uint8Array): LogBatch => logBatch.decode(bytes);
export const encodeStoryEntry = (msg: Encodable<StoryEntry>): Uint8Array => storyEntry.encode(msg);
export const decodeStoryEntry = (bytes: Uint8Array): StoryEntry => storyEntry.decode(bytes);
export const encodeIncidentContext = (msg: Encodable<IncidentContext>): Uint8Array => incidentContext.encode(msg);
export const decodeIncidentContext = (bytes: Uint8Array): IncidentContext => incidentContext.decode(bytes);
export const encodeDeadLetter = (msg: Encodable<DeadLetter>): Uint8Array => deadLetter.encode(msg);
export const decodeDeadLetter = (bytes: Uint8Array): DeadLetter => deadLetter.decode(bytes);

/**
 * A story ordering key: the source timestamp normalised to UTC with 9 fractional digits, then the
 * sequence number zero-padded, so plain string comparison gives story order.
 */
export function orderingKey(timestamp: string, seq: number): string {
  const m = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:\d{2})$/.exec(timestamp);
  if (!m) throw new ContractError(`orderingKey: ${JSON.stringify(timestamp)} is not an RFC3339 timestamp`);
  let base = m[1]!;
  if (m[3] !== "Z") {
    const ms = Date.parse(`${m[1]}${m[3]}`);
    if (Number.isNaN(ms)) throw new ContractError(`orderingKey: invalid timestamp ${JSON.stringify(timestamp)}`);
    base = new Date(ms).toISOString().slice(0, 19);
  }
  if (!Number.isSafeInteger(seq) || seq < 0) throw new ContractError(`orderingKey: seq ${seq} must be a non-negative integer`);
  return `${base}.${(m[2] ?? "").padEnd(9, "0")}Z/${String(seq).padStart(12, "0")}`;
}
