// Typed protobuf codecs for the bus messages defined in proto/faro.proto. The codecs and the field
// types are GENERATED (src/gen/, `npm run gen:contracts`, docs/decisions/0008-generated-contract-code.md);
// this module only narrows enumerated strings to their closed sets, checks schema_version, keeps optional
// fields absent, types a StoryEntry by its entry kind (and reads version 1 entries) and renders canonical JSON.
import path from "node:path";
import type { IConversionOptions } from "protobufjs";
import { ContractError, DecodeError, InvalidMessageError, SchemaVersionError } from "./errors.js";
import { faro } from "./gen/faro.js";
import descriptor from "./gen/faro.json" with { type: "json" };
import { payloadFromV1Json, readStringField, V1_PAYLOAD_JSON_FIELD } from "./story-v1.js";

/** The schema_version every message written by this code carries, StoryEntry aside (STORY_ENTRY_SCHEMA_VERSION). */
export const SCHEMA_VERSION = 1;
/** Versions this code can decode, StoryEntry aside. A reader that sees anything else refuses the message (DLQ it). */
export const SUPPORTED_SCHEMA_VERSIONS: readonly number[] = [1];
/**
 * The schema_version of the StoryEntries this code writes: 2, typed payloads (docs/decisions/0009-typed-story-payloads.md).
 * Version 1 carried the payload as JSON in payload_json (field 13, reserved since).
 */
export const STORY_ENTRY_SCHEMA_VERSION = 2;
/** StoryEntry versions this code decodes: a version 1 entry's payload_json is parsed into the typed payload. */
export const STORY_ENTRY_SUPPORTED_SCHEMA_VERSIONS: readonly number[] = [1, 2];
/** Absolute path of the .proto file, for tools that want to load it themselves. */
export const PROTO_PATH = path.join(import.meta.dirname, "..", "proto", "faro.proto");

export const WATCH_TYPES = ["ADDED", "MODIFIED", "DELETED"] as const;
export type WatchType = (typeof WATCH_TYPES)[number];
export const CONTAINER_TYPES = ["init", "regular", "ephemeral"] as const;
export type ContainerType = (typeof CONTAINER_TYPES)[number];
export const LOG_SOURCES = ["follow", "previous"] as const;
export type LogSource = (typeof LOG_SOURCES)[number];
export const ENTRY_KINDS = ["open", "change", "lifecycle", "event", "log", "incident", "close", "snapshot", "security"] as const;
export type EntryKind = (typeof ENTRY_KINDS)[number];
export const SEVERITIES = ["critical", "high", "medium", "low", "info"] as const;
export type Severity = (typeof SEVERITIES)[number];
export const PREVIOUS_LOG_SOURCES = ["buffer", "api", "none"] as const;
export type PreviousLogSource = (typeof PREVIOUS_LOG_SOURCES)[number];

export const UNREAD_REASONS = ["", "gone_before_read", "not_served"] as const;
export type UnreadReason = (typeof UNREAD_REASONS)[number];
/** LifecyclePayload.what: the pod lifecycle transitions a story tells. */
export const LIFECYCLE_WHATS = ["scheduled", "phase", "started", "restarted", "terminated", "terminating", "deleted", "replaced"] as const;
export type LifecycleWhat = (typeof LIFECYCLE_WHATS)[number];
/** ClosePayload.why: why a story window closed. */
export const CLOSE_WHYS = ["idle", "root-deleted", "max-length"] as const;
export type CloseWhy = (typeof CLOSE_WHYS)[number];
/** SecurityPayload.source: where a security finding comes from (docs/security.md). */
export const SECURITY_SOURCES = ["falco", "trivy", "kyverno"] as const;
export type SecuritySource = (typeof SECURITY_SOURCES)[number];

// ---- Types: the generated message classes' fields, with enumerated strings and sub-messages narrowed ----

