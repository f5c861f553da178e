// Typed protobuf codecs for the bus messages defined in proto/faro.proto. The codecs and the field
// types are GENERATED (src/gen/, `npm run gen:contracts`, docs/decisions/0008-generated-contract-code.md);
// this module only narrows enumerated strings to their closed sets, checks schema_version, keeps optional
// fields absent and renders canonical JSON.
import path from "node:path";
import type { IConversionOptions } from "protobufjs";
import { ContractError, DecodeError, InvalidMessageError, SchemaVersionError } from "./errors.js";
import { faro } from "./gen/faro.js";
import descriptor from "./gen/faro.json" with { type: "json" };

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

export const UNREAD_REASONS = ["", "gone_before_read", "not_served"] as const;
export type UnreadReason = (typeof UNREAD_REASONS)[number];

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

export type StoryEntry = Refine<
  faro.v1.StoryEntry,
  {
    workload: WorkloadRef;
    entryKind: EntryKind;
    /** Absent when the entry is not about one pod. */
    pod?: PodInstance;
  }
>;

export type EventSummary = Fields<faro.v1.EventSummary>;
export type Manifest = Fields<faro.v1.Manifest>;
export type Change = Fields<faro.v1.Change>;

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
  }
>;

export type DeadLetter = Fields<faro.v1.DeadLetter>;

/** What a producer passes to encodeX: schemaVersion defaults to SCHEMA_VERSION. */
export type Encodable<T extends { schemaVersion: number }> = Omit<T, "schemaVersion"> & { schemaVersion?: number };

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

interface CodecSpec {
  /** Closed sets of string values, checked on encode and decode. */
  enums?: Record<string, readonly string[]>;
  /** Like enums, for fields that may be absent on encode (proto3 default: ""). */
  optionalEnums?: Record<string, readonly string[]>;
  /** Sub-message fields that are always present in the TS type (filled with defaults when absent). */
  required?: Record<string, GeneratedType>;
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

function makeCodec<T extends { schemaVersion: number }>(typeName: MessageTypeName, type: GeneratedType, spec: CodecSpec = {}): Codec<T> {
  const fields = messageDescriptor(typeName).fields;
  const enums = spec.enums ?? {};
  const optionalEnums = spec.optionalEnums ?? {};
  const present = (obj: Record<string, unknown>) => Object.fromEntries(Object.entries(optionalEnums).filter(([f]) => obj[f] !== undefined));
  for (const f of [...Object.keys(enums), ...Object.keys(optionalEnums)]) {
    if (fields[f]?.type !== "string" || fields[f]?.rule || fields[f]?.keyType) throw new ContractError(`${typeName}.${f} is not a string field`);
  }
  const required = Object.entries(spec.required ?? {}).map(([name, sub]) => {
    if (!fields[name] || isScalar(fields[name].type)) throw new ContractError(`${typeName}.${name} is not a message field`);
    return { name, empty: () => sub.toObject(sub.create(), toObjectOptions) };
  });
  const optionalMaps = spec.optionalMaps ?? [];
  for (const f of optionalMaps) if (!fields[f]?.keyType) throw new ContractError(`${typeName}.${f} is not a map field`);
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
      let decoded: object;
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
const storyEntry = makeCodec<StoryEntry>("StoryEntry", v1.StoryEntry, { enums: { entryKind: ENTRY_KINDS }, required: { workload: v1.WorkloadRef } });
const incidentContext = makeCodec<IncidentContext>("IncidentContext", v1.IncidentContext, {
  enums: { severity: SEVERITIES, previousLogSource: PREVIOUS_LOG_SOURCES },
});
const deadLetter = makeCodec<DeadLetter>("DeadLetter", v1.DeadLetter);

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

// ---- Proto3 canonical JSON ----

/** Every message type of faro.v1, by name, with its TypeScript type. */
export interface MessageTypes {
  ResourceChange: ResourceChange;
  KubeEvent: KubeEvent;
  LogBatch: LogBatch;
  StoryEntry: StoryEntry;
  IncidentContext: IncidentContext;
  DeadLetter: DeadLetter;
  OwnerRef: OwnerRef;
  ObjectRef: ObjectRef;
  WorkloadRef: WorkloadRef;
  PodInstance: PodInstance;
  LogLine: LogLine;
  EventSummary: EventSummary;
  Manifest: Manifest;
  Change: Change;
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
