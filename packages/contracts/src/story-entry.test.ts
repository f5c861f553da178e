// StoryEntry's typed payloads (schema version 2): one oneof case per entry kind, checked against entryKind on
// encode and decode; version 1 entries (payload_json) decode into the same typed form; the story file's
// timeline `data` rendered from a payload is the JSON version 1 carried (docs/decisions/0009-typed-story-payloads.md).
import protobuf from "protobufjs";
import { describe, expect, it } from "vitest";
import { DecodeError, InvalidMessageError, SchemaVersionError } from "./errors.js";
import { faro } from "./gen/faro.js";
import {
  ENTRY_KINDS,
  PROTO_PATH,
  STORY_ENTRY_SCHEMA_VERSION,
  decodeStoryEntry,
  encodeStoryEntry,
  toCanonicalJson,
  type Encodable,
  type EntryKind,
  type StoryEntry,
  type StoryEntryCommon,
  type StoryPayload,
  type StoryPayloads,
} from "./messages.js";
import { storyTimelineData } from "./story-file.js";

const workload = { apiVersion: "apps/v1", kind: "Deployment", name: "web", uid: "dep-uid" };
const rs = { apiVersion: "apps/v1", kind: "ReplicaSet", name: "web-7d9f", uid: "rs-uid" };
const pod = { name: "web-7d9f-abcde", uid: "pod-uid", node: "node-1", replacesPodUid: "" };
const line = { timestamp: "2026-11-22T02:00:00.123456789Z", line: "héllo 名前", truncated: false, originalBytes: 0 };

const common: Omit<StoryEntryCommon, "schemaVersion"> = {
  storyId: "s-0123456789abcdef",
  window: 1,
  seq: 2 ** 40 + 3,
  orderingKey: "2026-11-22T02:00:00.123456789Z/000000000003",
  tenant: "team-a",
  cluster: "prod-eu",
  namespace: "shop",
  workload,
  timestamp: "2026-11-22T02:00:00.123456789Z",
  pod,
  summary: "something happened",
};

/** A story entry of one kind with its payload, as a producer passes it to encodeStoryEntry. */
const of = <K extends EntryKind>(kind: K, payload: StoryPayloads[K]): Encodable<StoryEntry> => ({ ...common, entryKind: kind, [kind]: payload }) as unknown as Encodable<StoryEntry>;

const payloads: { [K in EntryKind]: StoryPayloads[K] } = {
  open: { window: 1, previousWindow: 0, root: workload, ownerChain: [rs, workload] },
  change: { type: "MODIFIED", resourceVersion: "812", kind: "Deployment", name: "web", objectJson: "", diffJson: '[{"path":"/spec/replicas","op":"replace","from":2,"to":3}]' },
  lifecycle: {
    what: "restarted",
    container: "app",
    containerType: "regular",
    restartCount: 1,
    termination: { exitCode: 0, reason: "Completed", startedAt: "", finishedAt: "2026-11-22T02:00:00Z" },
    waiting: "",
    node: "",
    phase: "",
    previousPhase: "",
    deletionTimestamp: "",
    replacesPod: "",
    replacesPodUid: "",
  },
  event: {
    reason: "BackOff",
    type: "Warning",
    message: "Back-off restarting failed container",
    count: 3,
    firstTimestamp: "2026-11-22T01:59:00Z",
    lastTimestamp: "2026-11-22T02:00:00Z",
    eventTime: "",
    source: "kubelet",
    involved: { apiVersion: "v1", kind: "Pod", namespace: "shop", name: pod.name, uid: pod.uid, fieldPath: "spec.containers{app}" },
    name: "web-7d9f-abcde.17a",
  },
  log: { container: "app", containerType: "init", restartCount: 0, source: "previous", seqStart: 2 ** 40, lines: [line], unreadReason: "not_served" },
  incident: { incidentId: "i-0011223344556677", reason: "OOMKilled", severity: "high", container: "app", repeatCount: 2, isUpdate: true, exitCode: 0, firstSeen: "a", lastSeen: "b" },
  close: { why: "max-length", window: 1, next: 2 },
  snapshot: {},
  security: {
    source: "trivy",
    rule: "CVE-2023-0464",
    severity: "high",
    sourceSeverity: "HIGH",
    title: "openssl: Denial of service by excessive resource usage in verifying X509 policy constraints",
    findingId: "trivy:vuln:0011223344556677",
    subject: { apiVersion: "apps/v1", kind: "ReplicaSet", namespace: "shop", name: "web-7d9f", uid: "rs-uid", fieldPath: "" },
    container: "app",
    evidenceJson: '{"installedVersion":"3.0.8-r0","fixedVersion":"3.0.8-r1"}',
    report: "VulnerabilityReport/replicaset-web-7d9f-app",
  },
};

