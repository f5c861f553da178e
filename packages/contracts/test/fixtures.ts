// Sample messages of every top-level type, for the generated-code and interoperability tests. Some fields
// sit at their proto3 default (canonical JSON and protoc leave them out), some optional fields are set to
// a default (they must stay), 64-bit values exceed 2^32, strings are not ASCII.
import type { DeadLetter, IncidentContext, KubeEvent, LogBatch, MessageTypes, ResourceChange, StoryEntry } from "../src/index.js";

const owner = { apiVersion: "apps/v1", kind: "ReplicaSet", name: "web-7d9f", uid: "rs-uid", controller: true };
const line = { timestamp: "2026-11-22T02:00:00.123456789Z", line: "héllo wörld 名前", truncated: false, originalBytes: 19 };
const pod = { name: "web-7d9f-abcde", uid: "pod-uid", node: "node-1", replacesPodUid: "" };
const workload = { apiVersion: "apps/v1", kind: "Deployment", name: "web", uid: "dep-uid" };

export const resourceChange: ResourceChange = {
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
  ownerRefs: [owner, { ...owner, controller: false }],
  labels: { app: "web", "app.kubernetes.io/part-of": "shop" },
  objectJson: JSON.stringify({ kind: "Deployment", spec: { replicas: 3 } }),
};

export const kubeEvent: KubeEvent = {
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
  sourceHost: "",
  reportingController: "kubelet",
  involved: { apiVersion: "v1", kind: "Pod", namespace: "shop", name: "web-7d9f-abcde", uid: "pod-uid", fieldPath: "spec.containers{app}" },
  count: 7,
  firstTimestamp: "2026-11-22T01:59:00Z",
  lastTimestamp: "2026-11-22T02:00:00Z",
  eventTime: "",
  observedAtMs: 1_795_000_000_999,
  objectJson: "{}",
  involvedLabels: { team: "名前" },
};

export const logBatch: LogBatch = {
  schemaVersion: 1,
  cluster: "prod-eu",
  namespace: "shop",
  pod: "web-7d9f-abcde",
  podUid: "pod-uid",
  container: "app",
  containerType: "init",
  restartCount: 0,
  source: "previous",
  seqStart: 2 ** 40,
  lines: [line, { ...line, line: "x".repeat(10), truncated: true, originalBytes: 70_000 }],
  podOwnerRefs: [owner],
  node: "node-1",
  observedAtMs: 1_795_000_000_000,
  endOfStream: true,
  podLabels: {},
  unreadReason: "not_served",
};

export const storyEntry: StoryEntry = {
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
  log: { container: "app", containerType: "regular", restartCount: 0, source: "follow", seqStart: 2 ** 40, lines: [line, { ...line, line: "", truncated: true, originalBytes: 70_000 }] },
};

export const incidentContext: IncidentContext = {
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
  isUpdate: false,
  ownerChain: [{ apiVersion: "v1", kind: "Pod", name: pod.name, uid: pod.uid }, workload],
  pod,
  container: "app",
  exitCode: 0,
  restartCount: 9,
  message: "container app exited",
  logTail: [line],
  previousLog: [],
  previousLogSource: "none",
  events: [{ reason: "BackOff", type: "Warning", message: "m", count: 7, first: "a", last: "b", source: "kubelet" }],
  manifests: [{ kind: "Pod", name: pod.name, json: "{}" }],
  recentChanges: [{ timestamp: "2026-11-22T01:50:00Z", kind: "Deployment", name: "web", diffJson: '[{"op":"replace"}]' }],
};

export const deadLetter: DeadLetter = {
  schemaVersion: 1,
  service: "filter",
  stage: "redact",
  originalSubject: "faro.v1.raw.prod-eu.shop.log.web.app",
  reason: "unredactable",
  error: "regex timeout",
  deliveries: 5,
  streamSeq: 123_456_789_012,
  payload: new Uint8Array([0, 1, 254, 255]),
  payloadWithheld: false,
  atMs: 1_795_000_000_000,
};

/** One story entry per payload case, with values at their default where presence matters (oneof, optional). */
export const storyEntryCases: StoryEntry[] = [
  { ...storyEntry, entryKind: "open", log: undefined, open: { window: 0, previousWindow: 0, root: { apiVersion: "", kind: "", name: "", uid: "" }, ownerChain: [workload] } },
  { ...storyEntry, entryKind: "change", log: undefined, change: { type: "DELETED", resourceVersion: "7", kind: "Pod", name: pod.name, objectJson: "", diffJson: "" } },
  {
    ...storyEntry,
    entryKind: "lifecycle",
    log: undefined,
    lifecycle: {
      what: "terminated",
      container: "app",
      containerType: "init",
      restartCount: 0,
      termination: { exitCode: 0, reason: "", startedAt: "", finishedAt: "2026-11-22T02:00:00Z" },
      waiting: "",
      node: "",
      phase: "",
      previousPhase: "",
      deletionTimestamp: "",
      replacesPod: "",
      replacesPodUid: "",
    },
  },
  { ...storyEntry, entryKind: "incident", log: undefined, incident: { incidentId: "i-1", reason: "OOMKilled", severity: "high", container: "", repeatCount: 1, isUpdate: false, exitCode: 0, firstSeen: "", lastSeen: "" } },
  { ...storyEntry, entryKind: "close", log: undefined, close: { why: "max-length", window: 0, next: 0 } },
  { ...storyEntry, entryKind: "snapshot", log: undefined, snapshot: {} },
];

type TopLevel = "ResourceChange" | "KubeEvent" | "LogBatch" | "StoryEntry" | "IncidentContext" | "DeadLetter";
export const samples: { [K in TopLevel]: MessageTypes[K] } = {
  ResourceChange: resourceChange,
  KubeEvent: kubeEvent,
  LogBatch: logBatch,
  StoryEntry: storyEntry,
  IncidentContext: incidentContext,
  DeadLetter: deadLetter,
};