/** The data fields of a generated message class (its methods left out). */
type Fields<C> = { [K in keyof C as C[K] extends (...args: never[]) => unknown ? never : K]: C[K] };
type Flat<T> = { [K in keyof T]: T[K] };
/**
 * A generated message type with some fields refined. A refinement may only name a field the generated
 * class has, with a type assignable to the generated one (a narrower string, a sub-message with every
 * field present, a field made optional): renaming or retyping a field in faro.proto breaks compilation here.
 */
type Refine<C, R extends { [K in keyof R]: K extends keyof Fields<C> ? NonNullable<Fields<C>[K]> : never }> = Flat<
  Omit<Fields<C>, keyof R> & R
>;

export type OwnerRef = Fields<faro.v1.OwnerRef>;
export type ObjectRef = Fields<faro.v1.ObjectRef>;
export type WorkloadRef = Fields<faro.v1.WorkloadRef>;
/** replacesPodUid is "" when this pod replaces no earlier pod. */
export type PodInstance = Fields<faro.v1.PodInstance>;
/** timestamp: RFC3339 with 9 fractional digits, as the API gives it. */
export type LogLine = Fields<faro.v1.LogLine>;

export type ResourceChange = Refine<faro.v1.ResourceChange, { type: WatchType; ownerRefs: OwnerRef[] }>;

export type KubeEvent = Refine<
  faro.v1.KubeEvent,
  {
    type: WatchType;
    involved: ObjectRef;
    /**
     * Labels of the involved object when the watcher has seen it (absent when it has not: the Event came
     * first, the object's type is not watched, or it has no labels). Tenant rules on labels match them.
     */
    involvedLabels?: Record<string, string>;
  }
>;

export type LogBatch = Refine<
  faro.v1.LogBatch,
  {
    containerType: ContainerType;
    source: LogSource;
    lines: LogLine[];
    podOwnerRefs: OwnerRef[];
    /**
     * On an endOfStream marker: why lines of the instance could not be read (absent or "" when every line
     * was read). "gone_before_read": the pod was deleted before its log was read; "not_served": the API no
     * longer serves it.
     */
    unreadReason?: UnreadReason;
  }
>;

/** entryKind "open": a story window opened. previousWindow is absent for a story's first window. */
export type OpenPayload = Refine<faro.v1.OpenPayload, { previousWindow?: number; root: WorkloadRef; ownerChain: WorkloadRef[] }>;
/**
 * entryKind "change": a new version of an object of the story. `objectJson` (JSON: the whole redacted object) when it
 * is the first version the story sees, else `diffJson` (JSON: `[{op, path, from?, to?}]`); neither for DELETED.
 */
export type ChangePayload = Refine<faro.v1.ChangePayload, { type: WatchType }>;
/** How a container instance ended; exitCode is absent when the status did not say. */
export type ContainerTermination = Refine<faro.v1.ContainerTermination, { exitCode?: number }>;
/** entryKind "lifecycle": a pod lifecycle transition; which fields are set depends on `what` (see faro.proto). */
export type LifecyclePayload = Refine<faro.v1.LifecyclePayload, { what: LifecycleWhat; containerType: ContainerType | ""; termination?: ContainerTermination }>;
/** entryKind "event": a Kubernetes Event about an object of the story. */
export type EventPayload = Refine<faro.v1.EventPayload, { involved: ObjectRef }>;
/** entryKind "log": lines of one container instance, or none and `unreadReason` when they could not be read. */
export type LogPayload = Refine<faro.v1.LogPayload, { containerType: ContainerType; source: LogSource; lines: LogLine[]; unreadReason?: Exclude<UnreadReason, ""> }>;
/** entryKind "incident": an incident or an update of it (its context: the IncidentContext of the same id and repeatCount). */
export type IncidentPayload = Refine<faro.v1.IncidentPayload, { severity: Severity; exitCode?: number }>;
/** entryKind "close": a story window closed; `next` (max-length) is the window the story continues in. */
export type ClosePayload = Refine<faro.v1.ClosePayload, { why: CloseWhy; next?: number }>;
/** entryKind "snapshot": reserved, no field yet. */
export type SnapshotPayload = Fields<faro.v1.SnapshotPayload>;
/** entryKind "security": a security finding (Falco, Trivy Operator, Kyverno) about an object of the story; evidenceJson is JSON, redacted. */
export type SecurityPayload = Refine<faro.v1.SecurityPayload, { source: SecuritySource; severity: Severity; subject: ObjectRef }>;