/** Version 1 bytes: the common fields and the payload as JSON in field 13, as the former correlator wrote them. */
function v1Bytes(kind: string, payloadJson: string, extra: Record<string, unknown> = {}): Uint8Array {
  const head = faro.v1.StoryEntry.encode(faro.v1.StoryEntry.fromObject({ ...common, schemaVersion: 1, entryKind: kind, ...extra })).finish();
  const tail = protobuf.Writer.create().uint32((13 << 3) | 2).string(payloadJson).finish();
  const out = new Uint8Array(head.length + tail.length);
  out.set(head);
  out.set(tail, head.length);
  return out;
}

describe("typed story payloads", () => {
  it("round-trip every entry kind, version 2, the payload in the case named by entryKind", () => {
    for (const kind of ENTRY_KINDS) {
      const e = of(kind, payloads[kind]);
      const got = decodeStoryEntry(encodeStoryEntry(e));
      expect(got, kind).toEqual({ ...e, schemaVersion: STORY_ENTRY_SCHEMA_VERSION });
      expect(ENTRY_KINDS.filter((k) => k in got)).toEqual([kind]);
    }
  });

  it("narrow by entryKind", () => {
    const e: StoryEntry = decodeStoryEntry(encodeStoryEntry(of("log", payloads.log)));
    // Compile-time: the payload is typed once the kind is known; other cases read as undefined.
    if (e.entryKind === "log") expect(e.log.lines[0]!.line).toBe("héllo 名前");
    expect(e.incident?.incidentId).toBeUndefined();
    const p: StoryPayload<"close"> = { entryKind: "close", close: payloads.close };
    expect(p.close.next).toBe(2);
  });

  it("keep optional fields absent, fill required sub-messages, read an empty unreadReason as absent", () => {
    const { previousWindow: _p, ...first } = payloads.open;
    expect(decodeStoryEntry(encodeStoryEntry(of("open", first)))).not.toHaveProperty("open.previousWindow");
    expect((decodeStoryEntry(encodeStoryEntry(of("open", payloads.open))) as StoryEntry<"open">).open.previousWindow).toBe(0);
    const { exitCode: _e, ...noExit } = payloads.incident;
    expect(decodeStoryEntry(encodeStoryEntry(of("incident", noExit)))).not.toHaveProperty("incident.exitCode");
    const { termination: _t, ...earlier } = payloads.lifecycle;
    expect(decodeStoryEntry(encodeStoryEntry(of("lifecycle", earlier)))).not.toHaveProperty("lifecycle.termination");
    const { unreadReason: _u, ...read } = payloads.log;
    expect(decodeStoryEntry(encodeStoryEntry(of("log", { ...read, unreadReason: "" as never })))).not.toHaveProperty("log.unreadReason");
    const bare = faro.v1.StoryEntry.encode(faro.v1.StoryEntry.fromObject({ ...common, schemaVersion: 2, entryKind: "event", event: { reason: "X" } })).finish();
    expect((decodeStoryEntry(bare) as StoryEntry<"event">).event.involved).toEqual({ apiVersion: "", kind: "", namespace: "", name: "", uid: "", fieldPath: "" });
  });

  it("refuse on encode an entry whose case is not the one entryKind names, none, or two", () => {
    expect(() => encodeStoryEntry({ ...of("log", payloads.log), entryKind: "event" } as never)).toThrow(InvalidMessageError);
    expect(() => encodeStoryEntry({ ...of("log", payloads.log), entryKind: "event" } as never)).toThrow(/payload case log is set; entry_kind event needs the event case alone/);
    expect(() => encodeStoryEntry({ ...common, entryKind: "log" } as never)).toThrow(/no payload case is set/);
    expect(() => encodeStoryEntry({ ...of("log", payloads.log), close: payloads.close } as never)).toThrow(/payload case log and close/);
  });

  it("refuse on decode an entry whose case does not match, none, or two (DecodeError)", () => {
    const raw = (o: Record<string, unknown>) => faro.v1.StoryEntry.encode(faro.v1.StoryEntry.fromObject({ ...common, schemaVersion: 2, ...o })).finish();
    expect(() => decodeStoryEntry(raw({ entryKind: "event", log: payloads.log }))).toThrow(DecodeError);
    expect(() => decodeStoryEntry(raw({ entryKind: "event", log: payloads.log }))).toThrow(/payload case log is set; entry_kind event/);
    expect(() => decodeStoryEntry(raw({ entryKind: "log" }))).toThrow(/no payload case is set/);
    // Two cases on the wire (a producer bug: proto3 would keep the last one): refused, not guessed.
    const two = new Uint8Array([...raw({ entryKind: "log", log: payloads.log }), ...faro.v1.StoryEntry.encode(faro.v1.StoryEntry.fromObject({ close: payloads.close })).finish()]);
    expect(() => decodeStoryEntry(two)).toThrow(/payload case log and close/);
  });

  it("check the payloads' enumerated fields on encode and decode", () => {
    expect(() => encodeStoryEntry(of("log", { ...payloads.log, containerType: "sidecar" as never }))).toThrow(/StoryEntry\.log\.containerType: "sidecar" is not one of/);
    expect(() => encodeStoryEntry(of("lifecycle", { ...payloads.lifecycle, what: "exploded" as never }))).toThrow(/lifecycle\.what/);
    expect(() => encodeStoryEntry(of("lifecycle", { ...payloads.lifecycle, containerType: "" }))).not.toThrow();
    expect(() => encodeStoryEntry(of("incident", { ...payloads.incident, severity: "urgent" as never }))).toThrow(/incident\.severity/);
    expect(() => encodeStoryEntry(of("close", { ...payloads.close, why: "bored" as never }))).toThrow(/close\.why/);
    expect(() => encodeStoryEntry(of("change", { ...payloads.change, type: "BOOKMARK" as never }))).toThrow(/change\.type/);
    const bad = faro.v1.StoryEntry.encode(faro.v1.StoryEntry.fromObject({ ...common, schemaVersion: 2, entryKind: "log", log: { ...payloads.log, source: "tail" } })).finish();
    expect(() => decodeStoryEntry(bad)).toThrow(/log\.source/);
    expect(() => encodeStoryEntry(of("log", { ...payloads.log, restartCount: "3" as never }))).toThrow(InvalidMessageError);
  });

  it("are written as version 2 only, and read as 1 or 2", () => {
    expect(() => encodeStoryEntry({ ...of("log", payloads.log), schemaVersion: 1 })).toThrow(/StoryEntry is written as version 2/);
    const v3 = faro.v1.StoryEntry.encode(faro.v1.StoryEntry.fromObject({ ...common, schemaVersion: 3, entryKind: "snapshot", snapshot: {} })).finish();
    expect(() => decodeStoryEntry(v3)).toThrow(SchemaVersionError);
    expect(() => decodeStoryEntry(v3)).toThrow(/schema_version 3 is not supported \(supported: 1, 2\)/);
  });

  it("render as proto3 canonical JSON with the set case only (an empty message stays, as {})", () => {
    const json = toCanonicalJson("StoryEntry", decodeStoryEntry(encodeStoryEntry(of("open", payloads.open))));
    expect(json["schemaVersion"]).toBe(2);
    expect(json["seq"]).toBe(String(2 ** 40 + 3));
    expect(json["open"]).toEqual({ window: 1, previousWindow: 0, root: workload, ownerChain: [rs, workload] });
    expect(ENTRY_KINDS.filter((k) => k in json)).toEqual(["open"]);
    expect(toCanonicalJson("StoryEntry", decodeStoryEntry(encodeStoryEntry(of("snapshot", {}))))["snapshot"]).toEqual({});
    const log = toCanonicalJson("StoryEntry", decodeStoryEntry(encodeStoryEntry(of("log", payloads.log))))["log"];
    expect(log).toEqual({ container: "app", containerType: "init", source: "previous", seqStart: "1099511627776", lines: [{ timestamp: line.timestamp, line: line.line }], unreadReason: "not_served" });
    // The reflection reader of the .proto (what other tools load) sees the same case.
    const type = protobuf.loadSync(PROTO_PATH).lookupType("faro.v1.StoryEntry");
    const raw = type.toObject(type.decode(encodeStoryEntry(of("log", payloads.log))), { oneofs: true });
    expect(raw["payload"]).toBe("log");
  });
});

