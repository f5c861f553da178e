// Ground truth of the simulated cluster: every object change, every Event change and every log line
// as it really happened, so tests can compare what Faro reports with reality.
import type { LogRecord, SimClock, Store, StoreEvent } from "./types.js";

export interface ObjectChange {
  type: "ADDED" | "MODIFIED" | "DELETED";
  apiVersion: string;
  kind: string;
  namespace?: string;
  name: string;
  uid: string;
  resourceVersion: string;
  /** simulated time of the change, ms since epoch */
  at: number;
}

export interface EventChange extends ObjectChange {
  reason: string;
  message: string;
  eventType: string;
  count: number;
  involvedObject: { kind?: string; namespace?: string; name?: string; uid?: string; fieldPath?: string };
  source: { component?: string; host?: string };
}

export interface TruthOptions {
  store: Store;
  clock: SimClock;
  /** Record log lines (default true; the benchmark turns it off). */
  lines?: boolean;
  /** Record object changes (default true). */
  changes?: boolean;
}

export interface LineFilter {
  namespace?: string;
  pod?: string;
  podUid?: string;
  container?: string;
  restartCount?: number;
}

export interface ChangeFilter {
  kind?: string;
  namespace?: string;
  name?: string;
  uid?: string;
  type?: ObjectChange["type"];
}

export interface GroundTruth {
  changes(f?: ChangeFilter): ObjectChange[];
  events(f?: ChangeFilter & { reason?: string; involvedName?: string; involvedUid?: string }): EventChange[];
  lines(f?: LineFilter): LogRecord[];
  /** Container instances that wrote lines: one entry per podUid/container/restartCount. */
  instances(): { namespace: string; pod: string; podUid: string; container: string; restartCount: number; lines: number }[];
  /** Feeds log lines (the log store calls this). */
  recordLines(records: LogRecord[]): void;
  toJSON(): { changes: ObjectChange[]; events: EventChange[]; lines: LogRecord[] };
  stop(): void;
}

export function createGroundTruth(opts: TruthOptions): GroundTruth {
  const changes: ObjectChange[] = [];
  const events: EventChange[] = [];
  const lines: LogRecord[] = [];
  const recordLinesOn = opts.lines ?? true;
  const recordChanges = opts.changes ?? true;

  const unsubscribe = opts.store.subscribe((ev: StoreEvent) => {
    if (!recordChanges) return;
    const o = ev.object;
    const base: ObjectChange = {
      type: ev.type,
      apiVersion: o.apiVersion,
      kind: o.kind,
      namespace: o.metadata.namespace,
      name: o.metadata.name,
      uid: o.metadata.uid,
      resourceVersion: o.metadata.resourceVersion,
      at: opts.clock.now(),
    };
    changes.push(base);
    if (o.kind === "Event" && o.apiVersion === "v1") {
      events.push({
        ...base,
        reason: String(o.reason ?? ""),
        message: String(o.message ?? ""),
        eventType: String(o.type ?? "Normal"),
        count: Number(o.count ?? 1),
        involvedObject: { ...((o.involvedObject as object) ?? {}) },
        source: { ...((o.source as object) ?? {}) },
      });
    }
  });

  const match = (c: ObjectChange, f: ChangeFilter) =>
    (f.kind === undefined || c.kind === f.kind) &&
    (f.namespace === undefined || c.namespace === f.namespace) &&
    (f.name === undefined || c.name === f.name) &&
    (f.uid === undefined || c.uid === f.uid) &&
    (f.type === undefined || c.type === f.type);

  return {
    changes: (f = {}) => changes.filter((c) => match(c, f)),
    events: (f = {}) =>
      events.filter(
        (e) =>
          match(e, f) &&
          (f.reason === undefined || e.reason === f.reason) &&
          (f.involvedName === undefined || e.involvedObject.name === f.involvedName) &&
          (f.involvedUid === undefined || e.involvedObject.uid === f.involvedUid),
      ),
    lines: (f = {}) =>
      lines.filter(
        (l) =>
          (f.namespace === undefined || l.namespace === f.namespace) &&
          (f.pod === undefined || l.pod === f.pod) &&
          (f.podUid === undefined || l.podUid === f.podUid) &&
          (f.container === undefined || l.container === f.container) &&
          (f.restartCount === undefined || l.restartCount === f.restartCount),
      ),
    instances() {
      const m = new Map<string, { namespace: string; pod: string; podUid: string; container: string; restartCount: number; lines: number }>();
      for (const l of lines) {
        const k = `${l.podUid}/${l.container}/${l.restartCount}`;
        const e = m.get(k);
        if (e) e.lines++;
        else m.set(k, { namespace: l.namespace, pod: l.pod, podUid: l.podUid, container: l.container, restartCount: l.restartCount, lines: 1 });
      }
      return [...m.values()];
    },
    recordLines(records) {
      if (recordLinesOn) for (const r of records) lines.push(r);
    },
    toJSON: () => ({ changes: [...changes], events: [...events], lines: [...lines] }),
    stop: () => unsubscribe(),
  };
}