/** The payload of each entry kind: StoryEntry's oneof case of the same name. */
export interface StoryPayloads {
  open: OpenPayload;
  change: ChangePayload;
  lifecycle: LifecyclePayload;
  event: EventPayload;
  log: LogPayload;
  incident: IncidentPayload;
  close: ClosePayload;
  snapshot: SnapshotPayload;
  security: SecurityPayload;
}

// The generated fields, the oneof cases typed (compile-time proof that each case exists with a compatible type).
type StoryEntryFields = Refine<
  faro.v1.StoryEntry,
  {
    workload: WorkloadRef;
    entryKind: EntryKind;
    /** Absent when the entry is not about one pod. */
    pod?: PodInstance;
  } & { [K in EntryKind]?: StoryPayloads[K] }
>;
/** What every story entry has, whatever its kind. */
export type StoryEntryCommon = Omit<StoryEntryFields, EntryKind | "entryKind" | "payload">;

/**
 * The kind of an entry and its payload: `entryKind` names the oneof case that is set (`{ entryKind: "log", log: {…} }`);
 * the other cases are absent.
 */
export type StoryPayload<K extends EntryKind = EntryKind> = {
  [P in K]: Flat<{ entryKind: P } & { [Q in P]: StoryPayloads[Q] } & { [Q in Exclude<EntryKind, P>]?: undefined }>;
}[K];

/** A story entry, a union discriminated by entryKind: `if (e.entryKind === "log") e.log.lines`. */
export type StoryEntry<K extends EntryKind = EntryKind> = { [P in K]: Flat<StoryEntryCommon & StoryPayload<P>> }[K];

export type EventSummary = Fields<faro.v1.EventSummary>;
export type Manifest = Fields<faro.v1.Manifest>;
export type Change = Fields<faro.v1.Change>;
/** One fact behind an incident (docs/incidents.md). */
export type Evidence = Fields<faro.v1.Evidence>;

export type IncidentContext = Refine<
  faro.v1.IncidentContext,
  {
    severity: Severity;
    /** Pod first, root workload last. */
    ownerChain: WorkloadRef[];
    pod?: PodInstance;
    exitCode?: number;
    logTail: LogLine[];
    previousLog: LogLine[];
    previousLogSource: PreviousLogSource;
    events: EventSummary[];
    manifests: Manifest[];
    recentChanges: Change[];
    /** Added after schema 1's first release: absent in producers that predate them (docs/incidents.md). */
    containerType?: string;
    observedAfterTheFact?: boolean;
    evidence?: Evidence[];
    affectedPods?: PodInstance[];
    receivedAt?: string;
    debounceWindowMs?: number;
  }
>;

export type DeadLetter = Fields<faro.v1.DeadLetter>;

/** EvidenceRef.kind: which part of an IncidentContext an insight's evidence points into (docs/analysis.md). */
export const EVIDENCE_KINDS = ["log_tail", "previous_log", "event", "manifest", "change", "evidence", "field"] as const;
export type EvidenceKind = (typeof EVIDENCE_KINDS)[number];
export type EvidenceRef = Refine<faro.v1.EvidenceRef, { kind: EvidenceKind }>;
export type Finding = Refine<faro.v1.Finding, { evidence: EvidenceRef[] }>;
/** The analysis of one incident revision, from the analyzer (docs/analysis.md). */
export type Insight = Refine<faro.v1.Insight, { evidence: EvidenceRef[]; otherFindings: Finding[] }>;

