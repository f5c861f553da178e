// Turns clean inputs into story entries and incidents: ownership, story bookkeeping, detection, debounce, harvest.
import {
  buildIncidentSubject,
  buildStorySubject,
  decodeKubeEvent,
  decodeLogBatch,
  decodeResourceChange,
  eventId,
  incidentMessageId,
  logBatchId,
  orderingKey,
  parseSubject,
  resourceChangeId,
  storyIdFor,
  type Encodable,
  type IncidentContext,
  type KubeEvent,
  type LogBatch,
  type PodInstance,
  type ResourceChange,
  type StoryEntry,
  type StoryPayload,
  type UnreadReason,
  type WorkloadRef,
} from "@faro/contracts";
import type { Logger } from "pino";
import { detectEvent, detectPod, detectStuck, detectWorkload, eventTimestamp, type AffectedPod, type Detection } from "./detect.js";
import { diffObjects } from "./diff.js";
import { InvolvedObjectPendingError, MalformedInputError } from "./errors.js";
import { Harvester, instanceKey, storeLine, type IncidentScope, type PreviousLogFetcher, type StoredEvent } from "./harvest.js";
import { entryMsgId, entrySeq, incidentIdFor, MAX_SEQ } from "./ids.js";
import { isoTime, objectTimestamp, parseTime, podStatus, type ObjectJson, type OwnerReferenceJson } from "./k8s.js";
import { lifecyclePayload, podLifecycle } from "./lifecycle.js";
import type { CorrelatorMetrics } from "./metrics.js";
import { Ownership, ownerRecordOf, type ChainLink, type OwnerFetcher, type Resolution } from "./ownership.js";
import { debounceKeyOf, DEFAULT_SECURITY_SETTINGS, securityFromChange, securityFromEvent, withInvolvedUid, type SecuritySettings } from "./security.js";
import type { CorrelatorSettings } from "./settings.js";
import type { ApplyRequest, ApplyResult, CorrelatorState, OutboxItem, StoryRoot } from "./state.js";

/** Where the processor's output goes; each call resolves once JetStream acknowledged the message. */
export interface Sink {
  publishEntry(subject: string, entry: Encodable<StoryEntry>, msgId: string): Promise<void>;
  publishIncident(subject: string, incident: Encodable<IncidentContext>, msgId: string): Promise<void>;
}

export interface ProcessorDeps {
  state: CorrelatorState;
  sink: Sink;
  settings: CorrelatorSettings;
  fetchOwner?: OwnerFetcher;
  fetchPreviousLogs?: PreviousLogFetcher;
  /** Lists the pods bound to a node (for the affected pods of a node-level incident). */
  listPodsOnNode?: (node: string) => Promise<AffectedPod[]>;
  /** Security findings (docs/security.md): severity threshold of SecurityFinding incidents and bounds. */
  security?: Partial<SecuritySettings>;
  redactor?: import("@faro/redact").Redactor;
  logger?: Logger;
  metrics?: CorrelatorMetrics;
  /** Told the owner-chain cache's size when it changes (the `owner_cache` queue gauge). */
  onOwnerCacheSize?: (entries: number) => void;
  /** Wall clock (ms); injectable for tests. */
  now?: () => number;
}

interface PendingEntry {
  /** Message id suffix when the entry has an identity of its own (default: the input id and its index). */
  id?: string;
  timestamp: string;
  summary: string;
  /** The entry kind and its typed payload: `{ entryKind: "log", log: {…} }`. */
  body: StoryPayload;
  pod?: PodInstance;
}

interface Story {
  root: StoryRoot;
  resolution: Resolution;
}

/** Why an instance's log was not read, for an entry's summary. */
const UNREAD_TEXT: Record<Exclude<UnreadReason, "">, string> = {
  gone_before_read: "the pod was deleted before its log was read",
  not_served: "the API no longer serves it",
};

const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?(?:Z|[+-]\d{2}:\d{2})$/;

export class Processor {
  private readonly state: CorrelatorState;
  private readonly sink: Sink;
  private readonly s: CorrelatorSettings;
  private readonly ownership: Ownership;
  private readonly harvester: Harvester;
  private readonly now: () => number;
  private readonly logger: Logger | undefined;
  private readonly metrics: CorrelatorMetrics | undefined;
  private readonly listPodsOnNode: ((node: string) => Promise<AffectedPod[]>) | undefined;
  private readonly security: SecuritySettings;
  private readonly fetchOwner: OwnerFetcher | undefined;
  // Log batches processed by this replica wake harvests waiting for that instance's last lines.
  private readonly logWaiters = new Map<string, Set<() => void>>();

