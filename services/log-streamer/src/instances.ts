// Which container instances of a pod exist (from its status), their keys, and how an instance's log can be read now.
import type { ContainerType, OwnerRef } from "@faro/contracts";

/** One container instance: a container of a pod during one value of its restartCount. */
export interface InstanceRef {
  podUid: string;
  container: string;
  restartCount: number;
}

/** What is recorded in Redis for a wanted stream: enough to read the log and label the batches. */
export interface WantedInstance extends InstanceRef {
  namespace: string;
  pod: string;
  containerType: ContainerType;
  node: string;
  podOwnerRefs: OwnerRef[];
  podLabels: Record<string, string>;
  /** When this replica first saw the instance (orders the queue: oldest first). */
  seenAtMs: number;
  /** Registered again after Redis lost its state: a missing checkpoint may have existed (the bus is asked). */
  recovered?: boolean;
}

interface ContainerState {
  running?: { startedAt?: string };
  terminated?: { exitCode?: number; reason?: string; startedAt?: string; finishedAt?: string };
  waiting?: { reason?: string };
}

interface ContainerStatus {
  name: string;
  restartCount?: number;
  state?: ContainerState;
  lastState?: ContainerState;
}

/** The parts of a Pod the log-streamer reads. */
export interface PodLike {
  metadata: {
    name: string;
    namespace?: string;
    uid: string;
    labels?: Record<string, string>;
    ownerReferences?: { apiVersion: string; kind: string; name: string; uid: string; controller?: boolean }[];
    deletionTimestamp?: string | null;
  };
  spec?: { nodeName?: string };
  status?: {
    initContainerStatuses?: ContainerStatus[];
    containerStatuses?: ContainerStatus[];
    ephemeralContainerStatuses?: ContainerStatus[];
  };
}

/** `<podUid>/<container>/<restartCount>`: container names are DNS labels, so "/" cannot occur in them. */
export function instanceKey(i: InstanceRef): string {
  return `${i.podUid}/${i.container}/${i.restartCount}`;
}

export function parseInstanceKey(key: string): InstanceRef {
  const first = key.indexOf("/");
  const last = key.lastIndexOf("/");
  return { podUid: key.slice(0, first), container: key.slice(first + 1, last), restartCount: Number(key.slice(last + 1)) };
}

function statusesOf(pod: PodLike): { type: ContainerType; status: ContainerStatus }[] {
  const s = pod.status ?? {};
  return [
    ...(s.initContainerStatuses ?? []).map((status) => ({ type: "init" as const, status })),
    ...(s.containerStatuses ?? []).map((status) => ({ type: "regular" as const, status })),
    ...(s.ephemeralContainerStatuses ?? []).map((status) => ({ type: "ephemeral" as const, status })),
  ];
}

const started = (s: ContainerState | undefined) => s?.running !== undefined || s?.terminated !== undefined;

/**
 * Every container instance the status shows as started: the current one when it runs or ran
 * (restartCount r), and the previous one (r-1) when lastState says it terminated — so an instance that
 * lived and died between two pod changes this replica saw is still wanted (its log is the `previous` one).
 * Init containers come first, in spec order, then regular containers and sidecars, then ephemeral ones.
 */
export function podInstances(pod: PodLike, seenAtMs = Date.now()): WantedInstance[] {
  const base = {
    namespace: pod.metadata.namespace ?? "",
    pod: pod.metadata.name,
    podUid: pod.metadata.uid,
    node: pod.spec?.nodeName ?? "",
    podLabels: { ...(pod.metadata.labels ?? {}) },
    podOwnerRefs: (pod.metadata.ownerReferences ?? []).map((o) => ({
      apiVersion: o.apiVersion,
      kind: o.kind,
      name: o.name,
      uid: o.uid,
      controller: o.controller === true,
    })),
    seenAtMs,
  };
  const out: WantedInstance[] = [];
  for (const { type, status } of statusesOf(pod)) {
    const rc = status.restartCount ?? 0;
    if (rc > 0 && status.lastState?.terminated !== undefined) {
      out.push({ ...base, container: status.name, containerType: type, restartCount: rc - 1 });
    }
    if (started(status.state)) out.push({ ...base, container: status.name, containerType: type, restartCount: rc });
  }
  return out;
}

/** How the log of an instance can be read at this moment, decided from the pod's current status. */
export type ReadPlan =
  /** The instance is the container's current one and runs: follow its log. */
  | { kind: "follow" }
  /** The instance is the current one and terminated for good (completed, or stopped on deletion): read the rest, then end. */
  | { kind: "final" }
  /** The container restarted since: the instance's log is the `previous` one; read it once, then end. */
  | { kind: "previous" }
  /** The instance has not started yet (status lags, or waiting): try again later. */
  | { kind: "wait"; reason: string }
  /** The pod is gone (or replaced under the same name): its logs are gone with it. */
  | { kind: "gone" }
  /** The API no longer serves this instance's log (restarted twice since): what was not read is lost. */
  | { kind: "lost"; reason: string };

/** Decides the read plan for `inst` from a fresh copy of its pod (undefined = the pod does not exist). */
export function planRead(pod: PodLike | undefined, inst: InstanceRef): ReadPlan {
  if (!pod || pod.metadata.uid !== inst.podUid) return { kind: "gone" };
  const st = statusesOf(pod).find((s) => s.status.name === inst.container)?.status;
  if (!st) return { kind: "wait", reason: "container has no status yet" };
  const rc = st.restartCount ?? 0;
  if (inst.restartCount === rc) {
    if (st.state?.running !== undefined) return { kind: "follow" };
    if (st.state?.terminated !== undefined) return { kind: "final" };
    return { kind: "wait", reason: `container is waiting (${st.state?.waiting?.reason ?? "unknown"})` };
  }
  if (inst.restartCount === rc - 1) return { kind: "previous" };
  if (inst.restartCount < rc - 1) return { kind: "lost", reason: `container restarted ${rc - inst.restartCount} times since` };
  return { kind: "wait", reason: `status shows restartCount ${rc}` };
}

/** The restartCount the pod's status shows for a container (undefined when the pod or container is unknown). */
export function currentRestartCount(pod: PodLike | undefined, podUid: string, container: string): number | undefined {
  if (!pod || pod.metadata.uid !== podUid) return undefined;
  return statusesOf(pod).find((s) => s.status.name === container)?.status.restartCount ?? undefined;
}
