// Turns watch events into bus messages: ResourceChange or KubeEvent, their raw subject and deterministic
// message id; and an object that cannot be turned into one into its dead letter (stage `encode`).
import {
  buildRawSubject,
  encodeKubeEvent,
  encodeResourceChange,
  eventId,
  resourceChangeId,
  busMsgId,
  type ObjectRef,
  type OwnerRef,
  type WatchType,
} from "@faro/contracts";
import type { DeadLetterRequest } from "@faro/kernel";
import { normalizeObject, resourceName, resourcePath, stripSecretValues, type KubeObject, type ResourceRef } from "@faro/kube";
import { EncodeError } from "./errors.js";

export interface Outgoing {
  subject: string;
  msgId: string;
  data: Uint8Array;
}

/** Identity of an Event's involved object, remembered for DELETEDs that only carry a stub (after a relist). */
export interface InvolvedIdentity {
  kind: string;
  name: string;
}

/**
 * The message id names the object state (uid, resourceVersion) plus whether it is a deletion. ADDED and
 * MODIFIED of the same state share one id: a relist after a restart reports as ADDED what a live watch
 * published as MODIFIED, and JetStream must drop that repeat instead of storing the state twice.
 */
function stateType(type: WatchType): WatchType {
  return type === "DELETED" ? "DELETED" : "MODIFIED";
}

export function changeMsgId(uid: string, resourceVersion: string, type: WatchType): string {
  return resourceChangeId(uid, resourceVersion, stateType(type));
}

export function eventMsgId(uid: string, resourceVersion: string, type: WatchType): string {
  return eventId(uid, resourceVersion, stateType(type));
}

const str = (v: unknown): string => (typeof v === "string" ? v : v === undefined || v === null ? "" : String(v));

function ownerRefsOf(meta: Record<string, unknown>): OwnerRef[] {
  const refs = meta.ownerReferences;
  if (!Array.isArray(refs)) return [];
  return refs.map((r: Record<string, unknown>) => ({
    apiVersion: str(r.apiVersion),
    kind: str(r.kind),
    name: str(r.name),
    uid: str(r.uid),
    controller: r.controller === true,
  }));
}

function labelsOf(meta: Record<string, unknown>): Record<string, string> {
  const l = meta.labels;
  if (!l || typeof l !== "object") return {};
  return Object.fromEntries(Object.entries(l as Record<string, unknown>).map(([k, v]) => [k, str(v)]));
}

/**
 * Secret-safe and normalised. Objects from ResilientWatch are normalised already (a second deep copy per
 * change would cost throughput), so only objects that still show managedFields are normalised here; the
 * Secret check is cheap and always done, because a Secret value must never reach the bus whatever the
 * caller forgot.
 */
function safe(obj: KubeObject): KubeObject {
  const normalised = obj?.metadata && "managedFields" in obj.metadata ? normalizeObject(obj) : obj;
  return stripSecretValues(normalised);
}

function identity(resource: string, obj: KubeObject): { uid: string; rv: string; name: string; namespace: string } {
  const m = obj?.metadata;
  if (!m?.uid) throw new EncodeError(resource, "metadata.uid is missing");
  if (!m.resourceVersion) throw new EncodeError(resource, `metadata.resourceVersion is missing (uid ${m.uid})`);
  return { uid: m.uid, rv: m.resourceVersion, name: str(m.name), namespace: str(m.namespace) };
}

/**
 * A ResourceChange on faro.v1.raw.<cluster>.<ns|_cluster>.obj.<resource.group>.<name>. Expects objects
 * as ResilientWatch delivers them (normalised: Dates as strings, no managedFields).
 */
export function encodeChange(cluster: string, r: ResourceRef, type: WatchType, object: KubeObject, observedAtMs: number): Outgoing {
  const obj = safe(object);
  const id = identity(r.group ? `${r.resource}.${r.group}` : r.resource, obj);
  const namespace = r.namespaced ? id.namespace : "";
  const meta = obj.metadata as Record<string, unknown>;
  const data = encodeResourceChange({
    cluster,
    type,
    group: r.group,
    version: r.version,
    resource: r.resource,
    kind: str(obj.kind) || r.kind,
    namespace,
    name: id.name,
    uid: id.uid,
    resourceVersion: id.rv,
    observedAtMs,
    ownerRefs: ownerRefsOf(meta),
    labels: labelsOf(meta),
    objectJson: JSON.stringify(obj),
  });
  return {
    subject: buildRawSubject(cluster, namespace, { category: "obj", resource: r.resource, group: r.group, name: id.name }),
    msgId: busMsgId(changeMsgId(id.uid, id.rv, type), cluster),
    data,
  };
}