  constructor(deps: ProcessorDeps) {
    this.state = deps.state;
    this.sink = deps.sink;
    this.s = deps.settings;
    this.now = deps.now ?? Date.now;
    this.logger = deps.logger;
    this.metrics = deps.metrics;
    this.listPodsOnNode = deps.listPodsOnNode;
    this.security = { ...DEFAULT_SECURITY_SETTINGS, ...deps.security };
    this.fetchOwner = deps.fetchOwner;
    this.ownership = new Ownership({
      state: deps.state,
      ...(deps.fetchOwner ? { fetchOwner: deps.fetchOwner } : {}),
      ttlMs: deps.settings.stateTtlMs,
      ...(deps.logger ? { logger: deps.logger } : {}),
      onLookup: (how) => deps.metrics?.ownerLookups.inc({ how }),
      cacheMax: deps.settings.ownerCacheEntries,
      ...(deps.onOwnerCacheSize ? { onCacheSize: deps.onOwnerCacheSize } : {}),
    });
    this.harvester = new Harvester({
      state: deps.state,
      settings: deps.settings,
      ...(deps.redactor ? { redactor: deps.redactor } : {}),
      ...(deps.fetchPreviousLogs ? { fetchPreviousLogs: deps.fetchPreviousLogs } : {}),
      ...(deps.logger ? { logger: deps.logger } : {}),
    });
  }

  /** Handles one message of the clean stream. Throws MalformedInputError for what can never be processed. */
  async handleClean(subject: string, data: Uint8Array, attempt = Number.POSITIVE_INFINITY): Promise<void> {
    let parsed;
    try {
      parsed = parseSubject(subject);
    } catch (err) {
      throw new MalformedInputError(subject, "not a faro.v1 subject", { cause: err });
    }
    if (parsed.stage !== "clean") throw new MalformedInputError(subject, `stage ${parsed.stage} is not clean`);
    const decode = <T>(fn: (b: Uint8Array) => T): T => {
      try {
        return fn(data);
      } catch (err) {
        throw new MalformedInputError(subject, (err as Error).message, { cause: err });
      }
    };
    switch (parsed.target.category) {
      case "obj":
        return await this.handleChange(parsed.tenant, decode(decodeResourceChange), subject);
      case "event":
        return await this.handleEvent(parsed.tenant, decode(decodeKubeEvent), attempt);
      case "log":
        return await this.handleLogs(parsed.tenant, decode(decodeLogBatch));
    }
  }

  private async story(tenant: string, cluster: string, namespace: string, start: ChainLink, owners: readonly OwnerReferenceJson[] | undefined): Promise<Story> {
    const resolution = await this.ownership.resolve(cluster, namespace, start, owners);
    const r = resolution.root;
    const storyId = storyIdFor(tenant, cluster, namespace, r.kind, r.name);
    return {
      resolution,
      root: { storyId, tenant, cluster, namespace, rootKind: r.kind, rootName: r.name, rootApiVersion: r.apiVersion, rootUid: r.uid },
    };
  }

  private baseApply(inputId: string, root: StoryRoot, tsMs: number | undefined, fallbackMs: number): ApplyRequest {
    const s = this.s;
    return {
      inputId,
      story: root,
      tsMs: tsMs ?? fallbackMs,
      sourceTime: tsMs !== undefined,
      wallMs: this.now(),
      n: 1,
      maxEntries: s.maxEntriesPerWindow,
      graceMs: s.rootDeletedGraceMs,
      objTtlMs: s.stateTtlMs,
      deletedTtlMs: s.deletedTtlMs,
      historyKeep: 4,
      historyTtlMs: Math.min(s.markerTtlMs, s.stateTtlMs),
      markerTtlMs: s.markerTtlMs,
      replaceWindowMs: s.replaceWindowMs,
    };
  }

