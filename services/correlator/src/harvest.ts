// Builds an incident context: log tail, previous log, related Events, redacted manifests and recent changes, in parallel.
import type { Change, EventSummary, IncidentContext, LogLine, Manifest, PodInstance, PreviousLogSource, WorkloadRef } from "@faro/contracts";
import type { Redactor } from "@faro/redact";
import type { Logger } from "pino";
import type { Detection } from "./detect.js";
import { isoTime, parseTime } from "./k8s.js";
import type { ChainLink } from "./ownership.js";
import type { CorrelatorSettings } from "./settings.js";
import type { CorrelatorState } from "./state.js";

/** Fetches a terminated container's log from the API (`previous=true`); lines are redacted by the harvester. */
export type PreviousLogFetcher = (namespace: string, pod: string, container: string) => Promise<{ timestamp: string; text: string }[]>;

/** What an incident needs beyond the detection; stored with the debounce episode so updates can be rebuilt. */
export interface IncidentScope {
  /** Ordering tiebreak of the incident's story entry: right after the entries of the input that revealed it. */
  seq: number;
  tenant: string;
  cluster: string;
  namespace: string;
  storyId: string;
  chain: ChainLink[];
  pod?: PodInstance;
}

/** A log line as kept in the per-instance buffers (short keys: the buffers are the bulk of Redis memory). */
export interface StoredLine {
  t: string;
  l: string;
  tr?: 1;
  b?: number;
}

export function storeLine(l: LogLine): string {
  const s: StoredLine = { t: l.timestamp, l: l.line };
  if (l.truncated) {
    s.tr = 1;
    s.b = l.originalBytes;
  }
  return JSON.stringify(s);
}

function loadLine(raw: string): LogLine {
  const s = JSON.parse(raw) as StoredLine;
  return { timestamp: s.t, line: s.l, truncated: s.tr === 1, originalBytes: s.b ?? Buffer.byteLength(s.l) };
}

/**
 * Buffer key of one container instance's lines. Followed and `previous` batches share it: the
 * log-streamer reads `previous` from its checkpoint, so the two never overlap.
 */
export function instanceKey(podUid: string, container: string, restartCount: number): string {
  return `${podUid}:${container}:${restartCount}`;
}

// RFC3339 with the same fraction length compares as text; anything else through Date.
function byTime(a: LogLine, b: LogLine): number {
  if (a.timestamp.length === b.timestamp.length && a.timestamp.endsWith("Z") && b.timestamp.endsWith("Z")) return a.timestamp < b.timestamp ? -1 : a.timestamp > b.timestamp ? 1 : 0;
  return (parseTime(a.timestamp) ?? 0) - (parseTime(b.timestamp) ?? 0);
}

/** An Event as kept per story for incident contexts. */
export interface StoredEvent extends EventSummary {
  involvedUid: string;
  involvedKind: string;
  involvedName: string;
}

export interface HarvestDeps {
  state: CorrelatorState;
  settings: CorrelatorSettings;
  redactor?: Redactor;
  fetchPreviousLogs?: PreviousLogFetcher;
  logger?: Logger;
}

export interface HarvestInput {
  incidentId: string;
  detection: Detection;
  scope: IncidentScope;
  /** The cluster's time of the detection (its source clock). */
  detectedAtMs: number;
  /** Wall-clock time the correlator built this version. */
  receivedAtMs: number;
  firstSeenMs: number;
  lastSeenMs: number;
  repeatCount: number;
  isUpdate: boolean;
}

function toRef(l: ChainLink): WorkloadRef {
  return { apiVersion: l.apiVersion, kind: l.kind, name: l.name, uid: l.uid };
}

export class Harvester {
  constructor(private readonly deps: HarvestDeps) {}

  async harvest(input: HarvestInput): Promise<IncidentContext> {
    const { detection: d, scope } = input;
    const podUid = d.podUid ?? scope.pod?.uid ?? "";
    const [logs, events, manifests, changes] = await Promise.all([
      this.logs(scope, d, podUid),
      this.events(scope, podUid),
      this.manifests(scope),
      this.changes(scope),
    ]);
    return {
      schemaVersion: 1,
      incidentId: input.incidentId,
      storyId: scope.storyId,
      tenant: scope.tenant,
      cluster: scope.cluster,
      namespace: scope.namespace,
      reason: d.reason,
      severity: d.severity,
      detectedAt: isoTime(input.detectedAtMs),
      k8sTimestamp: d.k8sTimestamp,
      firstSeen: isoTime(input.firstSeenMs),
      lastSeen: isoTime(input.lastSeenMs),
      repeatCount: input.repeatCount,
      isUpdate: input.isUpdate,
      ownerChain: scope.chain.map(toRef),
      ...(scope.pod ? { pod: scope.pod } : {}),
      container: d.container,
      ...(d.exitCode !== undefined ? { exitCode: d.exitCode } : {}),
      restartCount: d.restartCount,
      message: d.message,
      logTail: logs.tail,
      previousLog: logs.previous,
      previousLogSource: logs.source,
      events,
      manifests,
      recentChanges: changes,
      containerType: d.containerType ?? "",
      observedAfterTheFact: Boolean(d.afterTheFact),
      evidence: d.evidence ?? [],
      affectedPods: (d.affectedPods ?? []).map((p) => ({ name: `${p.namespace}/${p.name}`, uid: p.uid, node: p.node, replacesPodUid: "" })),
      receivedAt: isoTime(input.receivedAtMs),
      debounceWindowMs: this.deps.settings.debounceWindowMs,
    };
  }

