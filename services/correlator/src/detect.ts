// Failure detection on plain Kubernetes JSON: pods, workloads, nodes, claims, autoscalers and Events, and the
// periodic stuck-pod check. Pure functions: the correlator and `faro diagnose` (detect/diagnose.ts) share them.
import type { Evidence } from "@faro/contracts";
import {
  allContainerStatuses,
  isoTime,
  objectTimestamp,
  parseTime,
  podStatus,
  type ConditionJson,
  type ContainerStatusJson,
  type ObjectJson,
} from "./k8s.js";

export type Severity = "critical" | "high" | "medium" | "low" | "info";
/** sidecar: an init container with restartPolicy Always (native sidecar). */
export type DetectedContainerType = "init" | "sidecar" | "regular" | "ephemeral";
export type { Evidence };

/** A pod a node-level failure affects. */
export interface AffectedPod {
  namespace: string;
  name: string;
  uid: string;
  node: string;
}

/** One failure occurrence. Repeats of the same (story, container, reason) are debounced into one incident. */
export interface Detection {
  reason: string;
  severity: Severity;
  /** "" for pod- or workload-level failures. */
  container: string;
  /** The Kubernetes timestamp the detection reacts to (RFC3339). */
  k8sTimestamp: string;
  message: string;
  exitCode?: number;
  restartCount: number;
  /**
   * Identifies the occurrence, not the observation: two observations of the same crash (the
   * terminated state, then the restart) have the same id and count once.
   */
  occurrenceId: string;
  /** The container instance (its restartCount) whose logs explain the failure, when one terminated. */
  instance?: number;
  /** True when a container instance terminated: its last log lines may still be on their way. */
  terminated: boolean;
  podUid?: string;
  podName?: string;
  /** The container's type, when the failure is a container's. */
  containerType?: DetectedContainerType;
  /**
   * The status already recorded this failure when the object was first seen: it happened before Faro
   * looked, at k8sTimestamp (the status' own time).
   */
  afterTheFact?: boolean;
  /** The conditions, Events or status fields that triggered the detection. */
  evidence: Evidence[];
  /** Node-level failures: the pods on the node (filled by the caller, which knows the pods). */
  affectedPods?: AffectedPod[];
  /** The object the failure is about ("Pod/web-1", "Node/node-2"), for reports. */
  object?: string;
}

export const SEVERITY: Record<string, Severity> = {
  OOMKilled: "high",
  CrashLoopBackOff: "high",
  NonZeroExit: "medium",
  ImagePullBackOff: "medium",
  InvalidImageName: "high",
  CreateContainerConfigError: "high",
  CreateContainerError: "high",
  RunContainerError: "high",
  Evicted: "medium",
  FailedScheduling: "medium",
  Unhealthy: "medium",
  LivenessProbeFailed: "high",
  ReadinessProbeFailed: "medium",
  StartupProbeFailed: "high",
  ErrImageNeverPull: "high",
  ImageInspectError: "high",
  PreStartHookError: "high",
  PostStartHookError: "high",
  FailedMount: "high",
  FailedCreatePodSandBox: "high",
  PersistentVolumeClaimPending: "medium",
  ProvisioningFailed: "high",
  PersistentVolumeClaimLost: "critical",
  NodeNotReady: "critical",
  NodeMemoryPressure: "high",
  NodeDiskPressure: "high",
  NodePIDPressure: "high",
  HPAMaxReplicas: "medium",
  ProgressDeadlineExceeded: "high",
  BackoffLimitExceeded: "high",
  DeadlineExceeded: "high",
  StuckPending: "medium",
  StuckTerminating: "low",
};

// Waiting reasons that are failures in their own right; both image pull reasons are one failure mode.
const WAITING_FAILURES: Record<string, string> = {
  ErrImagePull: "ImagePullBackOff",
  ImagePullBackOff: "ImagePullBackOff",
  InvalidImageName: "InvalidImageName",
  CreateContainerConfigError: "CreateContainerConfigError",
  CreateContainerError: "CreateContainerError",
  RunContainerError: "RunContainerError",
  ErrImageNeverPull: "ErrImageNeverPull",
  ImageInspectError: "ImageInspectError",
  PreStartHookError: "PreStartHookError",
  PostStartHookError: "PostStartHookError",
};

