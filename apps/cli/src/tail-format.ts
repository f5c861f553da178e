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
  type StoryFile,
  type StoryTimelineEntry,
} from "@faro/contracts";
import { narrateEntry, type Tone } from "@faro/story-view";
import { ANSI, cutToWidth, formatTime, oneLine, painter, paintName, type Colour } from "./terminal.js";

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
    default:
      // Control subjects, and stages this CLI does not decode yet: the subject still prints.
      return {};
  }
}

/** One line per message (kind, where, what): the progress notes of `faro demo`. `faro tail` uses createTailRenderer. */
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

/** `faro tail --output`: default (stern-like), raw (the text only), wide (every column), json (canonical JSON). */
export const TAIL_OUTPUTS = ["default", "raw", "wide", "json"] as const;
export type TailOutput = (typeof TAIL_OUTPUTS)[number];

/** One printed line: a log line, or one sentence about a change, event, lifecycle step, incident. */
export interface TailRow {
  /** Source time (the cluster's clock where the message has one). */
  time: string | number | undefined;
  cluster: string;
  namespace: string;
  /** The pod, else the object (`deployment/payments`). */
  who: string;
  container: string;
  /** `undefined` for a log line; else what the sentence is (event, change, incident, …). */
  tag?: string;
  text: string;
  tone?: Colour;
}

const TONES: Record<Tone, Colour | undefined> = { error: "red", warning: "yellow", info: undefined };

/** One entry told as a sentence by @faro/story-view's narrative (the entry alone: no story around it on the bus). */
function tell(e: Omit<StoryTimelineEntry, "seq">, workload?: { kind: string; name: string }): { text: string; tone: Colour | undefined } {
  const entry = { seq: 0, ...e } as StoryTimelineEntry;
  const n = narrateEntry(entry, { timeline: [entry], pods: [], incidents: [], workload } as unknown as StoryFile);
  return { text: n.sentence, tone: TONES[n.tone] };
}

const lower = (kind: unknown, name: unknown) => `${String(kind ?? "?").toLowerCase()}/${String(name ?? "?")}`;

