// Decodes a bus message by its subject (stage and category) into a JSON record or a one-line summary.
import {
  decodeDeadLetter,
  decodeIncidentContext,
  decodeKubeEvent,
  decodeLogBatch,
  decodeResourceChange,
  decodeStoryEntry,
  parseSubject,
  storyTimelineData,
  toCanonicalJson,
  type JsonValue,
  type MessageTypeName,
  type MessageTypes,
  type ParsedSubject,
} from "@faro/contracts";

export interface TailRecord {
  stage: string;
  subject: string;
  /** Stream sequence. */
  seq: number;
  /**
   * Decoded message (objectJson parsed into `object`; a story entry's payload also as `payload`, in the JSON form
   * of story files), or `error` when it did not decode.
   */
  message: Record<string, unknown>;
  error?: string;
  /** The protobuf message type and its proto3 canonical JSON (what `faro tail --json` prints). */
  type?: MessageTypeName;
  canonical?: Record<string, JsonValue>;
}

/**
 * The record as `faro tail --json` prints it: `message` is the proto3 canonical JSON of the protobuf message
 * (what protoc and every other language's JSON mapping produce; a story entry's payload is the oneof case named
 * like its entryKind); `object` is the JSON document carried in `objectJson`, parsed for convenience, and
 * `payload` a story entry's payload in the JSON form of story files' timeline `data` (storyTimelineData: what
 * `payload_json` carried before StoryEntry schema version 2).
 */
export function jsonRecord(r: TailRecord): Record<string, unknown> {
  const out: Record<string, unknown> = { stage: r.stage, subject: r.subject, seq: r.seq };
  if (r.type !== undefined) out.type = `faro.v1.${r.type}`;
  if (r.error !== undefined) out.error = r.error;
  out.message = r.canonical ?? r.message;
  if (r.message.object !== undefined) out.object = r.message.object;
  if (r.message.payload !== undefined && r.stage === "story") out.payload = r.message.payload;
  return out;
}

/** The protobuf type carried on a subject; undefined for control subjects. */
function typeOf(p: ParsedSubject): MessageTypeName | undefined {
  switch (p.stage) {
    case "raw":
    case "clean":
      return p.target.category === "obj" ? "ResourceChange" : p.target.category === "event" ? "KubeEvent" : "LogBatch";
    case "story":
      return "StoryEntry";
    case "incident":
      return "IncidentContext";
    case "dlq":
      return "DeadLetter";
    default:
      return undefined;
  }
}

const DECODERS: { [K in MessageTypeName]?: (b: Uint8Array) => MessageTypes[K] } = {
  ResourceChange: decodeResourceChange,
  KubeEvent: decodeKubeEvent,
  LogBatch: decodeLogBatch,
  StoryEntry: decodeStoryEntry,
  IncidentContext: decodeIncidentContext,
  DeadLetter: decodeDeadLetter,
};

function canonicalOf(type: MessageTypeName | undefined, data: Uint8Array): Record<string, JsonValue> | undefined {
  const decode = type === undefined ? undefined : (DECODERS[type] as ((b: Uint8Array) => MessageTypes[MessageTypeName]) | undefined);
  if (type === undefined || decode === undefined) return undefined;
  try {
    return toCanonicalJson(type, decode(data));
  } catch {
    // The summary path reports why it did not decode; the canonical form is simply absent.
    return undefined;
  }
}

const ANSI = { reset: "\x1b[0m", dim: "\x1b[2m", bold: "\x1b[1m", red: "\x1b[31m", green: "\x1b[32m", yellow: "\x1b[33m", blue: "\x1b[34m", magenta: "\x1b[35m", cyan: "\x1b[36m" };
type Colour = keyof typeof ANSI;

function parseJson(s: unknown): unknown {
  if (typeof s !== "string" || s === "") return undefined;
  try {
    return JSON.parse(s);
  } catch {
    // Not JSON after all: keep the text, the reader still sees it.
    return s;
  }
}

/** Decodes one message; never throws (an undecodable message becomes a record with `error`). */
export function decodeRecord(subject: string, data: Uint8Array, seq: number): TailRecord {
  let parsed: ParsedSubject;
  try {
    parsed = parseSubject(subject);
  } catch (err) {
    return { stage: "unknown", subject, seq, message: {}, error: (err as Error).message };
  }
  try {
    const type = typeOf(parsed);
    const canonical = canonicalOf(type, data);
    return { stage: parsed.stage, subject, seq, message: decodeBySubject(parsed, data), ...(type ? { type } : {}), ...(canonical ? { canonical } : {}) };
  } catch (err) {
    return { stage: parsed.stage, subject, seq, message: {}, error: `cannot decode: ${(err as Error).message}` };
  }
}

