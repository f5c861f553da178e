// CronJob controller: creates Jobs `<cronjob>-<minutes since epoch>` on schedule in simulated time and
// prunes finished ones beyond the history limits.
import type { KubeObject, SimClock, Store, StoreEvent } from "../types.js";
import { parseCron } from "./cron.js";
import type { EventRecorder } from "./events.js";
import { T, clone, isOwnedBy, key, ownerRef, reportError, splitKey, workQueue, writeStatus } from "./util.js";

interface CronSpec {
  schedule: string;
  suspend?: boolean;
  concurrencyPolicy?: string;
  successfulJobsHistoryLimit?: number;
  failedJobsHistoryLimit?: number;
  jobTemplate?: { metadata?: { labels?: Record<string, string>; annotations?: Record<string, string> }; spec?: Record<string, unknown> };
}

export function createCronJobController(store: Store, clock: SimClock, events: EventRecorder): { stop(): void } {
  const timers = new Map<string, { schedule: string; cancel: () => void }>();
  const q = workQueue(reconcile, "cronjob-controller");

  const finished = (j: KubeObject) => (((j.status as { conditions?: { type: string; status: string }[] } | undefined)?.conditions) ?? []).find((c) => (c.type === "Complete" || c.type === "Failed") && c.status === "True")?.type;

  function reconcile(k: string) {
    const [ns, name] = splitKey(k);
    const cj = store.get(T.cronjobs(store), ns, name);
    if (!cj) {
      timers.get(k)?.cancel();
      timers.delete(k);
      return;
    }
    const spec = cj.spec as CronSpec;
    const jobs = store.list(T.jobs(store), ns).filter((j) => isOwnedBy(j, cj));
    const active = jobs.filter((j) => !finished(j));
    // history limits
    for (const [kind, limit] of [["Complete", spec.successfulJobsHistoryLimit ?? 3], ["Failed", spec.failedJobsHistoryLimit ?? 1]] as const) {
      const done = jobs.filter((j) => finished(j) === kind).sort((a, b) => a.metadata.creationTimestamp.localeCompare(b.metadata.creationTimestamp) || a.metadata.name.localeCompare(b.metadata.name));
      for (const j of done.slice(0, Math.max(0, done.length - limit))) {
        store.delete(T.jobs(store), ns, j.metadata.name, { propagationPolicy: "Background" });
        events.record(cj, { reason: "SuccessfulDelete", message: `Deleted job ${j.metadata.name}`, component: "cronjob-controller" });
      }
    }
    const prev = (cj.status ?? {}) as Record<string, unknown>;
    const status: Record<string, unknown> = { ...prev, active: active.map((j) => ({ kind: "Job", namespace: ns, name: j.metadata.name, uid: j.metadata.uid, apiVersion: "batch/v1" })) };
    if (!status.active || (status.active as unknown[]).length === 0) delete status.active;
    writeStatus(store, T.cronjobs(store), cj, status);
    const t = timers.get(k);
    if (!t || t.schedule !== spec.schedule) {
      t?.cancel();
      arm(k, spec.schedule);
    }
  }

  function arm(k: string, schedule: string) {
    let next: number | undefined;
    try {
      next = parseCron(schedule).next(clock.now());
    } catch (err) {
      reportError("cronjob-controller", err);
      return;
    }
    if (next === undefined) return;
    const at = next;
    timers.set(k, { schedule, cancel: clock.setTimeout(() => fire(k, at), at - clock.now()) });
  }

  function fire(k: string, at: number) {
    timers.delete(k);
    const [ns, name] = splitKey(k);
    try {
      const cj = store.get(T.cronjobs(store), ns, name);
      if (!cj) return;
      const spec = cj.spec as CronSpec;
      const active = store.list(T.jobs(store), ns).filter((j) => isOwnedBy(j, cj) && !finished(j));
      if (!spec.suspend && !(spec.concurrencyPolicy === "Forbid" && active.length > 0)) {
        if (spec.concurrencyPolicy === "Replace") for (const j of active) store.delete(T.jobs(store), ns, j.metadata.name, { propagationPolicy: "Background" });
        const jobName = `${name}-${Math.floor(at / 60_000)}`;
        const tmpl = clone(spec.jobTemplate ?? {});
        store.create(T.jobs(store), {
          apiVersion: "batch/v1",
          kind: "Job",
          metadata: { name: jobName, namespace: ns, labels: tmpl.metadata?.labels ?? {}, annotations: { ...(tmpl.metadata?.annotations ?? {}), "batch.kubernetes.io/cronjob-scheduled-timestamp": new Date(at).toISOString().replace(".000Z", "Z") }, ownerReferences: [ownerRef(cj)] },
          spec: tmpl.spec ?? {},
        });
        events.record(cj, { reason: "SuccessfulCreate", message: `Created job ${jobName}`, component: "cronjob-controller" });
        const cur = store.get(T.cronjobs(store), ns, name);
        if (cur) writeStatus(store, T.cronjobs(store), cur, { ...((cur.status as object) ?? {}), lastScheduleTime: new Date(at).toISOString().replace(".000Z", "Z") });
      }
      arm(k, spec.schedule);
    } catch (err) {
      reportError("cronjob-controller", err);
    }
  }

  const unsubscribe = store.subscribe((ev: StoreEvent) => {
    const o = ev.object;
    if (o.kind === "CronJob" && ev.resource.group === "batch") q.add(key(o.metadata.namespace, o.metadata.name));
    else if (o.kind === "Job" && ev.resource.group === "batch") {
      const ref = o.metadata.ownerReferences?.find((r) => r.controller && r.kind === "CronJob");
      if (ref) q.add(key(o.metadata.namespace, ref.name));
    }
  });
  return {
    stop() {
      unsubscribe();
      q.stop();
      for (const t of timers.values()) t.cancel();
      timers.clear();
    },
  };
}