/** One evidence item; empty fields stay "". */
export function evidence(source: "condition" | "event" | "status", object: string, field: string, e: Partial<Omit<Evidence, "source" | "object" | "field">> = {}): Evidence {
  return { source, object, field, reason: e.reason ?? "", message: e.message ?? "", time: e.time ?? "", value: e.value ?? "" };
}

function containerTypes(obj: ObjectJson): Map<string, DetectedContainerType> {
  const out = new Map<string, DetectedContainerType>();
  const spec = (obj.spec ?? {}) as { initContainers?: { name: string; restartPolicy?: string }[] };
  for (const c of spec.initContainers ?? []) out.set(`init/${c.name}`, c.restartPolicy === "Always" ? "sidecar" : "init");
  return out;
}

function statusField(type: "init" | "regular" | "ephemeral"): string {
  return type === "init" ? "initContainerStatuses" : type === "ephemeral" ? "ephemeralContainerStatuses" : "containerStatuses";
}

function detection(d: Omit<Detection, "severity" | "evidence"> & { evidence?: Evidence[] }): Detection {
  return { ...d, evidence: d.evidence ?? [], severity: SEVERITY[d.reason] ?? "medium" };
}

function fallbackTime(obj: ObjectJson): string {
  const ms = objectTimestamp(obj);
  return ms === undefined ? isoTime(0) : isoTime(ms);
}

function crashReason(cs: ContainerStatusJson, t: NonNullable<ContainerStatusJson["lastState"]>["terminated"]): string | undefined {
  if (!t) return undefined;
  if (t.reason === "OOMKilled") return "OOMKilled";
  // A container that keeps exiting 0 under restartPolicy Always is crash-looping too (the kubelet says so).
  if ((t.exitCode ?? 0) === 0) return cs.state?.waiting?.reason === "CrashLoopBackOff" ? "CrashLoopBackOff" : undefined;
  return cs.state?.waiting?.reason === "CrashLoopBackOff" ? "CrashLoopBackOff" : "NonZeroExit";
}

function crashMessage(reason: string, container: string, t: { exitCode?: number; reason?: string; message?: string }, cs: ContainerStatusJson): string {
  const why = t.reason ? ` (${t.reason})` : "";
  const waiting = cs.state?.waiting?.message ? `; ${cs.state.waiting.message}` : "";
  const msg = t.message ? `: ${t.message}` : "";
  return `${reason}: container ${container} exited with code ${t.exitCode ?? "?"}${why}${msg}${waiting}`;
}

/**
 * Failures visible in a pod's status change from `prev` (undefined when first seen) to `next`.
 * Containers killed while the pod is being deleted or drained (deletionTimestamp set) are not failures.
 * On first sight, what the status already records (a crash loop, a terminated container, a container
 * OOM-killed and running again) is reported once, marked `afterTheFact`, at the status' own time.
 */