function decodeBySubject(p: ParsedSubject, data: Uint8Array): Record<string, unknown> {
  switch (p.stage) {
    case "raw":
    case "clean": {
      const tenant = p.stage === "clean" ? { tenant: p.tenant } : {};
      if (p.target.category === "obj") {
        const { objectJson, ...m } = decodeResourceChange(data);
        return { category: "obj", ...tenant, ...m, object: parseJson(objectJson) };
      }
      if (p.target.category === "event") {
        const { objectJson, ...m } = decodeKubeEvent(data);
        return { category: "event", ...tenant, ...m, object: parseJson(objectJson) };
      }
      return { category: "log", ...tenant, ...decodeLogBatch(data) };
    }
    case "story": {
      const entry = decodeStoryEntry(data);
      return { ...entry, payload: storyTimelineData(entry) };
    }
    case "incident":
      return { ...decodeIncidentContext(data) };
    case "dlq": {
      try {
        const { payload, ...m } = decodeDeadLetter(data);
        return { ...m, payloadBytes: payload.length };
      } catch {
        // Dead letters of undecodable input carry the original bytes and their reason in headers.
        return { service: p.service, stage: p.failedStage, payloadBytes: data.length };
      }
    }
    case "control":
      return {};
  }
}

/** One line per message; `colour` adds ANSI colours (stdout is a terminal). */
export function summarize(r: TailRecord, colour: boolean): string {
  const c = (name: Colour, s: string) => (colour ? `${ANSI[name]}${s}${ANSI.reset}` : s);
  const m = r.message as Record<string, any>;
  const stage = c("dim", r.stage.padEnd(8));
  if (r.error) return `${stage} ${c("red", "?")} ${r.subject}: ${r.error}`;
  const ns = (n: unknown) => (n === "" || n === undefined ? "" : `${n}/`);
  switch (r.stage) {
    case "raw":
    case "clean": {
      if (m.category === "obj") {
        const t = String(m.type);
        const col: Colour = t === "DELETED" ? "red" : t === "ADDED" ? "green" : "blue";
        return `${stage} ${c(col, t.padEnd(8))} ${m.kind} ${ns(m.namespace)}${m.name} rv=${m.resourceVersion}`;
      }
      if (m.category === "event") {
        const warn = m.eventType === "Warning";
        const count = m.count > 1 ? ` ×${m.count}` : "";
        return `${stage} ${c(warn ? "yellow" : "cyan", `EVENT   `)} ${c(warn ? "yellow" : "reset", `${m.eventType} ${m.reason}`)} ${m.involved?.kind ?? ""} ${ns(m.namespace)}${m.involved?.name ?? m.name}${count}: ${m.message}`;
      }
      const lines = (m.lines ?? []) as { line: string }[];
      const last = lines.at(-1)?.line ?? "";
      return `${stage} ${c("magenta", "LOG     ")} ${ns(m.namespace)}${m.pod}/${m.container}#${m.restartCount} ${lines.length} line${lines.length === 1 ? "" : "s"}${m.endOfStream ? (m.unreadReason ? ` (end, unread: ${m.unreadReason})` : " (end)") : ""}: ${last}`;
    }
    case "story": {
      const kind = String(m.entryKind);
      const col: Colour = kind === "incident" ? "red" : kind === "event" ? "yellow" : kind === "log" ? "magenta" : kind === "change" ? "blue" : "green";
      return `${stage} ${c(col, kind.padEnd(8))} ${ns(m.namespace)}${m.workload?.kind}/${m.workload?.name}${m.pod?.name ? ` ${m.pod.name}` : ""}: ${m.summary}`;
    }
    case "incident": {
      const where = `${ns(m.namespace)}${m.pod?.name ?? m.ownerChain?.at(-1)?.name ?? "?"}${m.container ? `/${m.container}` : ""}`;
      const repeat = m.repeatCount > 1 ? ` ×${m.repeatCount}` : "";
      const tail = (m.logTail ?? []) as { line: string }[];
      return `${stage} ${c("red", c("bold", String(m.reason)))}${repeat} ${String(m.severity).toUpperCase()} ${where}${m.exitCode !== undefined ? ` exit=${m.exitCode}` : ""}${m.message ? `: ${m.message}` : ""}${tail.length ? c("dim", ` │ ${tail.at(-1)!.line}`) : ""}`;
    }
    case "dlq":
      return `${stage} ${c("red", "DEAD    ")} ${m.service}/${m.stage}: ${m.reason ?? ""} ${m.originalSubject ?? ""}`;
    default:
      return `${stage} ${r.subject}`;
  }
}
