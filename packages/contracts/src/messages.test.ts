// Round trips and rejection paths of the protobuf codecs.
import { describe, expect, it } from "vitest";
import protobuf from "protobufjs";
import { ContractError, DecodeError, InvalidMessageError, SchemaVersionError } from "./errors.js";
import {
  PROTO_PATH,
  decodeDeadLetter,
  decodeIncidentContext,
  decodeKubeEvent,
  decodeLogBatch,
  decodeResourceChange,
  decodeStoryEntry,
  encodeDeadLetter,
  encodeIncidentContext,
  encodeKubeEvent,
  encodeLogBatch,
  encodeResourceChange,
  encodeStoryEntry,
  orderingKey,
  type DeadLetter,
  type IncidentContext,
  type KubeEvent,
  type LogBatch,
  type ResourceChange,
  type StoryEntry,
} from "./messages.js";

const owner = { apiVersion: "apps/v1", kind: "ReplicaSet", name: "web-7d9f", uid: "rs-uid", controller: true };
const line = { timestamp: "2026-11-22T02:00:00.123456789Z", line: "héllo wörld 名前", truncated: false, originalBytes: 19 };
const pod = { name: "web-7d9f-abcde", uid: "pod-uid", node: "node-1", replacesPodUid: "old-pod-uid" };
const workload = { apiVersion: "apps/v1", kind: "Deployment", name: "web", uid: "dep-uid" };

const change: ResourceChange = {
  schemaVersion: 1,
  cluster: "prod-eu",
  type: "MODIFIED",
  group: "apps",
  version: "v1",
  resource: "deployments",
  kind: "Deployment",
  namespace: "shop",
  name: "web",
  uid: "dep-uid",
  resourceVersion: "12345",
  observedAtMs: 1_795_000_000_123,
  ownerRefs: [owner],
  labels: { app: "web", "app.kubernetes.io/part-of": "shop" },
  objectJson: JSON.stringify({ kind: "Deployment", spec: { replicas: 3 } }),
};

const event: KubeEvent = {
  schemaVersion: 1,
  cluster: "prod-eu",
  type: "ADDED",
  uid: "ev-uid",
  resourceVersion: "99",
  namespace: "shop",
  name: "web-7d9f-abcde.17a",
  reason: "BackOff",
  message: "Back-off restarting failed container",
  eventType: "Warning",
  sourceComponent: "kubelet",
  sourceHost: "node-1",
  reportingController: "kubelet",
  involved: { apiVersion: "v1", kind: "Pod", namespace: "shop", name: "web-7d9f-abcde", uid: "pod-uid", fieldPath: "spec.containers{app}" },
  count: 7,
  firstTimestamp: "2026-11-22T01:59:00Z",
  lastTimestamp: "2026-11-22T02:00:00Z",
  eventTime: "",
  observedAtMs: 1_795_000_000_999,
  objectJson: "{}",
};

const batch: LogBatch = {
  schemaVersion: 1,
  cluster: "prod-eu",
  namespace: "shop",
  pod: "web-7d9f-abcde",
  podUid: "pod-uid",
  container: "app",
  containerType: "init",
  restartCount: 3,
  source: "previous",
  seqStart: 2 ** 40,
  lines: [line, { ...line, line: "x".repeat(10), truncated: true, originalBytes: 70_000 }],
  podOwnerRefs: [owner],
  node: "node-1",
  observedAtMs: 1_795_000_000_000,
  endOfStream: true,
  podLabels: { app: "web", "app.kubernetes.io/part-of": "shop" },
};

const entry: StoryEntry = {
  schemaVersion: 2,
  storyId: "s-0123456789abcdef",
  window: 2,
  seq: 17,
  orderingKey: "2026-11-22T02:00:00.123456789Z/000000000017",
  tenant: "team-a",
  cluster: "prod-eu",
  namespace: "shop",
  workload,
  entryKind: "log",
  timestamp: "2026-11-22T02:00:00.123456789Z",
  pod,
  summary: "app: 2 lines",
  log: { container: "app", containerType: "regular", restartCount: 3, source: "follow", seqStart: 2 ** 40, lines: [line, { ...line, truncated: true, originalBytes: 70_000 }] },
};