// What the correlator put into payload_json before version 2, per kind and variant (services/correlator,
// processor.ts and lifecycle.ts of that release), in its key order.
const V1: Array<[EntryKind, Record<string, unknown>]> = [
  ["open", { window: 1, previousWindow: 0, root: { kind: "Deployment", name: "web", apiVersion: "apps/v1", uid: "dep-uid" }, ownerChain: [rs, workload] }],
  ["open", { window: 0, previousWindow: null, root: { kind: "Deployment", name: "web", apiVersion: "apps/v1", uid: "dep-uid" }, ownerChain: [] }],
  ["change", { type: "ADDED", resourceVersion: "1", kind: "Pod", name: "p", diff: [{ path: "", op: "add", to: { apiVersion: "v1", kind: "Pod", metadata: { name: "p", labels: { "名前": "x" } } } }] }],
  ["change", { type: "MODIFIED", resourceVersion: "2", kind: "Deployment", name: "web", diff: [{ path: "/spec/replicas", op: "replace", from: 2, to: 3 }, { path: "/metadata/labels/a", op: "remove", from: "b" }] }],
  ["change", { type: "DELETED", resourceVersion: "3", kind: "Pod", name: "p", diff: [{ path: "", op: "remove" }] }],
  ["lifecycle", { what: "replaced", replacesPod: "web-7d9f-old", replacesPodUid: "old-uid" }],
  ["lifecycle", { what: "scheduled", container: null, node: "node-1" }],
  ["lifecycle", { what: "phase", container: null, phase: "Running", previous: "Pending" }],
  ["lifecycle", { what: "phase", container: null, phase: "Pending", previous: null }],
  ["lifecycle", { what: "started", container: "app", containerType: "regular", restartCount: 0 }],
  ["lifecycle", { what: "restarted", container: "app", containerType: "regular", restartCount: 1 }],
  ["lifecycle", { what: "restarted", container: "app", containerType: "regular", restartCount: 2, exitCode: 137, reason: "OOMKilled", waiting: "CrashLoopBackOff", startedAt: "2026-11-22T01:00:00Z", finishedAt: "2026-11-22T02:00:00Z" }],
  ["lifecycle", { what: "restarted", container: "app", containerType: "regular", restartCount: 3, exitCode: null, reason: null, waiting: null }],
  ["lifecycle", { what: "terminated", container: "init-db", containerType: "init", restartCount: 0, exitCode: 0, reason: "Completed", finishedAt: "2026-11-22T01:00:00Z" }],
  ["lifecycle", { what: "terminating", container: null, deletionTimestamp: "2026-11-22T02:05:00Z" }],
  ["lifecycle", { what: "deleted", container: null }],
  ["event", { reason: "BackOff", type: "Warning", message: "Back-off", count: 3, firstTimestamp: "2026-11-22T01:59:00Z", lastTimestamp: "2026-11-22T02:00:00Z", eventTime: "", source: "kubelet", involved: payloads.event.involved, name: "ev-1" }],
  ["log", { container: "app", containerType: "regular", restartCount: 0, source: "follow", seqStart: 118, lines: [line, { ...line, truncated: true, originalBytes: 70000 }] }],
  ["log", { container: "app", containerType: "regular", restartCount: 1, source: "follow", seqStart: 0, lines: [], unread: { reason: "gone_before_read" } }],
  ["incident", { incidentId: "i-1", reason: "OOMKilled", severity: "high", container: "app", repeatCount: 1, isUpdate: false, exitCode: 137, firstSeen: "a", lastSeen: "b" }],
  ["incident", { incidentId: "i-2", reason: "StuckTerminating", severity: "medium", container: "", repeatCount: 4, isUpdate: true, exitCode: null, firstSeen: "a", lastSeen: "c" }],
  ["close", { why: "idle", window: 1 }],
  ["close", { why: "max-length", window: 0, next: 1 }],
  ["snapshot", {}],
];

