// Loose shapes of the Kubernetes objects the correlator reads, and helpers for their timestamps.

export interface OwnerReferenceJson {
  apiVersion: string;
  kind: string;
  name: string;
  uid: string;
  controller?: boolean;
}

export interface ObjectJson {
  apiVersion?: string;
  kind?: string;
  metadata?: {
    name?: string;
    namespace?: string;
    uid?: string;
    resourceVersion?: string;
    creationTimestamp?: string;
    deletionTimestamp?: string;
    ownerReferences?: OwnerReferenceJson[];
    labels?: Record<string, string>;
    [k: string]: unknown;
  };
  spec?: Record<string, unknown>;
  status?: Record<string, unknown>;
  [k: string]: unknown;
}

export interface ContainerStateJson {
  waiting?: { reason?: string; message?: string };
  running?: { startedAt?: string };
  terminated?: { exitCode?: number; reason?: string; message?: string; startedAt?: string; finishedAt?: string; signal?: number };
}

export interface ContainerStatusJson {
  name: string;
  state?: ContainerStateJson;
  lastState?: ContainerStateJson;
  ready?: boolean;
  started?: boolean;
  restartCount?: number;
  image?: string;
  containerID?: string;
}

export interface ConditionJson {
  type: string;
  status: string;
  reason?: string;
  message?: string;
  lastTransitionTime?: string;
  lastUpdateTime?: string;
}

export interface PodStatusJson {
  phase?: string;
  reason?: string;
  message?: string;
  conditions?: ConditionJson[];
  containerStatuses?: ContainerStatusJson[];
  initContainerStatuses?: ContainerStatusJson[];
  ephemeralContainerStatuses?: ContainerStatusJson[];
  startTime?: string;
}

/** Parses an RFC3339 timestamp to epoch ms; undefined for anything else. Accepts Date-like strings only. */
export function parseTime(ts: unknown): number | undefined {
  if (typeof ts !== "string" || ts === "") return undefined;
  const ms = Date.parse(ts);
  return Number.isNaN(ms) ? undefined : ms;
}

/** Epoch ms → RFC3339 with milliseconds (UTC). */
export function isoTime(ms: number): string {
  return new Date(ms).toISOString();
}

export function podStatus(obj: ObjectJson | undefined): PodStatusJson {
  return (obj?.status ?? {}) as PodStatusJson;
}

/** Every container status of a pod (init, regular, ephemeral), with its type. */
export function allContainerStatuses(obj: ObjectJson | undefined): { type: "init" | "regular" | "ephemeral"; status: ContainerStatusJson }[] {
  const s = podStatus(obj);
  return [
    ...(s.initContainerStatuses ?? []).map((status) => ({ type: "init" as const, status })),
    ...(s.containerStatuses ?? []).map((status) => ({ type: "regular" as const, status })),
    ...(s.ephemeralContainerStatuses ?? []).map((status) => ({ type: "ephemeral" as const, status })),
  ];
}

function collectTimes(value: unknown, out: number[], depth: number): void {
  if (depth > 6 || value === null || typeof value !== "object") return;
  if (Array.isArray(value)) {
    for (const v of value) collectTimes(v, out, depth + 1);
    return;
  }
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    // deletionTimestamp is when a deletion's grace period ends (up to terminationGracePeriodSeconds in
    // the future), not when the change happened: taking it would advance the cluster's source clock
    // ahead of the logs still being written, and close windows (root deleted + grace) before their last lines.
    if (k === "managedFields" || k === "deletionTimestamp") continue;
    if (typeof v === "string" && (k.endsWith("Time") || k.endsWith("At") || k.endsWith("Timestamp"))) {
      const ms = parseTime(v);
      if (ms !== undefined) out.push(ms);
    } else if (typeof v === "object") {
      collectTimes(v, out, depth + 1);
    }
  }
}

/**
 * The Kubernetes-clock time of an object's latest change: the newest timestamp found in its metadata
 * and status (creation, condition transitions, container start/finish; not the future deletionTimestamp). Watch events carry
 * no time of their own, and the watcher's wall clock differs from the cluster's (a sped-up simulator),
 * so stories are ordered on this. Undefined when the object has no timestamp at all.
 */
export function objectTimestamp(obj: ObjectJson | undefined): number | undefined {
  if (!obj) return undefined;
  const out: number[] = [];
  collectTimes(obj.metadata, out, 0);
  collectTimes(obj.status, out, 0);
  return out.length ? Math.max(...out) : undefined;
}

/** The controller owner reference, else the first one; undefined for a root. */
export function controllerOf(refs: readonly OwnerReferenceJson[] | undefined): OwnerReferenceJson | undefined {
  if (!refs || refs.length === 0) return undefined;
  return refs.find((r) => r.controller) ?? refs[0];
}

/** Numeric comparison of resourceVersions when both are numbers (the usual case), else string order. */
export function compareResourceVersion(a: string, b: string): number {
  const na = Number(a);
  const nb = Number(b);
  if (a !== "" && b !== "" && Number.isFinite(na) && Number.isFinite(nb)) return na - nb;
  return a < b ? -1 : a > b ? 1 : 0;
}