/** What a producer passes to encodeX: schemaVersion defaults to the current version. Distributes over unions (StoryEntry). */
export type Encodable<T extends { schemaVersion: number }> = T extends unknown ? Flat<Omit<T, "schemaVersion"> & { schemaVersion?: number }> : never;

// ---- The schema, as the generated protobufjs JSON descriptor (field types, labels, presence) ----

interface FieldDescriptor {
  type: string;
  id: number;
  rule?: "repeated";
  keyType?: string;
}
interface MessageDescriptor {
  fields: Record<string, FieldDescriptor>;
  /** Oneofs, including the synthetic one of each proto3 `optional` field: their members have presence. */
  oneofs?: Record<string, { oneof: string[] }>;
}
const messages = (descriptor as unknown as { nested: { faro: { nested: { v1: { nested: Record<string, MessageDescriptor> } } } } }).nested.faro
  .nested.v1.nested;

function messageDescriptor(name: string): MessageDescriptor {
  const d = messages[name.replace(/^\.?faro\.v1\./, "")];
  if (!d?.fields) throw new ContractError(`faro.v1.${name} is not a message type`);
  return d;
}

const INT64 = new Set(["int64", "uint64", "sint64", "fixed64", "sfixed64"]);
const NUMBERS = new Set(["int32", "uint32", "sint32", "fixed32", "sfixed32", "float", "double"]);
const isScalar = (type: string) => INT64.has(type) || NUMBERS.has(type) || type === "bool" || type === "string" || type === "bytes";

// ---- Codecs: the generated static code, plus the checks the schema cannot express ----

/** The static methods every generated message class has. */
interface GeneratedType {
  create(): object;
  verify(message: Record<string, unknown>): string | null;
  fromObject(object: Record<string, unknown>): object;
  encode(message: object): { finish(): Uint8Array };
  decode(bytes: Uint8Array): object;
  toObject(message: object, options?: IConversionOptions): Record<string, unknown>;
}

const toObjectOptions: IConversionOptions = {
  longs: Number,
  enums: String,
  defaults: true,
  arrays: true,
  objects: true,
};

interface ShapeSpec {
  /** Closed sets of string values, checked on encode and decode. */
  enums?: Record<string, readonly string[]>;
  /** Like enums, for fields that may be absent on encode (proto3 default: ""). */
  optionalEnums?: Record<string, readonly string[]>;
  /** Sub-message fields that are always present in the TS type (filled with defaults when absent). */
  required?: Record<string, GeneratedType>;
  /** Map fields that may be absent in the TS type: an empty map (proto3 cannot tell it from none) decodes as absent. */
  optionalMaps?: string[];
}