  async handleChange(tenant: string, rc: ResourceChange, subject = ""): Promise<void> {
    let obj: ObjectJson;
    try {
      obj = JSON.parse(rc.objectJson) as ObjectJson;
    } catch (err) {
      throw new MalformedInputError(subject || `${rc.kind}/${rc.name}`, "objectJson is not JSON", { cause: err });
    }
    const apiVersion = rc.group ? `${rc.group}/${rc.version}` : rc.version;
    const self: ChainLink = { apiVersion, kind: rc.kind, name: rc.name, uid: rc.uid };
    const owners = rc.ownerRefs.length ? rc.ownerRefs : (obj.metadata?.ownerReferences ?? []);
    await this.ownership.record(rc.cluster, rc.uid, ownerRecordOf({ ...obj, apiVersion, kind: rc.kind, metadata: { ...obj.metadata, name: rc.name, namespace: rc.namespace } }, owners));
    const story = await this.story(tenant, rc.cluster, rc.namespace, self, owners);
    const deleted = rc.type === "DELETED";
    const objMs = objectTimestamp(obj);
    const inputId = resourceChangeId(rc.uid, rc.resourceVersion, rc.type);
    const isRoot = story.resolution.chain.length === 1;
    const isPod = rc.kind === "Pod" && rc.group === "";
    const status = podStatus(obj);
    const req = this.baseApply(inputId, story.root, objMs, rc.observedAtMs);
    req.floorToClock = true;
    if (isRoot) req.root = deleted ? "deleted" : "alive";
    req.obj = { uid: rc.uid, rv: rc.resourceVersion, kind: rc.kind, name: rc.name, json: rc.objectJson, deleted };
    if (isPod) {
      req.obj.gone = deleted || Boolean(obj.metadata?.deletionTimestamp);
      if (status.phase === "Pending" && !obj.metadata?.deletionTimestamp) {
        const created = parseTime(obj.metadata?.creationTimestamp);
        if (created !== undefined) req.obj.pendingSinceMs = created;
      }
      const deletion = parseTime(obj.metadata?.deletionTimestamp);
      if (deletion !== undefined && !deleted) req.obj.terminatingSinceMs = deletion;
    }
    const applied = await this.state.apply(req);
    if (applied.dup) this.metrics?.redeliveries.inc();
    const prev = applied.prevJson ? (JSON.parse(applied.prevJson) as ObjectJson) : undefined;
    const tsMs = applied.tsMs;
    const ts = isoTime(tsMs);
    const pod: PodInstance | undefined = isPod
      ? { name: rc.name, uid: rc.uid, node: String(obj.spec?.["nodeName"] ?? ""), replacesPodUid: applied.replaces?.uid ?? "" }
      : undefined;
    const entries: PendingEntry[] = [];
    const ref = `${rc.kind} ${rc.name}`;
    // A deletion has neither object nor diff; the first version the story sees is the whole object; then diffs.
    const change = (summary: string, json: { objectJson?: string; diffJson?: string }): PendingEntry => ({
      timestamp: ts,
      summary,
      body: { entryKind: "change", change: { type: rc.type, resourceVersion: rc.resourceVersion, kind: rc.kind, name: rc.name, objectJson: json.objectJson ?? "", diffJson: json.diffJson ?? "" } },
      ...(pod ? { pod } : {}),
    });
    let diffJson: string | undefined;
    if (deleted) {
      entries.push(change(`${ref} deleted`, {}));
    } else if (!prev) {
      entries.push(change(`${ref} ${rc.type === "ADDED" ? "created" : "first seen"}`, { objectJson: rc.objectJson }));
    } else {
      const diff = diffObjects(prev, obj);
      if (diff.length) {
        diffJson = JSON.stringify(diff);
        entries.push(change(`${ref} changed (${diff.length} field${diff.length > 1 ? "s" : ""})`, { diffJson }));
      }
    }
    // Lifecycle entries are named by the transition, not by the input that revealed it: when replicas
    // handle versions out of order, the same transition found twice is one message (JetStream dedupe).
    const lc = (key: string) => `lc:${rc.uid}:${key}`;
    if (isPod && applied.replaces && pod) {
      entries.push({
        id: lc("replaced"),
        timestamp: ts,
        summary: `pod ${rc.name} replaces pod ${applied.replaces.name}`,
        body: { entryKind: "lifecycle", lifecycle: lifecyclePayload("replaced", { replacesPod: applied.replaces.name, replacesPodUid: applied.replaces.uid }) },
        pod,
      });
    }
    let detections: Detection[] = [];
    if (isPod) {
      for (const t of podLifecycle(prev, obj, deleted, tsMs)) entries.push({ id: lc(t.key), timestamp: t.timestamp, summary: t.summary, body: { entryKind: "lifecycle", lifecycle: t.payload }, ...(pod ? { pod } : {}) });
      if (!deleted) detections = detectPod(prev, obj);
    } else if (!deleted) {
      detections = detectWorkload(rc.kind, prev, obj);
      if (rc.kind === "Node" && detections.length) {
        const affected = await this.podsOnNode(rc.name);
        detections = detections.map((d) => ({ ...d, affectedPods: affected }));
      }
    }
    // Trivy and policy reports: their new findings are told as security entries (and may raise incidents).
    const sec = securityFromChange(rc, obj, prev, deleted, ts, this.security);
    entries.push(...sec.entries);
    detections = [...detections, ...sec.detections];
    if (diffJson) {
      await this.state.recordChange(story.root.storyId, inputId, tsMs, JSON.stringify({ timestamp: ts, kind: rc.kind, name: rc.name, diffJson }), this.s.changesPerStory, this.s.stateTtlMs);
    }
    await this.publishEntries(story, applied, inputId, rc.resourceVersion, entries);
    await this.incidents(story, detections, pod, entrySeq(rc.resourceVersion, 15));
  }