export function detectPod(prev: ObjectJson | undefined, next: ObjectJson): Detection[] {
  const out: Detection[] = [];
  const uid = next.metadata?.uid ?? "";
  const podName = next.metadata?.name ?? "";
  const object = `Pod/${podName}`;
  const deleting = Boolean(next.metadata?.deletionTimestamp);
  const rv = next.metadata?.resourceVersion ?? "";
  const firstSight = prev === undefined;
  const prevStatuses = new Map(allContainerStatuses(prev).map((c) => [`${c.type}/${c.status.name}`, c.status]));
  const types = containerTypes(next);

  for (const { type, status: cs } of allContainerStatuses(next)) {
    const before = prevStatuses.get(`${type}/${cs.name}`);
    const restarts = cs.restartCount ?? 0;
    const prevRestarts = before?.restartCount ?? 0;
    const containerType = types.get(`${type}/${cs.name}`) ?? type;
    const field = `status.${statusField(type)}[${cs.name}]`;
    const base = { container: cs.name, containerType, podUid: uid, podName, restartCount: restarts, object };

    // A restart: the instance restarts-1 terminated. On first sight a visible crash loop counts, and an
    // OOM kill the status still shows for a container that runs again (it will likely happen again).
    const last = cs.lastState?.terminated;
    const waitingNow = cs.state?.waiting?.reason;
    const oomRecovered = firstSight && restarts > 0 && last?.reason === "OOMKilled" && Boolean(cs.state?.running);
    const restarted = before ? restarts > prevRestarts : restarts > 0 && (waitingNow === "CrashLoopBackOff" || oomRecovered);
    const enteredBackOff = Boolean(before) && waitingNow === "CrashLoopBackOff" && before?.state?.waiting?.reason !== "CrashLoopBackOff";
    if (!deleting && last && (restarted || enteredBackOff)) {
      const reason = crashReason(cs, last);
      if (reason) {
        const instance = Math.max(0, restarts - 1);
        out.push(
          detection({
            ...base,
            reason,
            k8sTimestamp: last.finishedAt ?? fallbackTime(next),
            message: crashMessage(reason, cs.name, last, cs) + (oomRecovered ? "; the container is running again" : ""),
            ...(last.exitCode !== undefined ? { exitCode: last.exitCode } : {}),
            occurrenceId: `crash:${uid}:${cs.name}:${instance}`,
            instance,
            terminated: true,
            ...(firstSight ? { afterTheFact: true } : {}),
            evidence: [
              evidence("status", object, `${field}.lastState.terminated`, { reason: last.reason ?? "", message: last.message ?? "", time: last.finishedAt ?? "", value: `exitCode=${last.exitCode ?? "?"}` }),
              ...(waitingNow ? [evidence("status", object, `${field}.state.waiting`, { reason: waitingNow, message: cs.state?.waiting?.message ?? "", value: `restartCount=${restarts}` })] : []),
            ],
          }),
        );
      }
    }

    // A container that terminated and stays terminated (restartPolicy Never/OnFailure, or before the restart).
    const term = cs.state?.terminated;
    if (!deleting && term && !before?.state?.terminated) {
      const reason = term.reason === "OOMKilled" ? "OOMKilled" : (term.exitCode ?? 0) !== 0 ? "NonZeroExit" : undefined;
      if (reason) {
        out.push(
          detection({
            ...base,
            reason,
            k8sTimestamp: term.finishedAt ?? fallbackTime(next),
            message: crashMessage(reason, cs.name, term, cs),
            ...(term.exitCode !== undefined ? { exitCode: term.exitCode } : {}),
            occurrenceId: `crash:${uid}:${cs.name}:${restarts}`,
            instance: restarts,
            terminated: true,
            ...(firstSight ? { afterTheFact: true } : {}),
            evidence: [evidence("status", object, `${field}.state.terminated`, { reason: term.reason ?? "", message: term.message ?? "", time: term.finishedAt ?? "", value: `exitCode=${term.exitCode ?? "?"}` })],
          }),
        );
      }
    }

    const waitReason = waitingNow ? WAITING_FAILURES[waitingNow] : undefined;
    const prevWaitReason = before?.state?.waiting?.reason;
    if (!deleting && waitReason && waitingNow !== prevWaitReason) {
      out.push(
        detection({
          ...base,
          reason: waitReason,
          k8sTimestamp: fallbackTime(next),
          message: `${waitingNow}: ${cs.state?.waiting?.message ?? `container ${cs.name} is waiting`}`,
          occurrenceId: `wait:${uid}:${cs.name}:${waitingNow}:${rv}`,
          instance: restarts,
          terminated: false,
          evidence: [evidence("status", object, `${field}.state.waiting`, { reason: waitingNow ?? "", message: cs.state?.waiting?.message ?? "", value: `restartCount=${restarts}` })],
        }),
      );
    }
  }

  const status = podStatus(next);
  if (status.reason === "Evicted" && podStatus(prev).reason !== "Evicted") {
    out.push(
      detection({
        reason: "Evicted",
        container: "",
        podUid: uid,
        podName,
        object,
        restartCount: 0,
        k8sTimestamp: fallbackTime(next),
        message: `Evicted: ${status.message ?? "pod was evicted"}`,
        occurrenceId: `evicted:${uid}`,
        terminated: true,
        ...(firstSight ? { afterTheFact: true } : {}),
        evidence: [evidence("status", object, "status.reason", { reason: "Evicted", message: status.message ?? "", value: status.phase ?? "" })],
      }),
    );
  }

  const sched = findCondition(status.conditions, "PodScheduled");
  const prevSched = findCondition(podStatus(prev).conditions, "PodScheduled");
  if (!deleting && sched?.status === "False" && (sched.reason === "Unschedulable" || sched.reason === "SchedulerError")) {
    if (!(prevSched?.status === "False" && prevSched.lastTransitionTime === sched.lastTransitionTime)) {
      out.push(
        detection({
          reason: "FailedScheduling",
          container: "",
          podUid: uid,
          podName,
          object,
          restartCount: 0,
          k8sTimestamp: sched.lastTransitionTime ?? fallbackTime(next),
          message: `FailedScheduling: ${sched.message ?? "pod is unschedulable"}`,
          occurrenceId: `unsched:${uid}:${sched.lastTransitionTime ?? rv}`,
          terminated: false,
          evidence: [conditionEvidence(object, sched)],
        }),
      );
    }
  }
  return out;
}

