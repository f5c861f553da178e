// Shared shapes of the simulator: objects, resource types, the object store, the simulated clock and
// the log provider. The API server (server/, store.ts) and the cluster behaviour (controllers/,
// kubelet/, logs/, scenario/) are built against these interfaces.

export interface OwnerReference {
  apiVersion: string;
  kind: string;
  name: string;
  uid: string;
  controller?: boolean;
  blockOwnerDeletion?: boolean;
}

export interface ObjectMeta {
  name: string;
  namespace?: string;
  generateName?: string;
  uid: string;
  resourceVersion: string;
  generation?: number;
  creationTimestamp: string;
  deletionTimestamp?: string;
  deletionGracePeriodSeconds?: number;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  ownerReferences?: OwnerReference[];
  finalizers?: string[];
  managedFields?: unknown[];
}

/** Any Kubernetes object as JSON. */
export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: ObjectMeta;
  [field: string]: unknown;
}

/** Input to create: metadata may lack the server-assigned fields. */
export type NewObject = Omit<KubeObject, "metadata"> & {
  metadata: Partial<ObjectMeta> & { name?: string; generateName?: string };
};

/** A resource type served by the API (built-in or CRD). */
export interface ResourceType {
  group: string; // "" for core
  version: string;
  resource: string; // plural, e.g. "deployments"
  singular: string;
  kind: string;
  listKind: string;
  namespaced: boolean;
  shortNames?: string[];
  verbs: string[];
  /** e.g. ["status"], ["log", "status"] for pods */
  subresources: string[];
  categories?: string[];
}

export type WatchEventType = "ADDED" | "MODIFIED" | "DELETED";

export interface StoreEvent {
  type: WatchEventType;
  object: KubeObject;
  resource: ResourceType;
  /** Global resourceVersion after this change. */
  rv: number;
}

export interface DeleteOptions {
  gracePeriodSeconds?: number;
  propagationPolicy?: "Foreground" | "Background" | "Orphan";
}

/**
 * The object store: one global monotonic resourceVersion, a bounded event history for watch resume,
 * synchronous subscribers (controllers react in the same tick order as changes happen).
 */
export interface Store {
  registerType(type: ResourceType): void;
  unregisterType(group: string, resource: string): void;
  types(): ResourceType[];
  /** By group + plural resource name (version ignored if the group/resource exists). */
  typeFor(group: string, resource: string): ResourceType | undefined;
  /** By apiVersion ("apps/v1", "v1") and kind. */
  typeForKind(apiVersion: string, kind: string): ResourceType | undefined;

  get(type: ResourceType, namespace: string | undefined, name: string): KubeObject | undefined;
  list(type: ResourceType, namespace?: string): KubeObject[];
  /** Assigns uid, resourceVersion, creationTimestamp, name from generateName; throws ApiError 409 if it exists. */
  create(type: ResourceType, obj: NewObject): KubeObject;
  /** Replaces the object; throws ApiError 409 when obj.metadata.resourceVersion is set and stale, 404 when missing. */
  update(type: ResourceType, obj: KubeObject): KubeObject;
  /** Replaces only `.status` of the stored object. */
  updateStatus(type: ResourceType, obj: KubeObject): KubeObject;
  /**
   * Deletes: pods (and objects with finalizers) get deletionTimestamp first (MODIFIED), then are removed
   * by `finalizeDelete` after the grace period; others are removed at once. Dependents are garbage-collected
   * through ownerReferences per propagationPolicy. Returns the object as last stored.
   */
  delete(type: ResourceType, namespace: string | undefined, name: string, opts?: DeleteOptions): KubeObject;
  /** Removes an object now (end of graceful deletion). */
  finalizeDelete(type: ResourceType, namespace: string | undefined, name: string): KubeObject | undefined;

  currentRV(): number;
  /** Events after `rv` (exclusive) or undefined when `rv` is older than the retained history (→ 410). */
  eventsSince(rv: number): StoreEvent[] | undefined;
  subscribe(fn: (ev: StoreEvent) => void): () => void;
}

/** Simulated time: wall-clock based, sped up by `speed` (10 → a 10 s back-off takes 1 s). */
export interface SimClock {
  readonly speed: number;
  /** Simulated now, ms since epoch. */
  now(): number;
  /** RFC 3339 timestamp of simulated now, second precision ("2026-01-01T00:00:00Z"). */
  isoNow(): string;
  /** Runs fn after `simMs` simulated milliseconds; returns a cancel function. */
  setTimeout(fn: () => void, simMs: number): () => void;
  setInterval(fn: () => void, simMs: number): () => void;
  /** Resolves after `simMs` simulated milliseconds. */
  sleep(simMs: number): Promise<void>;
  /** Cancels every pending timer (simulator stop). */
  stop(): void;
}

export interface LogQuery {
  container?: string;
  follow: boolean;
  previous: boolean;
  timestamps: boolean;
  sinceSeconds?: number;
  sinceTime?: string;
  tailLines?: number;
  limitBytes?: number;
}

/**
 * Serves `GET /api/v1/namespaces/{ns}/pods/{pod}/log`. Implemented by the kubelet's log store; the HTTP
 * server parses the query and hands over the response stream. It must write the status code itself
 * (200 with text/plain, or a Status error as the kubelet gives it).
 */
export interface LogProvider {
  serveLogs(
    namespace: string,
    pod: string,
    query: LogQuery,
    res: import("node:http").ServerResponse,
    signal: AbortSignal,
  ): void;
}

/** One line written by a simulated container, as the ground truth records it. */
export interface LogRecord {
  namespace: string;
  pod: string;
  podUid: string;
  container: string;
  /** Instance of the container: its restartCount when the line was written. */
  restartCount: number;
  /** RFC 3339 with 9 fractional digits, as served with timestamps=true. */
  timestamp: string;
  line: string;
}
