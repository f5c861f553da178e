// Failure detection on plain Kubernetes JSON: pods, workloads and Events, and the periodic stuck-pod check.
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
};

function detection(d: Omit<Detection, "severity">): Detection {
  return { ...d, severity: SEVERITY[d.reason] ?? "medium" };
}

function fallbackTime(obj: ObjectJson): string {
  const ms = objectTimestamp(obj);
  return ms === undefined ? isoTime(0) : isoTime(ms);
}

function crashReason(cs: ContainerStatusJson, t: NonNullable<ContainerStatusJson["lastState"]>["terminated"]): string | undefined {
  if (!t) return undefined;
  if (t.reason === "OOMKilled") return "OOMKilled";
  if ((t.exitCode ?? 0) === 0) return undefined;
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
 */
export function detectPod(prev: ObjectJson | undefined, next: ObjectJson): Detection[] {
  const out: Detection[] = [];
  const uid = next.metadata?.uid ?? "";
  const podName = next.metadata?.name ?? "";
  const deleting = Boolean(next.metadata?.deletionTimestamp);
  const rv = next.metadata?.resourceVersion ?? "";
  const prevStatuses = new Map(allContainerStatuses(prev).map((c) => [`${c.type}/${c.status.name}`, c.status]));

  for (const { type, status: cs } of allContainerStatuses(next)) {
    const before = prevStatuses.get(`${type}/${cs.name}`);
    const restarts = cs.restartCount ?? 0;
    const prevRestarts = before?.restartCount ?? 0;
    const base = { container: cs.name, podUid: uid, podName, restartCount: restarts };

    // A restart: the instance restarts-1 terminated. On first sight only a visible crash loop counts.
    const restarted = before ? restarts > prevRestarts : restarts > 0 && cs.state?.waiting?.reason === "CrashLoopBackOff";
    const last = cs.lastState?.terminated;
    const waitingNow = cs.state?.waiting?.reason;
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
            message: crashMessage(reason, cs.name, last, cs),
            ...(last.exitCode !== undefined ? { exitCode: last.exitCode } : {}),
            occurrenceId: `crash:${uid}:${cs.name}:${instance}`,
            instance,
            terminated: true,
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
        restartCount: 0,
        k8sTimestamp: fallbackTime(next),
        message: `Evicted: ${status.message ?? "pod was evicted"}`,
        occurrenceId: `evicted:${uid}`,
        terminated: true,
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
          restartCount: 0,
          k8sTimestamp: sched.lastTransitionTime ?? fallbackTime(next),
          message: `FailedScheduling: ${sched.message ?? "pod is unschedulable"}`,
          occurrenceId: `unsched:${uid}:${sched.lastTransitionTime ?? rv}`,
          terminated: false,
        }),
      );
    }
  }
  return out;
}

export function findCondition(conditions: ConditionJson[] | undefined, type: string): ConditionJson | undefined {
  return conditions?.find((c) => c.type === type);
}

/** Deployment ProgressDeadlineExceeded and Job BackoffLimitExceeded / DeadlineExceeded, on the transition. */
export function detectWorkload(kind: string, prev: ObjectJson | undefined, next: ObjectJson): Detection[] {
  const uid = next.metadata?.uid ?? "";
  const conds = (next.status?.["conditions"] ?? []) as ConditionJson[];
  const prevConds = (prev?.status?.["conditions"] ?? []) as ConditionJson[];
  const base = { container: "", restartCount: 0, terminated: false };
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
        }),
      ];
    }
  }
  if (kind === "Job") {
    const c = findCondition(conds, "Failed");
    const p = findCondition(prevConds, "Failed");
    if (c?.status === "True" && (c.reason === "BackoffLimitExceeded" || c.reason === "DeadlineExceeded") && p?.status !== "True") {
      return [
        detection({
          ...base,
          reason: c.reason,
          k8sTimestamp: c.lastTransitionTime ?? fallbackTime(next),
          message: `${c.reason}: ${c.message ?? "job failed"}`,
          occurrenceId: `job:${uid}:${c.reason}`,
        }),
      ];
    }
  }
  return [];
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

/**
 * Failures announced by Events. Unhealthy counts only from `unhealthyThreshold` repeats on; Evicted and
 * Job failures share their occurrence ids with the status-based detections so both count once.
 */
export function detectEvent(ev: EventFacts, unhealthyThreshold: number): Detection[] {
  if (ev.type === "DELETED") return [];
  const ts = eventTimestamp(ev);
  const isPod = ev.involved.kind === "Pod";
  const pod = isPod ? { podUid: ev.involved.uid, podName: ev.involved.name } : {};
  const container = containerFromFieldPath(ev.involved.fieldPath);
  const base = { k8sTimestamp: ts, restartCount: 0, terminated: false, ...pod };
  switch (ev.reason) {
    case "FailedScheduling":
      return [detection({ ...base, reason: "FailedScheduling", container: "", message: `FailedScheduling: ${ev.message}`, occurrenceId: `ev:${ev.uid}:${ev.count}` })];
    case "Unhealthy":
      if (ev.count < unhealthyThreshold) return [];
      return [detection({ ...base, reason: "Unhealthy", container, message: `Unhealthy (${ev.count}×): ${ev.message}`, occurrenceId: `ev:${ev.uid}:${ev.count}` })];
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

/** Pods stuck Pending or Terminating for longer than the thresholds, at source time `nowMs`. */
export function detectStuck(pod: ObjectJson, nowMs: number, pendingMs: number, terminatingMs: number): Detection[] {
  const uid = pod.metadata?.uid ?? "";
  const podName = pod.metadata?.name ?? "";
  const base = { container: "", podUid: uid, podName, restartCount: 0, terminated: false };
  const deletion = parseTime(pod.metadata?.deletionTimestamp);
  if (deletion !== undefined) {
    const grace = Number(pod.metadata?.["deletionGracePeriodSeconds"] ?? 0) * 1000;
    // deletionTimestamp is when the grace period ends, not when deletion began.
    if (nowMs - deletion >= terminatingMs) {
      return [
        detection({
          ...base,
          reason: "StuckTerminating",
          k8sTimestamp: isoTime(deletion),
          message: `StuckTerminating: pod ${podName} still terminating ${Math.round((nowMs - deletion + grace) / 1000)}s after deletion`,
          occurrenceId: `stuck-terminating:${uid}`,
        }),
      ];
    }
    return [];
  }
  const created = parseTime(pod.metadata?.creationTimestamp);
  if (podStatus(pod).phase === "Pending" && created !== undefined && nowMs - created >= pendingMs) {
    return [
      detection({
        ...base,
        reason: "StuckPending",
        k8sTimestamp: isoTime(created),
        message: `StuckPending: pod ${podName} pending for ${Math.round((nowMs - created) / 1000)}s`,
        occurrenceId: `stuck-pending:${uid}`,
      }),
    ];
  }
  return [];
}