function conditionEvidence(object: string, c: ConditionJson): Evidence {
  return evidence("condition", object, `status.conditions[${c.type}]`, { reason: c.reason ?? "", message: c.message ?? "", time: c.lastTransitionTime ?? c.lastUpdateTime ?? "", value: c.status });
}

export function findCondition(conditions: ConditionJson[] | undefined, type: string): ConditionJson | undefined {
  return conditions?.find((c) => c.type === type);
}

const NODE_CONDITIONS: Record<string, string> = { MemoryPressure: "NodeMemoryPressure", DiskPressure: "NodeDiskPressure", PIDPressure: "NodePIDPressure" };

/**
 * Object-level failures on the transition (or on first sight, marked `afterTheFact`): Deployment
 * ProgressDeadlineExceeded, Job BackoffLimitExceeded / DeadlineExceeded, Node NotReady and pressure,
 * PersistentVolumeClaim Lost, HorizontalPodAutoscaler pinned at its maximum.
 */
export function detectWorkload(kind: string, prev: ObjectJson | undefined, next: ObjectJson): Detection[] {
  const uid = next.metadata?.uid ?? "";
  const name = next.metadata?.name ?? "";
  const object = `${kind}/${name}`;
  const conds = (next.status?.["conditions"] ?? []) as ConditionJson[];
  const prevConds = (prev?.status?.["conditions"] ?? []) as ConditionJson[];
  const firstSight = prev === undefined;
  const base = { container: "", restartCount: 0, terminated: false, object, ...(firstSight ? { afterTheFact: true } : {}) };
  if (kind === "Deployment") {
    const c = findCondition(conds, "Progressing");
    const p = findCondition(prevConds, "Progressing");
    if (c?.status === "False" && c.reason === "ProgressDeadlineExceeded" && p?.reason !== "ProgressDeadlineExceeded") {
      const ts = c.lastTransitionTime ?? c.lastUpdateTime ?? fallbackTime(next);
      return [
        detection({
          ...base,
          reason: "ProgressDeadlineExceeded",
          k8sTimestamp: ts,
          message: `ProgressDeadlineExceeded: ${c.message ?? "deployment exceeded its progress deadline"}`,
          occurrenceId: `deploy:${uid}:${ts}`,
          evidence: [conditionEvidence(object, c)],
        }),
      ];
    }
  }
  if (kind === "Job") {
    const c = findCondition(conds, "Failed");
    const p = findCondition(prevConds, "Failed");
    if (c?.status === "True" && (c.reason === "BackoffLimitExceeded" || c.reason === "DeadlineExceeded") && p?.status !== "True") {
      const failed = Number(next.status?.["failed"] ?? 0);
      return [
        detection({
          ...base,
          reason: c.reason,
          k8sTimestamp: c.lastTransitionTime ?? fallbackTime(next),
          message: `${c.reason}: ${c.message ?? "job failed"}${failed ? ` (${failed} failed pod${failed > 1 ? "s" : ""})` : ""}`,
          occurrenceId: `job:${uid}:${c.reason}`,
          evidence: [conditionEvidence(object, c)],
        }),
      ];
    }
  }
  if (kind === "Node") {
    const out: Detection[] = [];
    const ready = findCondition(conds, "Ready");
    const prevReady = findCondition(prevConds, "Ready");
    if (ready && ready.status !== "True" && prevReady?.status !== ready.status) {
      const ts = ready.lastTransitionTime ?? fallbackTime(next);
      out.push(
        detection({
          ...base,
          reason: "NodeNotReady",
          k8sTimestamp: ts,
          message: `NodeNotReady: node ${name} Ready=${ready.status}${ready.reason ? ` (${ready.reason})` : ""}${ready.message ? `: ${ready.message}` : ""}`,
          occurrenceId: `node:${uid}:Ready:${ts}`,
          evidence: [conditionEvidence(object, ready)],
        }),
      );
    }
    for (const [type, reason] of Object.entries(NODE_CONDITIONS)) {
      const c = findCondition(conds, type);
      const p = findCondition(prevConds, type);
      if (c?.status === "True" && p?.status !== "True") {
        const ts = c.lastTransitionTime ?? fallbackTime(next);
        out.push(
          detection({
            ...base,
            reason,
            k8sTimestamp: ts,
            message: `${reason}: node ${name} ${type}${c.message ? `: ${c.message}` : ""}`,
            occurrenceId: `node:${uid}:${type}:${ts}`,
            evidence: [conditionEvidence(object, c)],
          }),
        );
      }
    }
    return out;
  }
  if (kind === "PersistentVolumeClaim") {
    const phase = String(next.status?.["phase"] ?? "");
    const prevPhase = String(prev?.status?.["phase"] ?? "");
    if (phase === "Lost" && prevPhase !== "Lost") {
      return [
        detection({
          ...base,
          reason: "PersistentVolumeClaimLost",
          k8sTimestamp: fallbackTime(next),
          message: `PersistentVolumeClaimLost: claim ${name} lost its volume ${String(next.spec?.["volumeName"] ?? "")}`.trimEnd(),
          occurrenceId: `pvc:${uid}:Lost`,
          evidence: [evidence("status", object, "status.phase", { value: phase })],
        }),
      ];
    }
  }
  if (kind === "HorizontalPodAutoscaler") {
    const at = hpaAtMax(next);
    if (at && !hpaAtMax(prev)) {
      const ts = at.condition?.lastTransitionTime ?? String(next.status?.["lastScaleTime"] ?? "") ?? fallbackTime(next);
      return [
        detection({
          ...base,
          reason: "HPAMaxReplicas",
          k8sTimestamp: ts || fallbackTime(next),
          message: `HPAMaxReplicas: ${name} is at its maximum of ${at.max} replicas (desired ${at.desired})${at.condition?.message ? `: ${at.condition.message}` : ""}`,
          occurrenceId: `hpa:${uid}:${ts || next.metadata?.resourceVersion || ""}`,
          evidence: [
            evidence("status", object, "status.desiredReplicas", { value: `desired=${at.desired} current=${at.current} max=${at.max}` }),
            ...(at.condition ? [conditionEvidence(object, at.condition)] : []),
          ],
        }),
      ];
    }
  }
  return [];
}

