// Pod lifecycle transitions (scheduled, started, restarted, terminated, deleting, deleted) between two versions.
import { allContainerStatuses, isoTime, objectTimestamp, podStatus, type ObjectJson } from "./k8s.js";

export interface LifecycleTransition {
  /** scheduled | phase | started | restarted | terminated | terminating | deleted */
  what: string;
  /** Identity of the transition within its pod (the same whichever version revealed it). */
  key: string;
  container?: string;
  timestamp: string;
  summary: string;
  details: Record<string, unknown>;
}

// Start and finish of a terminated container instance, when the status has them.
function times(t: { startedAt?: string; finishedAt?: string } | undefined): Record<string, string> {
  return { ...(t?.startedAt ? { startedAt: t.startedAt } : {}), ...(t?.finishedAt ? { finishedAt: t.finishedAt } : {}) };
}

/** The transitions from `prev` (undefined when first seen) to `next`; `deleted` when the watch said DELETED. */
export function podLifecycle(prev: ObjectJson | undefined, next: ObjectJson, deleted: boolean): LifecycleTransition[] {
  const out: LifecycleTransition[] = [];
  const name = next.metadata?.name ?? "";
  const fallback = isoTime(objectTimestamp(next) ?? 0);
  const nodeName = (next.spec?.["nodeName"] as string | undefined) ?? "";
  const prevNode = (prev?.spec?.["nodeName"] as string | undefined) ?? "";
  if (nodeName && !prevNode) {
    const cond = podStatus(next).conditions?.find((c) => c.type === "PodScheduled");
    out.push({ what: "scheduled", key: "scheduled", timestamp: cond?.lastTransitionTime ?? fallback, summary: `pod ${name} scheduled to ${nodeName}`, details: { node: nodeName } });
  }
  const phase = podStatus(next).phase;
  const prevPhase = podStatus(prev).phase;
  if (phase && phase !== prevPhase) {
    out.push({ what: "phase", key: `phase:${phase}`, timestamp: fallback, summary: `pod ${name} is ${phase}`, details: { phase, previous: prevPhase ?? null } });
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
          details: latest
            ? { containerType: type, restartCount: k, exitCode: t?.exitCode ?? null, reason: t?.reason ?? null, waiting: cs.state?.waiting?.reason ?? null, ...times(t) }
            : { containerType: type, restartCount: k },
        });
      }
    }
    const started = cs.state?.running?.startedAt;
    if (started && started !== p?.state?.running?.startedAt) {
      out.push({ what: "started", key: `started:${type}/${cs.name}:${restarts}`, container: cs.name, timestamp: started, summary: `container ${cs.name} started`, details: { containerType: type, restartCount: restarts } });
    }
    const term = cs.state?.terminated;
    if (term && !p?.state?.terminated) {
      out.push({
        what: "terminated",
        key: `terminated:${type}/${cs.name}:${restarts}`,
        container: cs.name,
        timestamp: term.finishedAt ?? fallback,
        summary: `container ${cs.name} terminated (exit code ${term.exitCode ?? "?"}${term.reason ? `, ${term.reason}` : ""})`,
        details: { containerType: type, restartCount: restarts, exitCode: term.exitCode ?? null, reason: term.reason ?? null, ...times(term) },
      });
    }
  }
  const deletion = next.metadata?.deletionTimestamp;
  if (deletion && !prev?.metadata?.deletionTimestamp && !deleted) {
    out.push({ what: "terminating", key: "terminating", timestamp: fallback, summary: `pod ${name} is terminating (grace period ends ${deletion})`, details: { deletionTimestamp: deletion } });
  }
  if (deleted) out.push({ what: "deleted", key: "deleted", timestamp: fallback, summary: `pod ${name} deleted`, details: {} });
  return out;
}