  /** `attempt` is the delivery count: an Event about an object not known yet is retried a few times. */
  async handleEvent(tenant: string, event: KubeEvent, attempt = Number.POSITIVE_INFINITY): Promise<void> {
    // An Event expiring from the API is no news for the story.
    if (event.type === "DELETED") return;
    const ev = await withInvolvedUid(event, this.fetchOwner);
    const inv = ev.involved;
    const known = inv.uid ? await this.state.getOwner(ev.cluster, inv.uid) : undefined;
    const self: ChainLink = { apiVersion: inv.apiVersion, kind: inv.kind, name: inv.name, uid: inv.uid };
    // A cluster-scoped involved object (a Node) has no namespace: its story is cluster-scoped like its changes.
    const namespace = inv.namespace;
    // An Event may arrive before its object (separate watches): then the object is read from the API.
    const owners: OwnerReferenceJson[] | undefined = known
      ? known.ownerUid
        ? [{ apiVersion: known.ownerApiVersion, kind: known.ownerKind, name: known.ownerName, uid: known.ownerUid, controller: true }]
        : []
      : await this.ownership.ownersOf(ev.cluster, namespace, self);
    if (!owners && attempt < this.s.unknownObjectRetries) {
      // Its object's change is probably still on its way (another subject): try again shortly.
      throw new InvolvedObjectPendingError(inv.kind, namespace, inv.name);
    }
    const story = await this.story(tenant, ev.cluster, namespace, self, owners);
    const ts = eventTimestamp(ev);
    const evMs = parseTime(ts);
    const tsMs = evMs ?? ev.observedAtMs;
    const inputId = eventId(ev.uid, ev.resourceVersion, ev.type);
    const source = ev.sourceComponent || ev.reportingController;
    const stored: StoredEvent = {
      reason: ev.reason,
      type: ev.eventType,
      message: ev.message,
      count: ev.count,
      first: ev.firstTimestamp || ts,
      last: ts,
      source,
      involvedUid: inv.uid,
      involvedKind: inv.kind,
      involvedName: inv.name,
    };
    const req = this.baseApply(inputId, story.root, evMs, ev.observedAtMs);
    req.event = { uid: ev.uid, json: JSON.stringify(stored), scoreMs: tsMs, keep: this.s.eventsPerStory };
    const applied = await this.state.apply(req);
    if (applied.dup) this.metrics?.redeliveries.inc();
    const pod: PodInstance | undefined = inv.kind === "Pod" ? { name: inv.name, uid: inv.uid, node: ev.sourceHost, replacesPodUid: "" } : undefined;
    const entry: PendingEntry = {
      timestamp: isoTime(tsMs),
      summary: `${ev.eventType} ${ev.reason} ${inv.kind}/${inv.name}${ev.count > 1 ? ` (×${ev.count})` : ""}: ${ev.message}`,
      body: {
        entryKind: "event",
        event: { reason: ev.reason, type: ev.eventType, message: ev.message, count: ev.count, firstTimestamp: ev.firstTimestamp, lastTimestamp: ev.lastTimestamp, eventTime: ev.eventTime, source, involved: inv, name: ev.name },
      },
      ...(pod ? { pod } : {}),
    };
    // Falco alerts (from the ingester) and Kyverno policy Events carry a security finding too.
    const sec = securityFromEvent(ev, entry.timestamp, this.security);
    await this.publishEntries(story, applied, inputId, ev.resourceVersion, [...(sec.replacesEvent ? [] : [entry]), ...sec.entries]);
    await this.incidents(story, [...detectEvent(ev, this.s.unhealthyThreshold), ...sec.detections], pod, entrySeq(ev.resourceVersion, 15));
  }