/** An autoscaler that wants as many replicas as it may have, or more (ScalingLimited/TooManyReplicas). */
function hpaAtMax(obj: ObjectJson | undefined): { max: number; desired: number; current: number; condition?: ConditionJson } | undefined {
  if (!obj) return undefined;
  const max = Number(obj.spec?.["maxReplicas"] ?? NaN);
  const desired = Number(obj.status?.["desiredReplicas"] ?? NaN);
  const current = Number(obj.status?.["currentReplicas"] ?? NaN);
  const limited = findCondition((obj.status?.["conditions"] ?? []) as ConditionJson[], "ScalingLimited");
  if (limited?.status === "True" && limited.reason === "TooManyReplicas") return { max, desired, current, condition: limited };
  if (Number.isFinite(max) && Number.isFinite(desired) && Number.isFinite(current) && current >= max && desired >= max) return { max, desired, current };
  return undefined;
}

/** The fields of a Kubernetes Event the detection needs (a subset of the KubeEvent contract). */
export interface EventFacts {
  type: string;
  uid: string;
  reason: string;
  message: string;
  eventType: string;
  count: number;
  firstTimestamp: string;
  lastTimestamp: string;
  eventTime: string;
  involved: { kind: string; name: string; uid: string; fieldPath: string };
}

/** "spec.containers{app}" → "app". */
export function containerFromFieldPath(fieldPath: string): string {
  const m = /\{([^}]*)\}/.exec(fieldPath);
  return m?.[1] ?? "";
}

