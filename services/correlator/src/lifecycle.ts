// Pod lifecycle transitions (scheduled, started, restarted, terminated, deleting, deleted) between two versions.
import type { ContainerTermination, LifecyclePayload, LifecycleWhat } from "@faro/contracts";
import { allContainerStatuses, isoTime, objectTimestamp, parseTime, podStatus, type ObjectJson } from "./k8s.js";

export interface LifecycleTransition {
  /** scheduled | phase | started | restarted | terminated | terminating | deleted (replaced: the processor's) */
  what: LifecycleWhat;
  /** Identity of the transition within its pod (the same whichever version revealed it). */
  key: string;
  container?: string;
  timestamp: string;
  summary: string;
  /** The story entry's payload (`what` and `container` included). */
  payload: LifecyclePayload;
}

/** A lifecycle payload: the fields `what` does not use stay at their default. */
export function lifecyclePayload(what: LifecycleWhat, fields: Partial<Omit<LifecyclePayload, "what">> = {}): LifecyclePayload {
  return {
    what,
    container: "",
    containerType: "",
    restartCount: 0,
    waiting: "",
    node: "",
    phase: "",
    previousPhase: "",
    deletionTimestamp: "",
    replacesPod: "",
    replacesPodUid: "",
    ...fields,
  };
}

// How a container instance ended, as far as its terminated state says.
function termination(t: { exitCode?: number; reason?: string; startedAt?: string; finishedAt?: string } | undefined): ContainerTermination {
  return { ...(t?.exitCode !== undefined ? { exitCode: t.exitCode } : {}), reason: t?.reason ?? "", startedAt: t?.startedAt ?? "", finishedAt: t?.finishedAt ?? "" };
}

/**
 * The transitions from `prev` (undefined when first seen) to `next`; `deleted` when the watch said DELETED,
 * `changeAtMs` the cluster's time of that change (its DELETED change's time in the story).
 */
export function podLifecycle(prev: ObjectJson | undefined, next: ObjectJson, deleted: boolean, changeAtMs?: number): LifecycleTransition[] {
  const out: LifecycleTransition[] = [];
  const name = next.metadata?.name ?? "";
  const fallback = isoTime(objectTimestamp(next) ?? 0);
  const nodeName = (next.spec?.["nodeName"] as string | undefined) ?? "";
  const prevNode = (prev?.spec?.["nodeName"] as string | undefined) ?? "";
  if (nodeName && !prevNode) {
    const cond = podStatus(next).conditions?.find((c) => c.type === "PodScheduled");
    out.push({ what: "scheduled", key: "scheduled", timestamp: cond?.lastTransitionTime ?? fallback, summary: `pod ${name} scheduled to ${nodeName}`, payload: lifecyclePayload("scheduled", { node: nodeName }) });
  }
  const phase = podStatus(next).phase;
  const prevPhase = podStatus(prev).phase;
  if (phase && phase !== prevPhase) {
    out.push({ what: "phase", key: `phase:${phase}`, timestamp: fallback, summary: `pod ${name} is ${phase}`, payload: lifecyclePayload("phase", { phase, previousPhase: prevPhase ?? "" }) });
  }
  const before = new Map(allContainerStatuses(prev).map((c) => [`${c.type}/${c.status.name}`, c.status]));
  for (const { type, status: cs } of allContainerStatuses(next)) {
    const p = before.get(`${type}/${cs.name}`);
    const restarts = cs.restartCount ?? 0;
    if (p && restarts > (p.restartCount ?? 0)) {
      const t = cs.lastState?.terminated;
      // Every restart since the previous version; only the latest one's termination is in the status.
      for (let k = (p.restartCount ?? 0) + 1; k <= restarts; k++) {
        const latest = k === restarts;
        out.push({
          what: "restarted",
          key: `restarted:${type}/${cs.name}:${k}`,
          container: cs.name,
          timestamp: (latest ? t?.finishedAt : undefined) ?? fallback,
          summary: latest
            ? `container ${cs.name} restarted (restart ${k}, exit code ${t?.exitCode ?? "?"}${t?.reason ? `, ${t.reason}` : ""})`
            : `container ${cs.name} restarted (restart ${k})`,
          // Only the latest restart's termination is in the status.
          payload: lifecyclePayload("restarted", {
            container: cs.name,
            containerType: type,
            restartCount: k,
            ...(latest ? { termination: termination(t), waiting: cs.state?.waiting?.reason ?? "" } : {}),
          }),
        });
      }
    }
    const started = cs.state?.running?.startedAt;
    if (started && started !== p?.state?.running?.startedAt) {
      out.push({
        what: "started",
        key: `started:${type}/${cs.name}:${restarts}`,
        container: cs.name,
        timestamp: started,
        summary: `container ${cs.name} started`,
        payload: lifecyclePayload("started", { container: cs.name, containerType: type, restartCount: restarts }),
      });
    }
    const term = cs.state?.terminated;
    if (term && !p?.state?.terminated) {
      out.push({
        what: "terminated",
        key: `terminated:${type}/${cs.name}:${restarts}`,
        container: cs.name,
        timestamp: term.finishedAt ?? fallback,
        summary: `container ${cs.name} terminated (exit code ${term.exitCode ?? "?"}${term.reason ? `, ${term.reason}` : ""})`,
        payload: lifecyclePayload("terminated", { container: cs.name, containerType: type, restartCount: restarts, termination: termination(term) }),
      });
    }
  }
  const deletion = next.metadata?.deletionTimestamp;
  const deletionMs = parseTime(deletion);
  if (deletion && !prev?.metadata?.deletionTimestamp && !deleted) {
    // deletionTimestamp is the end of the grace period: the request was made the grace period earlier.
    const grace = Number(next.metadata?.["deletionGracePeriodSeconds"] ?? NaN);
    const requested = deletionMs !== undefined && Number.isFinite(grace) ? isoTime(deletionMs - grace * 1000) : fallback;
    out.push({ what: "terminating", key: "terminating", timestamp: requested, summary: `pod ${name} is terminating (grace period ends ${deletion})`, payload: lifecyclePayload("terminating", { deletionTimestamp: deletion }) });
  }
  if (deleted) {
    // The DELETED change's own time, never later than the end of the grace period (the kubelet removes the
    // pod by then) nor earlier than the newest time in the object.
    let at = changeAtMs ?? objectTimestamp(next) ?? 0;
    if (deletionMs !== undefined && !next.metadata?.["finalizers"]) at = Math.min(at, Math.max(deletionMs, objectTimestamp(next) ?? 0));
    out.push({ what: "deleted", key: "deleted", timestamp: isoTime(at), summary: `pod ${name} deleted`, payload: lifecyclePayload("deleted", deletion ? { deletionTimestamp: deletion } : {}) });
  }
  return out;
}