  async handleLogs(tenant: string, lb: LogBatch): Promise<void> {
    const self: ChainLink = { apiVersion: "v1", kind: "Pod", name: lb.pod, uid: lb.podUid };
    const story = await this.story(tenant, lb.cluster, lb.namespace, self, lb.podOwnerRefs);
    const first = lb.lines[0];
    const last = lb.lines[lb.lines.length - 1];
    const lastMs = parseTime(last?.timestamp);
    const tsMs = lastMs ?? lb.observedAtMs;
    const inputId = logBatchId(lb.podUid, lb.container, lb.restartCount, lb.seqStart, lb.source);
    const key = instanceKey(lb.podUid, lb.container, lb.restartCount);
    const unread = lb.endOfStream ? lb.unreadReason : undefined;
    const req = this.baseApply(inputId, story.root, lastMs, lb.observedAtMs);
    req.log = { key, lines: lb.lines.map(storeLine), limit: this.s.logTailLines, ttlMs: this.s.stateTtlMs, endOfStream: lb.endOfStream };
    // A marker has no line to date it: it happened "now" in the cluster's time, not at the streamer's wall clock.
    if (unread && lastMs === undefined) req.floorToClock = true;
    const applied = await this.state.apply(req);
    if (applied.dup) this.metrics?.redeliveries.inc();
    this.wake(key);
    if (lb.lines.length === 0 && !unread) return;
    const pod: PodInstance = { name: lb.pod, uid: lb.podUid, node: lb.node, replacesPodUid: "" };
    const instance = { container: lb.container, containerType: lb.containerType, restartCount: lb.restartCount, source: lb.source, seqStart: lb.seqStart };
    const entries: PendingEntry[] = [];
    if (lb.lines.length > 0) {
      entries.push({
        timestamp: first?.timestamp || isoTime(tsMs),
        summary: `${lb.lines.length} log line${lb.lines.length > 1 ? "s" : ""} from ${lb.pod}/${lb.container}`,
        body: { entryKind: "log", log: { ...instance, lines: lb.lines } },
        pod,
      });
    }
    if (unread) {
      // The instance's lines that were never read are gone for good: the story says so, as a log entry
      // without lines. Named by the instance, so a redelivered or re-sent marker is one message.
      entries.push({
        id: `unread:${lb.podUid}:${lb.container}:${lb.restartCount}`,
        timestamp: last?.timestamp || isoTime(applied.tsMs),
        summary: `log of ${lb.pod}/${lb.container} (restart ${lb.restartCount}) not read: ${UNREAD_TEXT[unread]}`,
        body: { entryKind: "log", log: { ...instance, lines: [], unreadReason: unread } },
        pod,
      });
    }
    await this.publishEntries(story, applied, inputId, lb.seqStart, entries);
  }

  private entry(root: StoryRoot, window: number, seq: number, e: PendingEntry): Encodable<StoryEntry> {
    // Anything not RFC3339 as the API writes it is normalised through Date (losing sub-millisecond digits).
    const timestamp = RFC3339.test(e.timestamp) ? e.timestamp : isoTime(parseTime(e.timestamp) ?? 0);
    const key = orderingKey(timestamp, seq);
    return {
      storyId: root.storyId,
      window,
      seq,
      orderingKey: key,
      tenant: root.tenant,
      cluster: root.cluster,
      namespace: root.namespace,
      workload: { apiVersion: root.rootApiVersion, kind: root.rootKind, name: root.rootName, uid: root.rootUid },
      timestamp,
      ...(e.pod ? { pod: e.pod } : {}),
      summary: e.summary,
      ...e.body,
    };
  }

  private async publishEntries(story: Story, applied: ApplyResult, inputId: string, seqBase: string | number, entries: PendingEntry[]): Promise<void> {
    const root = story.root;
    const chain = story.resolution.chain;
    const subject = buildStorySubject(root.tenant, root.cluster, root.namespace, root.storyId);
    const out: Promise<void>[] = [];
    const first = entries[0]?.timestamp ?? isoTime(0);
    if (applied.rolledFrom >= 0) {
      // The window that just reached its maximum length ends right before this input.
      const close: PendingEntry = {
        timestamp: first,
        summary: `window ${applied.rolledFrom} closed: maximum length reached`,
        body: { entryKind: "close", close: { why: "max-length", window: applied.rolledFrom, next: applied.window } },
      };
      out.push(this.publish(subject, this.entry(root, applied.rolledFrom, entrySeq(seqBase, 0), close), `se:${root.storyId}:${applied.rolledFrom}:close`));
      this.metrics?.storiesClosed.inc({ why: "max-length" });
    }
    if (applied.opened) {
      const rootRef: WorkloadRef = { apiVersion: root.rootApiVersion, kind: root.rootKind, name: root.rootName, uid: root.rootUid };
      const ownerChain = chain.slice(1).map((l): WorkloadRef => ({ apiVersion: l.apiVersion, kind: l.kind, name: l.name, uid: l.uid }));
      const open: PendingEntry = {
        timestamp: first,
        summary: `story of ${root.rootKind} ${root.rootName}: window ${applied.window} opened`,
        body: { entryKind: "open", open: { window: applied.window, ...(applied.prevWindow >= 0 ? { previousWindow: applied.prevWindow } : {}), root: rootRef, ownerChain } },
      };
      out.push(this.publish(subject, this.entry(root, applied.window, entrySeq(seqBase, 0), open), `se:${root.storyId}:${applied.window}:open`));
      if (!applied.dup) this.metrics?.storiesOpened.inc();
    }
    entries.forEach((e, i) => {
      const msgId = e.id ? `se:${root.storyId}:${applied.window}:${e.id}` : entryMsgId(root.storyId, applied.window, inputId, i);
      out.push(this.publish(subject, this.entry(root, applied.window, entrySeq(seqBase, i + 1), e), msgId));
    });
    await Promise.all(out);
  }