export function eventTimestamp(ev: Pick<EventFacts, "lastTimestamp" | "eventTime" | "firstTimestamp">): string {
  return ev.lastTimestamp || ev.eventTime || ev.firstTimestamp || isoTime(0);
}

const PROBES: Record<string, string> = { Liveness: "LivenessProbeFailed", Readiness: "ReadinessProbeFailed", Startup: "StartupProbeFailed" };

/**
 * Failures announced by Events. Probe failures count only from `unhealthyThreshold` repeats on, and say
 * which probe failed; Evicted and Job failures share their occurrence ids with the status-based
 * detections so both count once.
 */
export function detectEvent(ev: EventFacts, unhealthyThreshold: number): Detection[] {
  if (ev.type === "DELETED") return [];
  const ts = eventTimestamp(ev);
  const isPod = ev.involved.kind === "Pod";
  const pod = isPod ? { podUid: ev.involved.uid, podName: ev.involved.name } : {};
  const container = containerFromFieldPath(ev.involved.fieldPath);
  const object = `${ev.involved.kind}/${ev.involved.name}`;
  const proof = [evidence("event", object, ev.involved.fieldPath, { reason: ev.reason, message: ev.message, time: ts, value: `count=${ev.count}` })];
  const containerType = container ? ({ containerType: /^spec\.initContainers/.test(ev.involved.fieldPath) ? "init" : /^spec\.ephemeralContainers/.test(ev.involved.fieldPath) ? "ephemeral" : "regular" } as const) : {};
  const base = { k8sTimestamp: ts, restartCount: 0, terminated: false, object, evidence: proof, ...pod };
  const each = { occurrenceId: `ev:${ev.uid}:${ev.count}` };
  switch (ev.reason) {
    case "FailedScheduling":
      return [detection({ ...base, ...each, reason: "FailedScheduling", container: "", message: `FailedScheduling: ${ev.message}` })];
    case "Unhealthy": {
      if (ev.count < unhealthyThreshold) return [];
      const probe = /^(Liveness|Readiness|Startup) probe/.exec(ev.message)?.[1];
      const reason = (probe && PROBES[probe]) || "Unhealthy";
      return [detection({ ...base, ...each, ...containerType, reason, container, message: `${reason} (${ev.count}×): ${ev.message}` })];
    }
    case "FailedMount":
    case "FailedAttachVolume":
      if (!isPod || ev.eventType !== "Warning") return [];
      return [detection({ ...base, ...each, reason: "FailedMount", container: "", message: `FailedMount: ${ev.message}` })];
    case "FailedCreatePodSandBox":
      if (!isPod) return [];
      return [detection({ ...base, ...each, reason: "FailedCreatePodSandBox", container: "", message: `FailedCreatePodSandBox: ${ev.message}` })];
    case "ProvisioningFailed":
      if (ev.involved.kind !== "PersistentVolumeClaim") return [];
      return [detection({ ...base, ...each, reason: "ProvisioningFailed", container: "", message: `ProvisioningFailed: claim ${ev.involved.name}: ${ev.message}` })];
    case "FailedBinding":
      if (ev.involved.kind !== "PersistentVolumeClaim") return [];
      return [detection({ ...base, ...each, reason: "PersistentVolumeClaimPending", container: "", message: `PersistentVolumeClaimPending: claim ${ev.involved.name}: ${ev.message}` })];
    case "Evicted":
      return [detection({ ...base, reason: "Evicted", container: "", message: `Evicted: ${ev.message}`, occurrenceId: `evicted:${ev.involved.uid}`, terminated: true })];
    case "BackoffLimitExceeded":
    case "DeadlineExceeded":
      if (ev.involved.kind !== "Job") return [];
      return [detection({ ...base, reason: ev.reason, container: "", message: `${ev.reason}: ${ev.message}`, occurrenceId: `job:${ev.involved.uid}:${ev.reason}` })];
    default:
      return [];
  }
}