const incident: IncidentContext = {
  schemaVersion: 1,
  incidentId: "i-0011223344556677",
  storyId: "s-0123456789abcdef",
  tenant: "team-a",
  cluster: "prod-eu",
  namespace: "shop",
  reason: "CrashLoopBackOff",
  severity: "high",
  detectedAt: "2026-11-22T02:00:01.234Z",
  k8sTimestamp: "2026-11-22T02:00:00Z",
  firstSeen: "2026-11-22T01:55:00Z",
  lastSeen: "2026-11-22T02:00:00Z",
  repeatCount: 10,
  isUpdate: true,
  ownerChain: [{ apiVersion: "v1", kind: "Pod", name: pod.name, uid: pod.uid }, workload],
  pod,
  container: "app",
  exitCode: 0,
  restartCount: 9,
  message: "container app exited",
  logTail: [line],
  previousLog: [line, line],
  previousLogSource: "buffer",
  events: [{ reason: "BackOff", type: "Warning", message: "m", count: 7, first: "a", last: "b", source: "kubelet" }],
  manifests: [{ kind: "Pod", name: pod.name, json: "{}" }],
  recentChanges: [{ timestamp: "2026-11-22T01:50:00Z", kind: "Deployment", name: "web", diffJson: '[{"op":"replace"}]' }],
  containerType: "init",
  observedAfterTheFact: true,
  evidence: [{ source: "status", object: "Pod/web-1", field: "status.initContainerStatuses[app].lastState.terminated", reason: "Error", message: "", time: "2026-11-22T02:00:00Z", value: "exitCode=1" }],
  affectedPods: [{ ...pod, name: `shop/${pod.name}` }],
  receivedAt: "2026-11-22T02:00:01.300Z",
  debounceWindowMs: 300_000,
};

const dead: DeadLetter = {
  schemaVersion: 1,
  service: "filter",
  stage: "redact",
  originalSubject: "faro.v1.raw.prod-eu.shop.log.web.app",
  reason: "unredactable",
  error: "regex timeout",
  deliveries: 5,
  streamSeq: 123_456_789_012,
  payload: new Uint8Array(),
  payloadWithheld: true,
  atMs: 1_795_000_000_000,
};

