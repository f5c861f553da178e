// Job controller: runs pods until `completions` succeed (up to `parallelism` at once), fails the Job
// with BackoffLimitExceeded or DeadlineExceeded.
import type { KubeObject, SimClock, Store, StoreEvent } from "../types.js";
import type { EventRecorder } from "./events.js";
import { podFromTemplate } from "./pods.js";
import { T, controllerOf, isOwnedBy, key, podIsActive, podPhase, randSuffix, splitKey, workQueue, writeStatus } from "./util.js";

interface JobSpec {
  parallelism?: number;
  completions?: number;
  backoffLimit?: number;
  activeDeadlineSeconds?: number;
  suspend?: boolean;
  template?: { spec?: { restartPolicy?: string } };
}

export function createJobController(store: Store, clock: SimClock, events: EventRecorder): { stop(): void } {
  const q = workQueue(reconcile, "job-controller");
  const deadlines = new Map<string, () => void>();

  function reconcile(k: string) {
    const [ns, name] = splitKey(k);
    const jType = T.jobs(store);
    const job = store.get(jType, ns, name);
    if (!job || job.metadata.deletionTimestamp) return;
    const spec = job.spec as JobSpec;
    const prev = (job.status ?? {}) as { conditions?: { type: string; status: string }[]; startTime?: string; completionTime?: string };
    if (prev.conditions?.some((c) => (c.type === "Complete" || c.type === "Failed") && c.status === "True")) return;
    const pods = store.list(T.pods(store), ns).filter((p) => isOwnedBy(p, job));
    const active = pods.filter(podIsActive);
    const succeeded = pods.filter((p) => podPhase(p) === "Succeeded").length;
    const restarts = (p: KubeObject) => (((p.status as { containerStatuses?: { restartCount?: number }[] } | undefined)?.containerStatuses) ?? []).reduce((a, c) => a + (c.restartCount ?? 0), 0);
    const failed = pods.filter((p) => podPhase(p) === "Failed").length + pods.reduce((a, p) => a + restarts(p), 0);
    const completions = spec.completions ?? 1;
    const parallelism = spec.parallelism ?? 1;
    const now = clock.isoNow();
    const startTime = prev.startTime ?? now;
    const status: Record<string, unknown> = { startTime, active: active.length, succeeded, failed, ready: active.filter((p) => podPhase(p) === "Running").length, terminating: 0, uncountedTerminatedPods: {} };
    const finish = (type: "Complete" | "Failed", reason?: string, message?: string) => {
      const c = (t: string) => ({ type: t, status: "True", lastProbeTime: now, lastTransitionTime: now, ...(reason ? { reason, message } : {}) });
      for (const p of active) store.delete(T.pods(store), ns, p.metadata.name);
      status.active = 0;
      status.ready = 0;
      status.conditions = type === "Complete" ? [c("SuccessCriteriaMet"), c("Complete")] : [c("FailureTarget"), c("Failed")];
      if (type === "Complete") status.completionTime = now;
      deadlines.get(k)?.();
      deadlines.delete(k);
    };
    const deadlineMs = spec.activeDeadlineSeconds !== undefined ? spec.activeDeadlineSeconds * 1000 : undefined;
    if (succeeded >= completions) {
      finish("Complete");
      events.record(job, { reason: "Completed", message: "Job completed", component: "job-controller" });
    } else if (failed > (spec.backoffLimit ?? 6)) {
      finish("Failed", "BackoffLimitExceeded", "Job has reached the specified backoff limit");
      events.record(job, { type: "Warning", reason: "BackoffLimitExceeded", message: "Job has reached the specified backoff limit", component: "job-controller" });
    } else if (deadlineMs !== undefined && clock.now() - Date.parse(startTime) >= deadlineMs) {
      finish("Failed", "DeadlineExceeded", "Job was active longer than specified deadline");
      events.record(job, { type: "Warning", reason: "DeadlineExceeded", message: "Job was active longer than specified deadline", component: "job-controller" });
    } else if (!spec.suspend) {
      const want = Math.min(parallelism, completions - succeeded) - active.length;
      for (let i = 0; i < want; i++) {
        const labels = { "batch.kubernetes.io/controller-uid": job.metadata.uid, "batch.kubernetes.io/job-name": name, "controller-uid": job.metadata.uid, "job-name": name };
        const pod = store.create(T.pods(store), podFromTemplate(job, spec.template, `${name}-${randSuffix()}`, labels, { restartPolicy: spec.template?.spec?.restartPolicy ?? "Never" }));
        events.record(job, { reason: "SuccessfulCreate", message: `Created pod: ${pod.metadata.name}`, component: "job-controller" });
      }
      status.active = active.length + Math.max(0, want);
      if (deadlineMs !== undefined && !deadlines.has(k)) deadlines.set(k, clock.setTimeout(() => (deadlines.delete(k), q.add(k)), Math.max(1, Date.parse(startTime) + deadlineMs - clock.now())));
    }
    writeStatus(store, jType, job, status);
  }

  const unsubscribe = store.subscribe((ev: StoreEvent) => {
    const o = ev.object;
    if (o.kind === "Job" && ev.resource.group === "batch" && ev.type !== "DELETED") q.add(key(o.metadata.namespace, o.metadata.name));
    else if (o.kind === "Pod" && ev.resource.group === "") {
      const ref = controllerOf(o);
      if (ref?.kind === "Job") q.add(key(o.metadata.namespace, ref.name));
    }
  });
  return {
    stop() {
      unsubscribe();
      q.stop();
      for (const c of deadlines.values()) c();
      deadlines.clear();
    },
  };
}