describe("version 1 story entries (payload_json)", () => {
  it("decode into the typed payload, and render back to the very JSON they carried", () => {
    for (const [kind, json] of V1) {
      const got = decodeStoryEntry(v1Bytes(kind, JSON.stringify(json)));
      expect(got.schemaVersion).toBe(1);
      expect(got.entryKind).toBe(kind);
      expect(ENTRY_KINDS.filter((k) => k in got)).toEqual([kind]);
      expect(JSON.stringify(storyTimelineData(got)), `${kind} ${JSON.stringify(json)}`).toBe(JSON.stringify(json));
      // The same entry written as version 2 decodes to the same thing.
      const { schemaVersion: _v, ...rest } = got;
      expect(decodeStoryEntry(encodeStoryEntry(rest))).toEqual({ ...got, schemaVersion: 2 });
    }
  });

  it("keep a change's object and diff as JSON text, documented as such", () => {
    const added = decodeStoryEntry(v1Bytes("change", JSON.stringify(V1[2]![1]))) as StoryEntry<"change">;
    expect(JSON.parse(added.change.objectJson)).toEqual({ apiVersion: "v1", kind: "Pod", metadata: { name: "p", labels: { "名前": "x" } } });
    expect(added.change.diffJson).toBe("");
    const modified = decodeStoryEntry(v1Bytes("change", JSON.stringify(V1[3]![1]))) as StoryEntry<"change">;
    expect(JSON.parse(modified.change.diffJson)).toHaveLength(2);
    const deleted = decodeStoryEntry(v1Bytes("change", JSON.stringify(V1[4]![1]))) as StoryEntry<"change">;
    expect([deleted.change.objectJson, deleted.change.diffJson]).toEqual(["", ""]);
  });

  it("refuse a payload that is not a JSON object, or whose values break the contract (DecodeError)", () => {
    expect(() => decodeStoryEntry(v1Bytes("log", "{not json"))).toThrow(DecodeError);
    expect(() => decodeStoryEntry(v1Bytes("log", "{not json"))).toThrow(/StoryEntry\.payloadJson: version 1 payload/);
    expect(() => decodeStoryEntry(v1Bytes("log", "[1]"))).toThrow(/not a JSON object/);
    expect(() => decodeStoryEntry(v1Bytes("log", JSON.stringify({ container: "app", containerType: "sidecar", source: "follow", lines: [] })))).toThrow(/log\.containerType/);
    expect(() => decodeStoryEntry(v1Bytes("weird", "{}"))).toThrow(/entryKind/);
  });

  it("read an absent payload_json as an empty payload: the defaults, checked like any other", () => {
    const close = decodeStoryEntry(v1Bytes("snapshot", "")) as StoryEntry<"snapshot">;
    expect(close.snapshot).toEqual({});
    expect(() => decodeStoryEntry(v1Bytes("close", ""))).toThrow(/close\.why/);
  });
});
