// Builders of clean-stream inputs (ResourceChange, KubeEvent, LogBatch) and a recording sink for the correlator's tests.
import type { Encodable, IncidentContext, KubeEvent, LogBatch, ResourceChange, StoryEntry } from "@faro/contracts";
import type { Sink } from "../src/processor.js";

export const CLUSTER = "sim";
export const TENANT = "acme";
export const NS = "shop";

let rv = 1000;
export const nextRv = (): string => String(++rv);

export function change(obj: Record<string, any>, type: "ADDED" | "MODIFIED" | "DELETED" = "MODIFIED"): ResourceChange {
  const [group, version] = String(obj.apiVersion).includes("/") ? String(obj.apiVersion).split("/") : ["", String(obj.apiVersion)];
  const resource = `${String(obj.kind).toLowerCase()}s`;
  obj.metadata.resourceVersion ??= nextRv();
  return {
    schemaVersion: 1,
    cluster: CLUSTER,
    type,
    group: group!,
    version: version!,
    resource,
    kind: obj.kind,
    namespace: obj.metadata.namespace ?? NS,
    name: obj.metadata.name,
    uid: obj.metadata.uid,
    resourceVersion: obj.metadata.resourceVersion,
    observedAtMs: Date.now(),
    ownerRefs: (obj.metadata.ownerReferences ?? []).map((r: any) => ({ ...r, controller: Boolean(r.controller) })),
    labels: obj.metadata.labels ?? {},
    objectJson: JSON.stringify(obj),
  };
}

export function workload(kind: string, name: string, uid: string, owner?: { kind: string; name: string; uid: string }, apiVersion = "apps/v1"): Record<string, any> {
  return {
    apiVersion,
    kind,
    metadata: {
      name,
      namespace: NS,
      uid,
      creationTimestamp: "2026-01-01T00:00:00Z",
      ownerReferences: owner ? [{ apiVersion: "apps/v1", kind: owner.kind, name: owner.name, uid: owner.uid, controller: true }] : [],
    },
    spec: { replicas: 1, template: { spec: { containers: [{ name: "app", image: "shop/web:1" }] } } },
    status: {},
  };
}

export function event(reason: string, involved: { kind: string; name: string; uid: string }, at: string, opts: { uid?: string; count?: number; type?: string; message?: string } = {}): KubeEvent {
  const uid = opts.uid ?? `ev-${reason}-${involved.uid}`;
  return {
    schemaVersion: 1,
    cluster: CLUSTER,
    type: "ADDED",
    uid,
    resourceVersion: nextRv(),
    namespace: NS,
    name: `${involved.name}.${uid}`,
    reason,
    message: opts.message ?? `${reason} happened`,
    eventType: opts.type ?? "Warning",
    sourceComponent: "kubelet",
    sourceHost: "node-1",
    reportingController: "",
    involved: { apiVersion: "v1", kind: involved.kind, namespace: NS, name: involved.name, uid: involved.uid, fieldPath: "spec.containers{app}" },
    count: opts.count ?? 1,
    firstTimestamp: at,
    lastTimestamp: at,
    eventTime: "",
    observedAtMs: Date.now(),
    objectJson: "{}",
  };
}

export function logs(podName: string, podUid: string, restartCount: number, seqStart: number, lines: [string, string][], owner?: { kind: string; name: string; uid: string }, endOfStream = false): LogBatch {
  return {
    schemaVersion: 1,
    cluster: CLUSTER,
    namespace: NS,
    pod: podName,
    podUid,
    container: "app",
    containerType: "regular",
    restartCount,
    source: "follow",
    seqStart,
    lines: lines.map(([timestamp, line]) => ({ timestamp, line, truncated: false, originalBytes: line.length })),
    podOwnerRefs: owner ? [{ apiVersion: "apps/v1", kind: owner.kind, name: owner.name, uid: owner.uid, controller: true }] : [],
    node: "node-1",
    observedAtMs: Date.now(),
    endOfStream,
    podLabels: { app: "web" },
  };
}

/** Records what the processor publishes, deduplicated by msgId like JetStream would. */
export class RecordingSink implements Sink {
  readonly entries = new Map<string, { subject: string; entry: Encodable<StoryEntry> }>();
  readonly incidents = new Map<string, { subject: string; incident: Encodable<IncidentContext> }>();
  async publishEntry(subject: string, entry: Encodable<StoryEntry>, msgId: string): Promise<void> {
    if (!this.entries.has(msgId)) this.entries.set(msgId, { subject, entry });
  }
  async publishIncident(subject: string, incident: Encodable<IncidentContext>, msgId: string): Promise<void> {
    if (!this.incidents.has(msgId)) this.incidents.set(msgId, { subject, incident });
  }
}

export async function until(cond: () => boolean | Promise<boolean>, timeoutMs = 10_000, what = "condition"): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