  private async logs(scope: IncidentScope, d: Detection, podUid: string): Promise<{ tail: LogLine[]; previous: LogLine[]; source: PreviousLogSource }> {
    const { state, settings } = this.deps;
    if (!podUid || !d.container || d.instance === undefined) return { tail: [], previous: [], source: "none" };
    // Newest first in Redis; batches handled concurrently may have interleaved, so sort (stable) by time.
    const read = async (instance: number): Promise<LogLine[]> =>
      (await state.logLines(scope.cluster, instanceKey(podUid, d.container, instance), settings.logTailLines)).reverse().map(loadLine).sort(byTime);
    const tail = await read(d.instance);
    if (d.terminated) {
      // The failed instance is "the previous container" of the API: its log is the tail when buffered.
      if (tail.length) return { tail, previous: [], source: "buffer" };
      const api = await this.fetchPrevious(scope, d);
      if (api.length) return { tail: api, previous: api, source: "api" };
      return { tail, previous: [], source: "none" };
    }
    // Not a crash: the previous instance (if any) is the one before the current.
    if (d.instance > 0) {
      const prev = await read(d.instance - 1);
      if (prev.length) return { tail, previous: prev, source: "buffer" };
    }
    return { tail, previous: [], source: "none" };
  }

  private async fetchPrevious(scope: IncidentScope, d: Detection): Promise<LogLine[]> {
    const fetch = this.deps.fetchPreviousLogs;
    const podName = d.podName ?? scope.pod?.name;
    if (!fetch || !podName) return [];
    try {
      const lines = (await fetch(scope.namespace, podName, d.container)).slice(-this.deps.settings.logTailLines);
      const texts = lines.map((l) => l.text);
      // Fail-safe: lines that cannot be redacted are not included at all.
      const redacted = this.deps.redactor ? this.deps.redactor.redactLogLines(texts).lines : texts;
      return lines.map((l, i) => ({ timestamp: l.timestamp, line: redacted[i] ?? "", truncated: false, originalBytes: Buffer.byteLength(l.text) }));
    } catch (err) {
      this.deps.logger?.warn({ err, pod: podName, container: d.container }, "fetching the previous container log failed");
      return [];
    }
  }

  private async events(scope: IncidentScope, podUid: string): Promise<EventSummary[]> {
    const raw = await this.deps.state.recentEvents(scope.storyId, this.deps.settings.eventsPerStory);
    const related = new Set(scope.chain.map((l) => l.uid).filter(Boolean));
    if (podUid) related.add(podUid);
    const out: EventSummary[] = [];
    for (const r of raw) {
      const e = JSON.parse(r) as StoredEvent;
      // The failing pod's Events and its owners'; without a pod (a workload failure) the whole story's.
      const isRelated = !podUid || e.involvedUid === podUid || related.has(e.involvedUid) || scope.chain.some((l) => l.kind === e.involvedKind && l.name === e.involvedName);
      if (!isRelated) continue;
      out.push({ reason: e.reason, type: e.type, message: e.message, count: e.count, first: e.first, last: e.last, source: e.source });
      if (out.length >= this.deps.settings.contextEvents) break;
    }
    return out.sort((a, b) => (parseTime(a.last) ?? 0) - (parseTime(b.last) ?? 0));
  }

  private async manifests(scope: IncidentScope): Promise<Manifest[]> {
    const links = scope.chain.filter((l) => l.uid);
    const objs = await Promise.all(links.map((l) => this.deps.state.getObject(scope.cluster, l.uid)));
    const out: Manifest[] = [];
    objs.forEach((o, i) => {
      if (!o) return;
      const link = links[i]!;
      try {
        const obj = JSON.parse(o.json) as unknown;
        const redacted = this.deps.redactor ? this.deps.redactor.redactObject(obj).object : obj;
        out.push({ kind: link.kind, name: link.name, json: JSON.stringify(redacted) });
      } catch (err) {
        // Fail-safe: a manifest that cannot be redacted is left out, never sent as is.
        this.deps.logger?.warn({ err, kind: link.kind, name: link.name }, "manifest left out of the incident: redaction failed");
      }
    });
    return out;
  }

  private async changes(scope: IncidentScope): Promise<Change[]> {
    const raw = await this.deps.state.recentChanges(scope.storyId, this.deps.settings.contextChanges);
    return raw.map((r) => JSON.parse(r) as Change).reverse();
  }
}