  private async publish(subject: string, entry: Encodable<StoryEntry>, msgId: string): Promise<void> {
    await this.sink.publishEntry(subject, entry, msgId);
    this.metrics?.entries.inc({ kind: entry.entryKind });
  }

  private scopeOf(story: Story, pod: PodInstance | undefined, seq: number): IncidentScope {
    return {
      seq,
      tenant: story.root.tenant,
      cluster: story.root.cluster,
      namespace: story.root.namespace,
      storyId: story.root.storyId,
      chain: story.resolution.chain,
      ...(pod ? { pod } : {}),
    };
  }

  /** Debounces each detection; a new episode is harvested and published (also when replayed after a crash). */
  private async incidents(story: Story, detections: Detection[], pod: PodInstance | undefined, seq: number): Promise<void> {
    if (detections.length === 0) return;
    const scope = this.scopeOf(story, pod, seq);
    await Promise.all(detections.map((d) => this.incident(scope, story.root, d)));
  }

  private async incident(scope: IncidentScope, root: StoryRoot, d: Detection): Promise<void> {
    const tsMs = parseTime(d.k8sTimestamp) ?? 0;
    const outcome = await this.state.debounce({
      storyId: root.storyId,
      cluster: root.cluster,
      // A security finding debounces under its own key; every other detection per (container, reason).
      container: debounceKeyOf(d),
      reason: d.reason,
      occurrenceId: d.occurrenceId,
      incidentId: incidentIdFor(root.storyId, debounceKeyOf(d), d.reason, tsMs),
      tsMs,
      wallMs: this.now(),
      windowMs: this.s.debounceWindowMs,
      ttlMs: Math.max(this.s.markerTtlMs, this.s.debounceWindowMs * 4),
      detection: JSON.stringify(d),
      context: JSON.stringify({ scope, root }),
    });
    if (outcome.kind === "repeat") {
      if (!outcome.dup) this.metrics?.debouncedRepeats.inc({ reason: d.reason });
      // A repeat about another pod instance (a replacement pod's first crash) is news now: an update that
      // names that pod, published at once rather than when the window ends.
      if (!outcome.dup && d.podUid) await this.repeatOfAnotherPod(scope, root, d, outcome.incidentId, outcome.count);
      return;
    }
    // The same occurrence seen again (a redelivery, a periodic check) republishes nothing already published.
    if (outcome.dup && ((await this.state.incident(outcome.incidentId))?.publishedCount ?? 0) >= 1) return;
    const started = performance.now();
    if (d.terminated && d.instance !== undefined && d.podUid && d.container) {
      await this.settle(scope.cluster, instanceKey(d.podUid, d.container, d.instance), tsMs);
    }
    const ctx = await this.harvester.harvest({ incidentId: outcome.incidentId, detection: d, scope, detectedAtMs: await this.detectedAt(root.cluster, tsMs), receivedAtMs: this.now(), firstSeenMs: tsMs, lastSeenMs: tsMs, repeatCount: 1, isUpdate: false });
    this.metrics?.harvestSeconds.observe((performance.now() - started) / 1000);
    await this.publishIncident(root, ctx, d, 1, scope.seq);
    await this.state.markPublished(outcome.incidentId, 1);
    if (!outcome.dup) this.metrics?.incidents.inc({ reason: d.reason });
  }

  private async podsOnNode(node: string): Promise<AffectedPod[]> {
    if (!this.listPodsOnNode) return [];
    try {
      return await this.listPodsOnNode(node);
    } catch (err) {
      // The incident still goes out, without the list: the node's condition is the news.
      this.logger?.warn({ err, node }, "listing the pods of a node failed; the node incident names none");
      return [];
    }
  }

  /** The cluster's time of a detection: its clock now (source time), never before what it reacts to. */
  private async detectedAt(cluster: string, tsMs: number): Promise<number> {
    return Math.max(await this.state.clock(cluster, this.now()), tsMs);
  }

