// The public message types, now derived from the generated code, are exactly the hand-written interfaces
// they replace (copied below from before the switch, docs/decisions/0008-generated-contract-code.md).
// Checked by tsc (`npm run typecheck`); at run time expectTypeOf does nothing.
import { describe, expectTypeOf, it } from "vitest";
import type {
  Change,
  CloseWhy,
  ContainerType,
  DeadLetter,
  EntryKind,
  EventSummary,
  IncidentContext,
  KubeEvent,
  LifecycleWhat,
  LogBatch,
  LogLine,
  LogSource,
  Manifest,
  ObjectRef,
  OwnerRef,
  PodInstance,
  PreviousLogSource,
  ResourceChange,
  Severity,
  StoryEntry,
  UnreadReason,
  WatchType,
  WorkloadRef,
} from "./index.js";

interface OldOwnerRef {
  apiVersion: string;
  kind: string;
  name: string;
  uid: string;
  controller: boolean;
}

interface OldObjectRef {
  apiVersion: string;
  kind: string;
  namespace: string;
  name: string;
  uid: string;
  fieldPath: string;
}

interface OldWorkloadRef {
  apiVersion: string;
  kind: string;
  name: string;
  uid: string;
}

interface OldPodInstance {
  name: string;
  uid: string;
  node: string;
  /** "" when this pod replaces no earlier pod. */
  replacesPodUid: string;
}

interface OldLogLine {
  /** RFC3339 with 9 fractional digits, as the API gives it. */
  timestamp: string;
  line: string;
  truncated: boolean;
  originalBytes: number;
}

interface OldResourceChange {
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
  ownerRefs: OldOwnerRef[];
  labels: Record<string, string>;
  objectJson: string;
}