/** The involved object of a core/v1 Event, or the remembered identity when the object is a stub. */
export function involvedOf(object: KubeObject): InvolvedIdentity | undefined {
  const io = (object as Record<string, unknown>).involvedObject as Record<string, unknown> | undefined;
  if (!io || typeof io !== "object") return undefined;
  return { kind: str(io.kind), name: str(io.name) };
}

/** The uid of an Event's involved object ("" when the Event is a stub or names none). */
export function involvedUid(object: KubeObject): string {
  const io = (object as Record<string, unknown>).involvedObject as Record<string, unknown> | undefined;
  return io && typeof io === "object" ? str(io.uid) : "";
}

/**
 * A KubeEvent on faro.v1.raw.<cluster>.<event namespace>.event.<involvedKind>.<involvedName>. The
 * namespace token is the Event's own namespace (where it lives and is selected); for cluster-scoped
 * involved objects (Nodes) that is usually "default". `involvedLabels`: the involved object's labels
 * when the watcher knows them.
 */
export function encodeEvent(
  cluster: string,
  type: WatchType,
  object: KubeObject,
  observedAtMs: number,
  remembered?: InvolvedIdentity,
  involvedLabels?: Record<string, string>,
): Outgoing {
  const obj = safe(object);
  const id = identity("events", obj);
  const o = obj as Record<string, unknown>;
  const io = (o.involvedObject as Record<string, unknown> | undefined) ?? {};
  const source = (o.source as Record<string, unknown> | undefined) ?? {};
  const involved: ObjectRef = {
    apiVersion: str(io.apiVersion),
    kind: str(io.kind) || remembered?.kind || "",
    namespace: str(io.namespace),
    name: str(io.name) || remembered?.name || "",
    uid: str(io.uid),
    fieldPath: str(io.fieldPath),
  };
  const count = typeof o.count === "number" ? o.count : Number(o.count ?? 0) || 0;
  const data = encodeKubeEvent({
    cluster,
    type,
    uid: id.uid,
    resourceVersion: id.rv,
    namespace: id.namespace,
    name: id.name,
    reason: str(o.reason),
    message: str(o.message),
    eventType: str(o.type),
    sourceComponent: str(source.component),
    sourceHost: str(source.host),
    reportingController: str(o.reportingComponent ?? o.reportingController),
    involved,
    count,
    firstTimestamp: str(o.firstTimestamp),
    lastTimestamp: str(o.lastTimestamp),
    eventTime: str(o.eventTime),
    observedAtMs,
    objectJson: JSON.stringify(obj),
    ...(involvedLabels !== undefined ? { involvedLabels } : {}),
  });
  return {
    subject: buildRawSubject(cluster, id.namespace, { category: "event", kind: involved.kind, name: involved.name }),
    msgId: busMsgId(eventMsgId(id.uid, id.rv, type), cluster),
    data,
  };
}

const utf8 = new TextEncoder();

/**
 * The dead letter of a change that cannot be encoded (faro.v1.dlq.watcher.encode). `originalSubject` is the
 * object's API path; the key names the resource type, the object (uid, else namespace/name) and its state,
 * so replicas and restarts store it once. The payload is the object as FARO_RAW would carry it (Secret
 * values stripped); the kernel includes it only when `deadLetters.includePayload` is on.
 */
export function unencodableDeadLetter(r: ResourceRef, type: WatchType, object: KubeObject, err: unknown): DeadLetterRequest {
  const m = (object?.metadata ?? {}) as Partial<KubeObject["metadata"]>;
  const namespace = r.namespaced ? str(m.namespace) : "";
  const name = str(m.name);
  const path = resourcePath(r, namespace || undefined);
  let payload: Uint8Array | undefined;
  try {
    payload = utf8.encode(JSON.stringify(safe(object)));
  } catch {
    payload = undefined; // not even serialisable: the dead letter goes without it
  }
  return {
    stage: "encode",
    reason: "unencodable object",
    error: err instanceof Error ? err.message : String(err),
    originalSubject: name ? `${path}/${encodeURIComponent(name)}` : path,
    key: `${resourceName(r)}:${str(m.uid) || `${namespace}/${name}`}:${str(m.resourceVersion)}:${type === "DELETED" ? "D" : "M"}`,
    ...(payload ? { payload } : { withhold: true }),
  };
}