/** The rows a message prints as: one per log line, else one. `skipStoryIncidents` when the incident stage is shown too. */
export function rowsOf(r: TailRecord, o: { skipStoryIncidents?: boolean } = {}): TailRow[] {
  const m = r.message as Record<string, any>;
  const cluster = String(m.cluster ?? "");
  const namespace = String(m.namespace ?? "");
  if (r.error) return [{ time: undefined, cluster, namespace, who: r.subject, container: "", tag: "error", text: r.error, tone: "red" }];
  switch (r.stage) {
    case "raw":
    case "clean": {
      if (m.category === "obj") {
        const t = String(m.type);
        const verb = t === "ADDED" ? "created" : t === "DELETED" ? "deleted" : "changed";
        return [{ time: Number(m.observedAtMs) || undefined, cluster, namespace, who: lower(m.kind, m.name), container: "", tag: "change", text: `${m.kind} ${verb} (resourceVersion ${m.resourceVersion})`, tone: t === "DELETED" ? "red" : "blue" }];
      }
      if (m.category === "event") {
        const involved = m.involved ?? {};
        const who = involved.kind === "Pod" ? String(involved.name) : lower(involved.kind, involved.name ?? m.name);
        const time = m.lastTimestamp || m.eventTime || undefined;
        const told = tell({ timestamp: time ?? "", kind: "event", summary: "", data: { type: m.eventType, reason: m.reason, message: m.message, count: m.count } });
        return [{ time: time ?? (Number(m.observedAtMs) || undefined), cluster, namespace, who, container: "", tag: "event", text: told.text, tone: told.tone }];
      }
      const lines = (m.lines ?? []) as { timestamp: string; line: string }[];
      const rows: TailRow[] = lines.map((l) => ({ time: l.timestamp, cluster, namespace, who: String(m.pod), container: String(m.container), text: l.line }));
      if (m.endOfStream) {
        const text = m.unreadReason ? `log of restart ${m.restartCount} not read: ${String(m.unreadReason).replace(/_/g, " ")}` : `log of restart ${m.restartCount} ended`;
        rows.push({ time: lines.at(-1)?.timestamp ?? (Number(m.observedAtMs) || undefined), cluster, namespace, who: String(m.pod), container: String(m.container), tag: "log", text, tone: m.unreadReason ? "yellow" : "dim" });
      }
      return rows;
    }
    case "story": {
      const kind = String(m.entryKind);
      if (kind === "incident" && o.skipStoryIncidents) return [];
      const pod = m.pod?.name ? String(m.pod.name) : undefined;
      const who = pod ?? lower(m.workload?.kind, m.workload?.name);
      const data = (m.payload ?? {}) as Record<string, unknown>;
      const container = typeof data["container"] === "string" ? (data["container"] as string) : "";
      if (kind === "log") {
        const lines = Array.isArray(data["lines"]) ? (data["lines"] as { timestamp: string; line: string }[]) : [];
        if (lines.length > 0) return lines.map((l) => ({ time: l.timestamp, cluster, namespace, who, container, text: l.line }));
      }
      const told = tell({ timestamp: String(m.timestamp ?? ""), kind: kind as StoryTimelineEntry["kind"], summary: String(m.summary ?? ""), ...(pod ? { pod } : {}), ...(container ? { container } : {}), data }, m.workload);
      return [{ time: m.timestamp, cluster, namespace, who, container, tag: kind, text: told.text, tone: kind === "incident" ? "red" : told.tone }];
    }
    case "incident": {
      const who = m.pod?.name ? String(m.pod.name) : lower(m.ownerChain?.at(-1)?.kind, m.ownerChain?.at(-1)?.name);
      const tail = (m.logTail ?? []) as { line: string }[];
      const exit = m.exitCode !== undefined ? `, exit ${m.exitCode}` : "";
      const repeat = m.repeatCount > 1 ? `, ×${m.repeatCount}` : "";
      const last = tail.length ? ` — last log line: ${tail.at(-1)!.line}` : m.message ? ` — ${m.message}` : "";
      return [{ time: m.k8sTimestamp || m.lastSeen || m.detectedAt, cluster, namespace, who, container: String(m.container ?? ""), tag: "incident", text: `${m.reason} (${m.severity}${exit}${repeat})${last}`, tone: "red" }];
    }
    case "dlq":
      return [{ time: Number(m.atMs) || undefined, cluster, namespace, who: `${m.service}/${m.stage}`, container: "", tag: "dead", text: `${m.reason ?? ""} ${m.originalSubject ?? ""}`.trim(), tone: "red" }];
    default:
      return [{ time: undefined, cluster, namespace, who: r.subject, container: "", tag: r.stage, text: "" }];
  }
}

export interface TailRendererOptions {
  output: Exclude<TailOutput, "json">;
  colour: boolean;
  /** Cut default-output lines to this many columns (the terminal's width); undefined: never cut. */
  width?: number;
  /** Cluster column: always, never (one --cluster asked for), or auto: from the second cluster seen on. */
  cluster: "always" | "never" | "auto";
  skipStoryIncidents?: boolean;
}

/** Renders records to the lines `faro tail` prints; stateful only for the auto cluster column. */
export function createTailRenderer(o: TailRendererOptions): (r: TailRecord) => string[] {
  const c = painter(o.colour);
  const clusters = new Set<string>();
  return (r) => {
    const out: string[] = [];
    for (const row of rowsOf(r, { skipStoryIncidents: o.skipStoryIncidents })) {
      const text = oneLine(row.text);
      if (o.output === "raw") {
        out.push(text);
        continue;
      }
      if (row.cluster) clusters.add(row.cluster);
      const tag = row.tag === undefined ? "" : `${c(row.tone === "red" ? "red" : "dim", `[${row.tag}]`)} `;
      const body = row.tone === "red" ? c("bold", text) : text;
      if (o.output === "wide") {
        const cols = [c("dim", formatTime(row.time, true)), row.cluster || "-", row.namespace || "-", paintName(row.who, o.colour), row.container || "-", `${r.stage}${tag ? ` ${tag}` : " "}${body}`];
        out.push(cols.join(" "));
        continue;
      }
      const showCluster = o.cluster === "always" || (o.cluster === "auto" && clusters.size > 1);
      const line = [c("dim", formatTime(row.time, false)), ...(showCluster ? [c("dim", row.cluster || "-")] : []), paintName(row.who, o.colour), ...(row.container ? [c("dim", row.container)] : []), `${tag}${body}`].join(" ");
      out.push(cutToWidth(line, o.width));
    }
    return out;
  };
}

