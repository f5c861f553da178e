// Schema version 1 StoryEntries carried their payload as JSON text (field 13, payload_json, now reserved);
// version 2 carries the typed `payload` oneof (docs/decisions/0009-typed-story-payloads.md). FARO_STORY keeps
// entries 7 days, so a reader still meets version 1 entries after an upgrade: this turns such a payload, in the
// shape the correlator wrote per entry kind, into the fields of the version 2 payload message. A value of the
// wrong JSON type is left out (the proto3 default applies); the decoder then checks the result like any
// version 2 payload. Deliberately free of messages.ts (which imports it).
import protobuf from "protobufjs/minimal.js";

/** The field number payload_json had in schema version 1. */
export const V1_PAYLOAD_JSON_FIELD = 13;

type Json = Record<string, unknown>;

const isObj = (v: unknown): v is Json => typeof v === "object" && v !== null && !Array.isArray(v);
const str = (v: unknown): string | undefined => (typeof v === "string" ? v : undefined);
const num = (v: unknown): number | undefined => (typeof v === "number" && Number.isFinite(v) ? v : undefined);
const bool = (v: unknown): boolean | undefined => (typeof v === "boolean" ? v : undefined);
const list = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);

/** The object without its undefined members. */
function defined(o: Json): Json {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));
}

/** The string value of a length-delimited field, as the last occurrence on the wire gives it (proto3 rule). */
export function readStringField(bytes: Uint8Array, field: number): string | undefined {
  const reader = protobuf.Reader.create(bytes);
  let value: string | undefined;
  while (reader.pos < reader.len) {
    const tag = reader.uint32();
    if (tag >>> 3 === field && (tag & 7) === 2) value = reader.string();
    else reader.skipType(tag & 7);
  }
  return value;
}

const workloadRef = (v: unknown): Json | undefined =>
  isObj(v) ? defined({ apiVersion: str(v["apiVersion"]), kind: str(v["kind"]), name: str(v["name"]), uid: str(v["uid"]) }) : undefined;

const objectRef = (v: unknown): Json | undefined =>
  isObj(v)
    ? defined({ apiVersion: str(v["apiVersion"]), kind: str(v["kind"]), namespace: str(v["namespace"]), name: str(v["name"]), uid: str(v["uid"]), fieldPath: str(v["fieldPath"]) })
    : undefined;

const logLine = (v: unknown): Json | undefined =>
  isObj(v) ? defined({ timestamp: str(v["timestamp"]), line: str(v["line"]), truncated: bool(v["truncated"]), originalBytes: num(v["originalBytes"]) }) : undefined;

/** A v1 change diff: the whole object when it is `[{path: "", op: "add", to}]`, nothing for a plain DELETED, else the diff. */
function changeDiff(type: unknown, diff: unknown): Json {
  if (diff === undefined) return {};
  if (Array.isArray(diff) && diff.length === 1 && isObj(diff[0]) && diff[0]["path"] === "") {
    const op = diff[0];
    if (op["op"] === "add" && "to" in op && Object.keys(op).length === 3) return { objectJson: JSON.stringify(op["to"]) };
    if (type === "DELETED" && op["op"] === "remove" && Object.keys(op).length === 2) return {};
  }
  return { diffJson: JSON.stringify(diff) };
}

/**
 * The fields of the version 2 payload message for entry kind `kind` from a version 1 payload_json text.
 * Throws when the text is not a JSON object.
 */
export function payloadFromV1Json(kind: string, text: string): Json {
  const parsed: unknown = text === "" ? {} : JSON.parse(text);
  if (!isObj(parsed)) throw new Error(`payload_json is not a JSON object`);
  const p = parsed;
  switch (kind) {
    case "open":
      return defined({
        window: num(p["window"]),
        previousWindow: num(p["previousWindow"]),
        root: workloadRef(p["root"]),
        ownerChain: list(p["ownerChain"]).map(workloadRef).filter((r) => r !== undefined),
      });
    case "change":
      return defined({ type: str(p["type"]), resourceVersion: str(p["resourceVersion"]), kind: str(p["kind"]), name: str(p["name"]), ...changeDiff(p["type"], p["diff"]) });
    case "lifecycle": {
      // The latest restart and a termination carried exitCode (null when unknown): the instance's termination.
      const terminated = (p["what"] === "restarted" || p["what"] === "terminated") && "exitCode" in p;
      return defined({
        what: str(p["what"]),
        container: str(p["container"]),
        containerType: str(p["containerType"]),
        restartCount: num(p["restartCount"]),
        termination: terminated ? defined({ exitCode: num(p["exitCode"]), reason: str(p["reason"]), startedAt: str(p["startedAt"]), finishedAt: str(p["finishedAt"]) }) : undefined,
        waiting: str(p["waiting"]),
        node: str(p["node"]),
        phase: str(p["phase"]),
        previousPhase: str(p["previous"]),
        deletionTimestamp: str(p["deletionTimestamp"]),
        replacesPod: str(p["replacesPod"]),
        replacesPodUid: str(p["replacesPodUid"]),
      });
    }
    case "event":
      return defined({
        reason: str(p["reason"]),
        type: str(p["type"]),
        message: str(p["message"]),
        count: num(p["count"]),
        firstTimestamp: str(p["firstTimestamp"]),
        lastTimestamp: str(p["lastTimestamp"]),
        eventTime: str(p["eventTime"]),
        source: str(p["source"]),
        involved: objectRef(p["involved"]),
        name: str(p["name"]),
      });
    case "log":
      return defined({
        container: str(p["container"]),
        containerType: str(p["containerType"]),
        restartCount: num(p["restartCount"]),
        source: str(p["source"]),
        seqStart: num(p["seqStart"]),
        lines: list(p["lines"]).map(logLine).filter((l) => l !== undefined),
        unreadReason: isObj(p["unread"]) ? str(p["unread"]["reason"]) : undefined,
      });
    case "incident":
      return defined({
        incidentId: str(p["incidentId"]),
        reason: str(p["reason"]),
        severity: str(p["severity"]),
        container: str(p["container"]),
        repeatCount: num(p["repeatCount"]),
        isUpdate: bool(p["isUpdate"]),
        exitCode: num(p["exitCode"]),
        firstSeen: str(p["firstSeen"]),
        lastSeen: str(p["lastSeen"]),
      });
    case "close":
      return defined({ why: str(p["why"]), window: num(p["window"]), next: num(p["next"]) });
    default:
      // snapshot: no field yet.
      return {};
  }
}