  private async repeatOfAnotherPod(scope: IncidentScope, root: StoryRoot, d: Detection, incidentId: string, count: number): Promise<void> {
    const rec = await this.state.incident(incidentId);
    if (!rec || count <= rec.publishedCount) return;
    const prior = JSON.parse(rec.context) as { scope: IncidentScope };
    if (!prior.scope.pod || prior.scope.pod.uid === d.podUid || !scope.pod || scope.pod.uid !== d.podUid) return;
    const tsMs = parseTime(d.k8sTimestamp) ?? 0;
    if (d.terminated && d.instance !== undefined && d.container) await this.settle(scope.cluster, instanceKey(d.podUid!, d.container, d.instance), tsMs);
    const ctx = await this.harvester.harvest({ incidentId, detection: d, scope, detectedAtMs: await this.detectedAt(root.cluster, tsMs), receivedAtMs: this.now(), firstSeenMs: rec.firstMs, lastSeenMs: Math.max(rec.lastMs, tsMs), repeatCount: count, isUpdate: true });
    await this.publishIncident(root, ctx, d, count, scope.seq);
    // Later updates of the episode are about this pod now.
    await this.state.markPublished(incidentId, count, JSON.stringify({ scope, root }));
    this.metrics?.incidentUpdates.inc({ reason: d.reason });
  }

  private async publishIncident(root: StoryRoot, ctx: IncidentContext, d: Detection, count: number, seq: number): Promise<void> {
    const subject = buildIncidentSubject(root.tenant, root.cluster, root.namespace, d.reason);
    await this.sink.publishIncident(subject, ctx, incidentMessageId(ctx.incidentId, count));
    // The story tells the incident too; its window is the one open now.
    const info = await this.state.storyInfo(root.storyId);
    const window = Number(info["window"] ?? 0) || 0;
    const entry: PendingEntry = {
      timestamp: d.k8sTimestamp,
      summary: `${ctx.isUpdate ? "incident update" : "incident"} ${d.reason} (${ctx.severity})${count > 1 ? ` ×${count}` : ""}: ${d.message}`,
      body: {
        entryKind: "incident",
        incident: {
          incidentId: ctx.incidentId,
          reason: d.reason,
          severity: ctx.severity,
          container: d.container,
          repeatCount: count,
          isUpdate: ctx.isUpdate,
          ...(d.exitCode !== undefined ? { exitCode: d.exitCode } : {}),
          firstSeen: ctx.firstSeen,
          lastSeen: ctx.lastSeen,
        },
      },
      ...(ctx.pod ? { pod: ctx.pod } : {}),
    };
    await this.publish(buildStorySubject(root.tenant, root.cluster, root.namespace, root.storyId), this.entry(root, window, seq, entry), `se:${root.storyId}:${window}:inc:${ctx.incidentId}:${count}`);
  }

  /**
   * Waits (bounded by settleMs of wall time) for the crashed instance's last log lines: until a batch for
   * it arrives here, or its buffer already holds a line from around the crash.
   */
  private async settle(cluster: string, key: string, finishedMs: number): Promise<void> {
    const started = performance.now();
    const deadline = started + this.s.settleMs;
    let woken = false;
    let poke: () => void = () => undefined;
    const wake = () => {
      woken = true;
      poke();
    };
    let set = this.logWaiters.get(key);
    if (!set) this.logWaiters.set(key, (set = new Set()));
    set.add(wake);
    let initial: string | undefined | null = null;
    try {
      while (!woken && performance.now() < deadline) {
        // The instance's last batch is stored (endOfStream), or a batch handled by another replica shows
        // as a new newest line in the shared buffer.
        const [[newest], complete] = await Promise.all([this.state.logLines(cluster, key, 1), this.state.logComplete(cluster, key)]);
        if (complete) break;
        if (initial === null) initial = newest;
        else if (newest !== initial) break;
        if (newest) {
          // finishedAt has whole seconds: a line from that second on means the end is already here.
          const t = parseTime((JSON.parse(newest) as { t: string }).t);
          if (t !== undefined && t >= finishedMs) break;
        }
        const wait = Math.min(25, Math.max(1, deadline - performance.now()));
        await new Promise<void>((r) => {
          const t = setTimeout(r, wait);
          poke = () => {
            clearTimeout(t);
            r();
          };
        });
      }
    } finally {
      set.delete(wake);
      if (set.size === 0) this.logWaiters.delete(key);
    }
    const outcome = performance.now() >= deadline ? "timeout" : "arrived";
    this.metrics?.settleSeconds.observe({ outcome }, (performance.now() - started) / 1000);
  }

  private wake(key: string): void {
    const set = this.logWaiters.get(key);
    if (!set) return;
    for (const fn of [...set]) fn();
  }