interface CodecSpec extends ShapeSpec {
  /** The schema_version written when the producer leaves it out (default SCHEMA_VERSION). */
  version?: number;
  /** The versions decoded (default SUPPORTED_SCHEMA_VERSIONS). */
  supported?: readonly number[];
  /**
   * Decode step after the message's own fix-ups, before its checks: `bytes` are the message's, `version` its
   * schema_version (fixes up nested messages, reads older versions into the current form).
   */
  fromWire?: (obj: Record<string, unknown>, bytes: Uint8Array, version: number) => void;
  /** Checks the schema cannot express, on encode and decode; throws InvalidMessageError. */
  check?: (obj: Record<string, unknown>, version: number, encoding: boolean) => void;
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

/** `prefix` names the field's place in the message type (`log.` for StoryEntry.log.*). */
function checkEnums(typeName: string, obj: Record<string, unknown>, enums: Record<string, readonly string[]>, prefix = ""): void {
  for (const [field, allowed] of Object.entries(enums)) {
    // A field left out is the proto3 default, "" (allowed where the set has it).
    const v = obj[field] === undefined ? "" : obj[field];
    if (typeof v !== "string" || !allowed.includes(v)) {
      throw new InvalidMessageError(typeName, prefix + field, `${JSON.stringify(v)} is not one of ${allowed.join("|")}`);
    }
  }
}

/** A ShapeSpec checked against the message's descriptor, ready to fix up and check decoded objects. */
interface Shape {
  enums: Record<string, readonly string[]>;
  optionalEnums: Record<string, readonly string[]>;
  required: { name: string; empty: () => Record<string, unknown> }[];
  optionalMaps: string[];
}

function shapeOf(typeName: string, spec: ShapeSpec): Shape {
  const fields = messageDescriptor(typeName).fields;
  const enums = spec.enums ?? {};
  const optionalEnums = spec.optionalEnums ?? {};
  for (const f of [...Object.keys(enums), ...Object.keys(optionalEnums)]) {
    if (fields[f]?.type !== "string" || fields[f]?.rule || fields[f]?.keyType) throw new ContractError(`${typeName}.${f} is not a string field`);
  }
  const required = Object.entries(spec.required ?? {}).map(([name, sub]) => {
    if (!fields[name] || isScalar(fields[name].type)) throw new ContractError(`${typeName}.${name} is not a message field`);
    return { name, empty: () => sub.toObject(sub.create(), toObjectOptions) };
  });
  const optionalMaps = spec.optionalMaps ?? [];
  for (const f of optionalMaps) if (!fields[f]?.keyType) throw new ContractError(`${typeName}.${f} is not a map field`);
  return { enums, optionalEnums, required, optionalMaps };
}

/** Decoded object → TS form: required sub-messages filled, optional enumerated fields and maps at their default absent. */
function fixDecoded(shape: Shape, obj: Record<string, unknown>): void {
  for (const r of shape.required) if (obj[r.name] === undefined) obj[r.name] = r.empty();
  // An optional enumerated field left at the proto3 default reads as absent.
  for (const f of Object.keys(shape.optionalEnums)) if (obj[f] === "") delete obj[f];
  for (const f of shape.optionalMaps) if (Object.keys(obj[f] as object).length === 0) delete obj[f];
}

function checkShape(typeName: string, shape: Shape, obj: Record<string, unknown>, prefix = ""): void {
  checkEnums(typeName, obj, shape.enums, prefix);
  const present = Object.fromEntries(Object.entries(shape.optionalEnums).filter(([f]) => obj[f] !== undefined));
  checkEnums(typeName, obj, present, prefix);
}

function makeCodec<T extends { schemaVersion: number }>(typeName: MessageTypeName, type: GeneratedType, spec: CodecSpec = {}): Codec<T> {
  const shape = shapeOf(typeName, spec);
  const current = spec.version ?? SCHEMA_VERSION;
  const supported = spec.supported ?? SUPPORTED_SCHEMA_VERSIONS;
  return {
    encode(msg) {
      const m = msg as unknown as Record<string, unknown>;
      const obj = { ...m, schemaVersion: m["schemaVersion"] ?? current };
      checkShape(typeName, shape, obj);
      spec.check?.(obj, obj.schemaVersion as number, true);
      const problem = type.verify(obj);
      if (problem) throw new InvalidMessageError(typeName, problem.split(":")[0] ?? "?", problem);
      return type.encode(type.fromObject(obj)).finish();
    },
    decode(bytes) {
      let decoded: object;
      try {
        decoded = type.decode(bytes);
      } catch (err) {
        throw new DecodeError(typeName, (err as Error).message, { cause: err });
      }
      const obj = type.toObject(decoded, toObjectOptions);
      dropNulls(obj);
      const version = obj["schemaVersion"] as number;
      if (!supported.includes(version)) {
        throw new SchemaVersionError(typeName, version, supported);
      }
      fixDecoded(shape, obj);
      try {
        spec.fromWire?.(obj, bytes, version);
        checkShape(typeName, shape, obj);
        spec.check?.(obj, version, false);
      } catch (err) {
        throw new DecodeError(typeName, (err as Error).message, { cause: err });
      }
      return obj as T;
    },
  };
}

// ---- StoryEntry: one payload message per entry kind, in the oneof case named like entryKind ----

/** A payload message: its generated type, and its closed sets and required sub-messages checked against faro.json. */
interface PayloadCodec {
  type: GeneratedType;
  shape: Shape;
}

const payloadCodec = (typeName: string, type: GeneratedType, spec: ShapeSpec = {}): PayloadCodec => ({ type, shape: shapeOf(typeName, spec) });

const STORY_PAYLOADS: { [K in EntryKind]: PayloadCodec } = {
  open: payloadCodec("OpenPayload", faro.v1.OpenPayload, { required: { root: faro.v1.WorkloadRef } }),
  change: payloadCodec("ChangePayload", faro.v1.ChangePayload, { enums: { type: WATCH_TYPES } }),
  lifecycle: payloadCodec("LifecyclePayload", faro.v1.LifecyclePayload, { enums: { what: LIFECYCLE_WHATS, containerType: ["", ...CONTAINER_TYPES] } }),
  event: payloadCodec("EventPayload", faro.v1.EventPayload, { required: { involved: faro.v1.ObjectRef } }),
  log: payloadCodec("LogPayload", faro.v1.LogPayload, { enums: { containerType: CONTAINER_TYPES, source: LOG_SOURCES }, optionalEnums: { unreadReason: UNREAD_REASONS } }),
  incident: payloadCodec("IncidentPayload", faro.v1.IncidentPayload, { enums: { severity: SEVERITIES } }),
  close: payloadCodec("ClosePayload", faro.v1.ClosePayload, { enums: { why: CLOSE_WHYS } }),
  snapshot: payloadCodec("SnapshotPayload", faro.v1.SnapshotPayload),
  security: payloadCodec("SecurityPayload", faro.v1.SecurityPayload, { enums: { source: SECURITY_SOURCES, severity: SEVERITIES }, required: { subject: faro.v1.ObjectRef } }),
};
{
  // The oneof and ENTRY_KINDS name the same cases.
  const cases = messageDescriptor("StoryEntry").oneofs?.["payload"]?.oneof ?? [];
  if (cases.join() !== ENTRY_KINDS.join()) throw new ContractError(`StoryEntry.payload cases ${cases.join("|")} are not the entry kinds ${ENTRY_KINDS.join("|")}`);
}

const isPayloadKind = (k: unknown): k is EntryKind => typeof k === "string" && Object.hasOwn(STORY_PAYLOADS, k);

/**
 * The decoded payload case in its TS form; for version 1, the payload_json of the wire bytes (field 13, reserved
 * since) parsed into the typed case.
 */
function storyEntryFromWire(obj: Record<string, unknown>, bytes: Uint8Array, version: number): void {
  const kind = obj["entryKind"];
  if (isPayloadKind(kind)) {
    const p = obj[kind];
    if (p !== undefined) fixDecoded(STORY_PAYLOADS[kind].shape, p as Record<string, unknown>);
  }
  if (version !== 1 || !isPayloadKind(kind)) return;
  const { type, shape } = STORY_PAYLOADS[kind];
  let fields: Record<string, unknown>;
  try {
    fields = payloadFromV1Json(kind, readStringField(bytes, V1_PAYLOAD_JSON_FIELD) ?? "");
  } catch (err) {
    throw new InvalidMessageError("StoryEntry", "payloadJson", `version 1 payload: ${(err as Error).message}`, { cause: err });
  }
  const problem = type.verify(fields);
  if (problem) throw new InvalidMessageError("StoryEntry", `${kind}.${problem.split(":")[0] ?? "?"}`, `version 1 payload: ${problem}`);
  const payload = type.toObject(type.fromObject(fields), toObjectOptions);
  dropNulls(payload);
  fixDecoded(shape, payload);
  obj[kind] = payload;
}

/** entryKind names the one oneof case that is set; the payload's enumerated fields are in their sets. */
function checkStoryEntry(obj: Record<string, unknown>, version: number, encoding: boolean): void {
  if (encoding && version !== STORY_ENTRY_SCHEMA_VERSION) {
    throw new InvalidMessageError("StoryEntry", "schemaVersion", `${version}: StoryEntry is written as version ${STORY_ENTRY_SCHEMA_VERSION} (typed payload)`);
  }
  const kind = obj["entryKind"] as EntryKind;
  const set = ENTRY_KINDS.filter((k) => obj[k] !== undefined && obj[k] !== null);
  if (set.length !== 1 || set[0] !== kind) {
    const what = set.length === 0 ? "no payload case is set" : `payload case ${set.join(" and ")} is set`;
    throw new InvalidMessageError("StoryEntry", "payload", `${what}; entry_kind ${kind} needs the ${kind} case alone`);
  }
  const payload = obj[kind];
  if (typeof payload !== "object" || Array.isArray(payload)) throw new InvalidMessageError("StoryEntry", kind, "is not a message");
  checkShape("StoryEntry", STORY_PAYLOADS[kind].shape, payload as Record<string, unknown>, `${kind}.`);
}

const v1 = faro.v1;
const resourceChange = makeCodec<ResourceChange>("ResourceChange", v1.ResourceChange, { enums: { type: WATCH_TYPES } });
const kubeEvent = makeCodec<KubeEvent>("KubeEvent", v1.KubeEvent, {
  enums: { type: WATCH_TYPES },
  required: { involved: v1.ObjectRef },
  optionalMaps: ["involvedLabels"],
});
const logBatch = makeCodec<LogBatch>("LogBatch", v1.LogBatch, {
  enums: { containerType: CONTAINER_TYPES, source: LOG_SOURCES },
  optionalEnums: { unreadReason: UNREAD_REASONS },
});
const storyEntry = makeCodec<StoryEntry>("StoryEntry", v1.StoryEntry, {
  enums: { entryKind: ENTRY_KINDS },
  required: { workload: v1.WorkloadRef },
  version: STORY_ENTRY_SCHEMA_VERSION,
  supported: STORY_ENTRY_SUPPORTED_SCHEMA_VERSIONS,
  fromWire: storyEntryFromWire,
  check: checkStoryEntry,
});
const incidentContext = makeCodec<IncidentContext>("IncidentContext", v1.IncidentContext, {
  enums: { severity: SEVERITIES, previousLogSource: PREVIOUS_LOG_SOURCES },
});
const deadLetter = makeCodec<DeadLetter>("DeadLetter", v1.DeadLetter);
const insight = makeCodec<Insight>("Insight", v1.Insight);

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
/** Encodes an Insight; evidence kinds are checked against EVIDENCE_KINDS. */
export const encodeInsight = (msg: Encodable<Insight>): Uint8Array => insight.encode(checkEvidenceKinds(msg));
export const decodeInsight = (bytes: Uint8Array): Insight => checkEvidenceKinds(insight.decode(bytes));

function checkEvidenceKinds<T extends { evidence: readonly { kind: string }[]; otherFindings: readonly { evidence: readonly { kind: string }[] }[] }>(msg: T): T {
  for (const list of [msg.evidence, ...msg.otherFindings.map((f) => f.evidence)]) {
    for (const e of list) {
      if (!(EVIDENCE_KINDS as readonly string[]).includes(e.kind)) throw new InvalidMessageError("Insight", "evidence.kind", `${JSON.stringify(e.kind)} is not one of ${EVIDENCE_KINDS.join("|")}`);
    }
  }
  return msg;
}

// ---- Proto3 canonical JSON ----

/** Every message type of faro.v1, by name, with its TypeScript type. */
export interface MessageTypes {
  ResourceChange: ResourceChange;
  KubeEvent: KubeEvent;
  LogBatch: LogBatch;
  StoryEntry: StoryEntry;
  IncidentContext: IncidentContext;
  DeadLetter: DeadLetter;
  Insight: Insight;
  EvidenceRef: EvidenceRef;
  Finding: Finding;
  OwnerRef: OwnerRef;
  ObjectRef: ObjectRef;
  WorkloadRef: WorkloadRef;
  PodInstance: PodInstance;
  LogLine: LogLine;
  EventSummary: EventSummary;
  Manifest: Manifest;
  Change: Change;
  OpenPayload: OpenPayload;
  ChangePayload: ChangePayload;
  ContainerTermination: ContainerTermination;
  LifecyclePayload: LifecyclePayload;
  EventPayload: EventPayload;
  LogPayload: LogPayload;
  IncidentPayload: IncidentPayload;
  ClosePayload: ClosePayload;
  SnapshotPayload: SnapshotPayload;
  SecurityPayload: SecurityPayload;
}
export type MessageTypeName = keyof MessageTypes;
/** A JSON value as JSON.parse returns it. */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

function isDefault(type: string, v: unknown): boolean {
  if (v === undefined || v === null) return true;
  if (type === "string") return v === "";
  if (type === "bool") return v === false;
  if (type === "bytes") return (v as Uint8Array).length === 0;
  return Number(v) === 0 && !((type === "float" || type === "double") && Object.is(v, -0));
}

function scalarJson(type: string, v: unknown): JsonValue {
  if (INT64.has(type)) return typeof v === "string" ? v : typeof v === "bigint" ? v.toString() : String(Math.trunc(Number(v)));
  if (type === "bytes") return Buffer.from(v as Uint8Array).toString("base64");
  if (type === "float" || type === "double") {
    const n = Number(v);
    return Number.isFinite(n) ? n : Number.isNaN(n) ? "NaN" : n > 0 ? "Infinity" : "-Infinity";
  }
  if (NUMBERS.has(type)) return Number(v);
  return v as string | boolean;
}

function valueJson(type: string, v: unknown): JsonValue {
  return isScalar(type) ? scalarJson(type, v) : renderMessage(type, v as Record<string, unknown>);
}

function renderMessage(typeName: string, msg: Record<string, unknown>): Record<string, JsonValue> {
  const out: Record<string, JsonValue> = {};
  const d = messageDescriptor(typeName);
  const withPresence = new Set(Object.values(d.oneofs ?? {}).flatMap((o) => o.oneof));
  for (const [name, f] of Object.entries(d.fields)) {
    const v = msg[name];
    if (v === undefined || v === null) continue;
    if (f.keyType) {
      const entries = Object.entries(v as Record<string, unknown>);
      if (entries.length > 0) out[name] = Object.fromEntries(entries.map(([k, x]) => [k, valueJson(f.type, x)]));
    } else if (f.rule === "repeated") {
      const items = v as unknown[];
      if (items.length > 0) out[name] = items.map((x) => valueJson(f.type, x));
    } else if (!isScalar(f.type) || withPresence.has(name) || !isDefault(f.type, v)) {
      out[name] = valueJson(f.type, v);
    }
  }
  return out;
}

/**
 * Renders a message (as decodeX returns it, or as passed to encodeX) in the proto3 canonical JSON mapping,
 * the form `protoc`-generated code prints (Go protojson, Python json_format): lowerCamelCase field names,
 * 64-bit integers as decimal strings, bytes as base64, enumerated strings as they are; fields at their
 * proto3 default ("", 0, false, empty list or map) are left out, fields with presence (sub-messages,
 * `optional`, oneof members) are kept when set. Meant for `faro tail --json` and other JSON output.
 */
export function toCanonicalJson<K extends MessageTypeName>(type: K, message: MessageTypes[K]): Record<string, JsonValue> {
  return renderMessage(type, message as unknown as Record<string, unknown>);
}

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