interface OldKubeEvent {
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
  involved: OldObjectRef;
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

interface OldLogBatch {
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
  lines: OldLogLine[];
  podOwnerRefs: OldOwnerRef[];
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


// StoryEntry, schema version 2 (docs/decisions/0009-typed-story-payloads.md): payload_json became one typed
// payload per entry kind, and the type a union discriminated by entryKind. Written out by hand here.
interface OldStoryEntryCommon {
  schemaVersion: number;
  storyId: string;
  window: number;
  seq: number;
  /** Sorts lexicographically in story order; see orderingKey(). */
  orderingKey: string;
  tenant: string;
  cluster: string;
  namespace: string;
  workload: OldWorkloadRef;
  /** Source time, RFC3339. */
  timestamp: string;
  pod?: OldPodInstance;
  summary: string;
}

interface OldOpenPayload {
  window: number;
  previousWindow?: number;
  root: OldWorkloadRef;
  ownerChain: OldWorkloadRef[];
}
interface OldChangePayload {
  type: WatchType;
  resourceVersion: string;
  kind: string;
  name: string;
  objectJson: string;
  diffJson: string;
}
interface OldContainerTermination {
  exitCode?: number;
  reason: string;
  startedAt: string;
  finishedAt: string;
}
interface OldLifecyclePayload {
  what: LifecycleWhat;
  container: string;
  containerType: ContainerType | "";
  restartCount: number;
  termination?: OldContainerTermination;
  waiting: string;
  node: string;
  phase: string;
  previousPhase: string;
  deletionTimestamp: string;
  replacesPod: string;
  replacesPodUid: string;
}
interface OldEventPayload {
  reason: string;
  type: string;
  message: string;
  count: number;
  firstTimestamp: string;
  lastTimestamp: string;
  eventTime: string;
  source: string;
  involved: OldObjectRef;
  name: string;
}
interface OldLogPayload {
  container: string;
  containerType: ContainerType;
  restartCount: number;
  source: LogSource;
  seqStart: number;
  lines: OldLogLine[];
  unreadReason?: "gone_before_read" | "not_served";
}
interface OldIncidentPayload {
  incidentId: string;
  reason: string;
  severity: Severity;
  container: string;
  repeatCount: number;
  isUpdate: boolean;
  exitCode?: number;
  firstSeen: string;
  lastSeen: string;
}
interface OldClosePayload {
  why: CloseWhy;
  window: number;
  next?: number;
}
/** Added with the security entry kind (docs/security.md); written out here like the others. */
interface OldSecurityPayload {
  source: "falco" | "trivy" | "kyverno";
  rule: string;
  severity: Severity;
  sourceSeverity: string;
  title: string;
  findingId: string;
  subject: OldObjectRef;
  container: string;
  evidenceJson: string;
  report: string;
}

type Flat<T> = { [K in keyof T]: T[K] };
/** One kind: the common fields, entryKind, its payload in the case of the same name, the other cases absent. */
type Kinded<K extends EntryKind, P> = Flat<OldStoryEntryCommon & { entryKind: K } & { [Q in K]: P } & { [Q in Exclude<EntryKind, K>]?: undefined }>;
type OldStoryEntry =
  | Kinded<"open", OldOpenPayload>
  | Kinded<"change", OldChangePayload>
  | Kinded<"lifecycle", OldLifecyclePayload>
  | Kinded<"event", OldEventPayload>
  | Kinded<"log", OldLogPayload>
  | Kinded<"incident", OldIncidentPayload>
  | Kinded<"close", OldClosePayload>
  | Kinded<"snapshot", {}>
  | Kinded<"security", OldSecurityPayload>;

interface OldEventSummary {
  reason: string;
  type: string;
  message: string;
  count: number;
  first: string;
  last: string;
  source: string;
}

interface OldManifest {
  kind: string;
  name: string;
  json: string;
}

interface OldChange {
  timestamp: string;
  kind: string;
  name: string;
  diffJson: string;
}

interface OldIncidentContext {
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
  ownerChain: OldWorkloadRef[];
  pod?: OldPodInstance;
  container: string;
  exitCode?: number;
  restartCount: number;
  message: string;
  logTail: OldLogLine[];
  previousLog: OldLogLine[];
  previousLogSource: PreviousLogSource;
  events: OldEventSummary[];
  manifests: OldManifest[];
  recentChanges: OldChange[];
  containerType?: string;
  observedAfterTheFact?: boolean;
  evidence?: { source: string; object: string; field: string; reason: string; message: string; time: string; value: string }[];
  affectedPods?: OldPodInstance[];
  receivedAt?: string;
  debounceWindowMs?: number;
}

interface OldDeadLetter {
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

describe("message types", () => {
  it("are the hand-written interfaces they replace", () => {
    expectTypeOf<OwnerRef>().toEqualTypeOf<OldOwnerRef>();
    expectTypeOf<ObjectRef>().toEqualTypeOf<OldObjectRef>();
    expectTypeOf<WorkloadRef>().toEqualTypeOf<OldWorkloadRef>();
    expectTypeOf<PodInstance>().toEqualTypeOf<OldPodInstance>();
    expectTypeOf<LogLine>().toEqualTypeOf<OldLogLine>();
    expectTypeOf<ResourceChange>().toEqualTypeOf<OldResourceChange>();
    expectTypeOf<KubeEvent>().toEqualTypeOf<OldKubeEvent>();
    expectTypeOf<LogBatch>().toEqualTypeOf<OldLogBatch>();
    expectTypeOf<StoryEntry>().toEqualTypeOf<OldStoryEntry>();
    expectTypeOf<EventSummary>().toEqualTypeOf<OldEventSummary>();
    expectTypeOf<Manifest>().toEqualTypeOf<OldManifest>();
    expectTypeOf<Change>().toEqualTypeOf<OldChange>();
    expectTypeOf<IncidentContext>().toEqualTypeOf<OldIncidentContext>();
    expectTypeOf<DeadLetter>().toEqualTypeOf<OldDeadLetter>();
  });
});