  /**
   * Periodic work, safe on every replica at once: promotes due debounce windows and story closes into the
   * outbox, publishes leased outbox items, and looks for pods stuck Pending or Terminating.
   */
  async tick(): Promise<void> {
    const wall = this.now();
    await this.state.promote(wall, this.s.idleCloseMs);
    for (const { raw, item } of await this.state.lease(wall, this.s.outboxLeaseMs)) {
      await this.publishOutboxItem(item);
      await this.state.done(raw);
    }
    await this.scanStuck(wall);
  }

  private async publishOutboxItem(item: OutboxItem): Promise<void> {
    if (item.type === "close") {
      const root: StoryRoot = { storyId: item.storyId, tenant: item.tenant, cluster: item.cluster, namespace: item.namespace, rootKind: item.rootKind, rootName: item.rootName, rootApiVersion: item.rootApiVersion, rootUid: item.rootUid };
      const e: PendingEntry = {
        timestamp: isoTime(item.lastMs),
        summary: `window ${item.window} closed: ${item.why === "idle" ? "idle" : "root workload deleted"}`,
        body: { entryKind: "close", close: { why: item.why, window: item.window } },
      };
      await this.publish(buildStorySubject(root.tenant, root.cluster, root.namespace, root.storyId), this.entry(root, item.window, MAX_SEQ, e), `se:${root.storyId}:${item.window}:close`);
      this.metrics?.storiesClosed.inc({ why: item.why });
      return;
    }
    const rec = await this.state.incident(item.incidentId);
    if (!rec) {
      this.logger?.warn({ incidentId: item.incidentId }, "incident state expired before its update was published");
      return;
    }
    // Already published at this count (a replacement pod's update, or another replica): nothing new.
    if (item.count <= rec.publishedCount) return;
    const { scope, root } = JSON.parse(rec.context) as { scope: IncidentScope; root: StoryRoot };
    const last = JSON.parse(rec.last) as Detection;
    // The update is about the pod of its latest occurrence, whose restart count and log tail it carries.
    if (last.podUid && scope.pod && scope.pod.uid !== last.podUid) scope.pod = { name: last.podName ?? "", uid: last.podUid, node: "", replacesPodUid: "" };
    const ctx = await this.harvester.harvest({ incidentId: item.incidentId, detection: last, scope, detectedAtMs: await this.detectedAt(root.cluster, rec.lastMs), receivedAtMs: this.now(), firstSeenMs: rec.firstMs, lastSeenMs: rec.lastMs, repeatCount: item.count, isUpdate: true });
    await this.publishIncident(root, ctx, last, item.count, MAX_SEQ);
    await this.state.markPublished(item.incidentId, item.count);
    this.metrics?.incidentUpdates.inc({ reason: last.reason });
  }

  private async scanStuck(wall: number): Promise<void> {
    for (const cluster of await this.state.clusters()) {
      const now = await this.state.clock(cluster, wall);
      const pending = await this.state.stuckCandidates(cluster, "pending", now - this.s.pendingThresholdMs, 100);
      const terminating = await this.state.stuckCandidates(cluster, "terminating", now - this.s.terminatingThresholdMs, 100);
      for (const member of [...pending, ...terminating]) {
        const [storyId, uid] = member.split("|") as [string, string];
        const stored = await this.state.getObject(cluster, uid);
        if (!stored || stored.deleted) continue;
        const obj = JSON.parse(stored.json) as ObjectJson;
        // A pod already reported stuck (this reason) is not reported again, however long it stays stuck.
        const found = detectStuck(obj, now, this.s.pendingThresholdMs, this.s.terminatingThresholdMs);
        const detections: Detection[] = [];
        for (const d of found) if (!(await this.state.stuckReported(cluster, uid, d.reason))) detections.push(d);
        if (detections.length === 0) continue;
        const info = await this.state.storyInfo(storyId);
        const root: StoryRoot = { storyId, tenant: info["tenant"] ?? "", cluster, namespace: info["namespace"] ?? "", rootKind: info["rootKind"] ?? "", rootName: info["rootName"] ?? "", rootApiVersion: info["rootApiVersion"] ?? "", rootUid: info["rootUid"] ?? "" };
        const resolution = await this.ownership.resolve(cluster, root.namespace, { apiVersion: "v1", kind: "Pod", name: stored.name, uid }, obj.metadata?.ownerReferences);
        const pod: PodInstance = { name: stored.name, uid, node: String(obj.spec?.["nodeName"] ?? ""), replacesPodUid: "" };
        await this.incidents({ root, resolution }, detections, pod, MAX_SEQ);
        for (const d of detections) await this.state.markStuckReported(cluster, uid, d.reason, this.s.stateTtlMs);
      }
    }
  }
}