describe("message codecs", () => {
  it("round-trips every message", () => {
    expect(decodeResourceChange(encodeResourceChange(change))).toEqual(change);
    expect(decodeKubeEvent(encodeKubeEvent(event))).toEqual(event);
    const labelled = { ...event, involvedLabels: { app: "web", "app.kubernetes.io/part-of": "shop", team: "名前" } };
    expect(decodeKubeEvent(encodeKubeEvent(labelled))).toEqual(labelled);
    expect(decodeLogBatch(encodeLogBatch(batch))).toEqual(batch);
    const marker = { ...batch, lines: [], endOfStream: true, unreadReason: "gone_before_read" as const };
    expect(decodeLogBatch(encodeLogBatch(marker))).toEqual(marker);
    expect(decodeStoryEntry(encodeStoryEntry(entry))).toEqual(entry);
    expect(decodeIncidentContext(encodeIncidentContext(incident))).toEqual(incident);
    const d = decodeDeadLetter(encodeDeadLetter(dead));
    expect({ ...d, payload: Array.from(d.payload) }).toEqual({ ...dead, payload: [] });
    const withPayload = decodeDeadLetter(encodeDeadLetter({ ...dead, payload: new Uint8Array([0, 1, 255]), payloadWithheld: false }));
    expect(Array.from(withPayload.payload)).toEqual([0, 1, 255]);
  });

  it("keeps optional fields absent and distinguishes exitCode 0 from no exit code", () => {
    const { pod: _p, exitCode: _e, ...bare } = incident;
    const got = decodeIncidentContext(encodeIncidentContext(bare));
    expect(got.pod).toBeUndefined();
    expect(got.exitCode).toBeUndefined();
    expect("pod" in got).toBe(false);
    expect(decodeIncidentContext(encodeIncidentContext(incident)).exitCode).toBe(0);
    const { pod: _q, ...noPod } = entry;
    expect(decodeStoryEntry(encodeStoryEntry(noPod)).pod).toBeUndefined();
  });

  it("decodes an Event's involvedLabels as absent when none or an empty map was encoded", () => {
    const none = decodeKubeEvent(encodeKubeEvent(event));
    expect("involvedLabels" in none).toBe(false);
    const empty = decodeKubeEvent(encodeKubeEvent({ ...event, involvedLabels: {} }));
    expect("involvedLabels" in empty).toBe(false);
    expect(decodeKubeEvent(encodeKubeEvent({ ...event, involvedLabels: { team: "a" } })).involvedLabels).toEqual({ team: "a" });
    // A reader of the field's wire form (map entries, field 21) sees what the producer set.
    const type = protobuf.loadSync(PROTO_PATH).lookupType("faro.v1.KubeEvent");
    const raw = type.toObject(type.decode(encodeKubeEvent({ ...event, involvedLabels: { team: "a" } })));
    expect(raw["involvedLabels"]).toEqual({ team: "a" });
    expect(() => encodeKubeEvent({ ...event, involvedLabels: { team: 1 as never } })).toThrow(InvalidMessageError);
  });

  it("stamps the current schema version when the producer leaves it out", () => {
    const { schemaVersion: _v, ...rest } = change;
    expect(decodeResourceChange(encodeResourceChange(rest)).schemaVersion).toBe(1);
  });

  it("returns int64 fields as plain numbers", () => {
    const got = decodeDeadLetter(encodeDeadLetter(dead));
    expect(typeof got.streamSeq).toBe("number");
    expect(got.streamSeq).toBe(123_456_789_012);
  });

  it("throws DecodeError on garbage bytes", () => {
    const garbage = new Uint8Array([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]);
    expect(() => decodeLogBatch(garbage)).toThrow(DecodeError);
    expect(() => decodeResourceChange(new Uint8Array([0x0a, 0x05, 0x01]))).toThrow(ContractError);
  });

  it("throws SchemaVersionError on a missing or unknown schema version", () => {
    const type = protobuf.loadSync(PROTO_PATH).lookupType("faro.v1.LogBatch");
    const v0 = type.encode(type.fromObject({ cluster: "c", containerType: "regular", source: "follow" })).finish();
    expect(() => decodeLogBatch(v0)).toThrow(SchemaVersionError);
    const v2 = encodeLogBatch({ ...batch, schemaVersion: 2 });
    expect(() => decodeLogBatch(v2)).toThrow(SchemaVersionError);
    expect(() => decodeLogBatch(v2)).toThrow(/schema_version 2/);
    // Bytes of another message type still fail loudly rather than decoding as nonsense with version 1.
    expect(() => decodeStoryEntry(new TextEncoder().encode("hello world"))).toThrow(ContractError);
  });

  it("rejects unknown enumerated values on encode and decode", () => {
    expect(() => encodeResourceChange({ ...change, type: "BOOKMARK" as never })).toThrow(InvalidMessageError);
    expect(() => encodeIncidentContext({ ...incident, severity: "urgent" as never })).toThrow(/severity/);
    const type = protobuf.loadSync(PROTO_PATH).lookupType("faro.v1.LogBatch");
    const bad = type.encode(type.fromObject({ schemaVersion: 1, containerType: "sidecar", source: "follow" })).finish();
    expect(() => decodeLogBatch(bad)).toThrow(/containerType/);
    expect(() => encodeLogBatch({ ...batch, unreadReason: "vanished" as never })).toThrow(/unreadReason/);
    const badReason = type.encode(type.fromObject({ schemaVersion: 1, containerType: "regular", source: "follow", unreadReason: "vanished" })).finish();
    expect(() => decodeLogBatch(badReason)).toThrow(/unreadReason/);
  });

  it("rejects wrongly typed fields on encode", () => {
    expect(() => encodeLogBatch({ ...batch, restartCount: "3" as never })).toThrow(InvalidMessageError);
  });
});

describe("orderingKey", () => {
  it("sorts by time then sequence, whatever the offset and precision", () => {
    const keys = [
      orderingKey("2026-11-22T02:00:00.5Z", 3),
      orderingKey("2026-11-22T03:00:00.1+01:00", 1),
      orderingKey("2026-11-22T02:00:00.123456789Z", 2),
      orderingKey("2026-11-22T02:00:00.123456789Z", 10),
    ];
    expect(keys[1]).toBe("2026-11-22T02:00:00.100000000Z/000000000001");
    expect([...keys].sort()).toEqual([keys[1], keys[2], keys[3], keys[0]]);
    expect(() => orderingKey("yesterday", 1)).toThrow(ContractError);
  });
});