/**
 * Pods stuck Pending or Terminating, and claims Pending, for longer than the thresholds at source time
 * `nowMs`. A pod's phase or a claim's phase has no time of its own: the creation time is the evidence.
 */
export function detectStuck(obj: ObjectJson, nowMs: number, pendingMs: number, terminatingMs: number): Detection[] {
  const uid = obj.metadata?.uid ?? "";
  const name = obj.metadata?.name ?? "";
  const created = parseTime(obj.metadata?.creationTimestamp);
  if (obj.kind === "PersistentVolumeClaim") {
    const phase = String(obj.status?.["phase"] ?? "");
    if (phase !== "Pending" || created === undefined || nowMs - created < pendingMs || obj.metadata?.deletionTimestamp) return [];
    const object = `PersistentVolumeClaim/${name}`;
    return [
      detection({
        container: "",
        restartCount: 0,
        terminated: false,
        object,
        reason: "PersistentVolumeClaimPending",
        k8sTimestamp: isoTime(created),
        message: `PersistentVolumeClaimPending: claim ${name} pending for ${Math.round((nowMs - created) / 1000)}s`,
        occurrenceId: `stuck-pending:${uid}`,
        evidence: [evidence("status", object, "status.phase", { value: phase, time: obj.metadata?.creationTimestamp ?? "" })],
      }),
    ];
  }
  const object = `Pod/${name}`;
  const base = { container: "", podUid: uid, podName: name, restartCount: 0, terminated: false, object };
  const deletion = parseTime(obj.metadata?.deletionTimestamp);
  if (deletion !== undefined) {
    const grace = Number(obj.metadata?.["deletionGracePeriodSeconds"] ?? 0) * 1000;
    // deletionTimestamp is when the grace period ends, not when deletion began.
    if (nowMs - deletion >= terminatingMs) {
      return [
        detection({
          ...base,
          reason: "StuckTerminating",
          k8sTimestamp: isoTime(deletion),
          message: `StuckTerminating: pod ${name} still terminating ${Math.round((nowMs - deletion + grace) / 1000)}s after deletion`,
          occurrenceId: `stuck-terminating:${uid}`,
          evidence: [evidence("status", object, "metadata.deletionTimestamp", { time: obj.metadata?.deletionTimestamp ?? "" })],
        }),
      ];
    }
    return [];
  }
  const phase = podStatus(obj).phase;
  // A pod Pending for a reason its status names (an image, a config error, unschedulable) is reported
  // as that reason; StuckPending is for a Pending that nothing else explains.
  const explained =
    allContainerStatuses(obj).some((c) => WAITING_FAILURES[c.status.state?.waiting?.reason ?? ""] !== undefined) ||
    findCondition(podStatus(obj).conditions, "PodScheduled")?.reason === "Unschedulable";
  if (phase === "Pending" && !explained && created !== undefined && nowMs - created >= pendingMs) {
    return [
      detection({
        ...base,
        reason: "StuckPending",
        k8sTimestamp: isoTime(created),
        message: `StuckPending: pod ${name} pending for ${Math.round((nowMs - created) / 1000)}s`,
        occurrenceId: `stuck-pending:${uid}`,
        evidence: [evidence("status", object, "status.phase", { value: phase, time: obj.metadata?.creationTimestamp ?? "" })],
      }),
    ];
  }
  return [];
}
