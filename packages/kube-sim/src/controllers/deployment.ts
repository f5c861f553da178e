// Deployment controller: one ReplicaSet per pod template (`<deploy>-<pod-template-hash>`), rolling
// updates within maxSurge/maxUnavailable, scaling, ScalingReplicaSet events and the status that
// `kubectl rollout status` reads (including ProgressDeadlineExceeded).
import type { KubeObject, SimClock, Store, StoreEvent } from "../types.js";
import type { EventRecorder } from "./events.js";
import { T, clone, controllerOf, intOrPercent, isOwnedBy, key, ownerRef, splitKey, templateHash, workQueue, writeStatus } from "./util.js";

interface DeploySpec {
  replicas?: number;
  selector?: { matchLabels?: Record<string, string> };
  template?: { metadata?: { labels?: Record<string, string>; annotations?: Record<string, string> }; spec?: unknown };
  strategy?: { type?: string; rollingUpdate?: { maxSurge?: number | string; maxUnavailable?: number | string } };
  progressDeadlineSeconds?: number;
  paused?: boolean;
  revisionHistoryLimit?: number;
}
interface RsStatus {
  replicas?: number;
  readyReplicas?: number;
  availableReplicas?: number;
}
interface Cond {
  type: string;
  status: string;
  reason: string;
  message: string;
  lastUpdateTime: string;
  lastTransitionTime: string;
}

const REV = "deployment.kubernetes.io/revision";

export function createDeploymentController(store: Store, clock: SimClock, events: EventRecorder): { stop(): void } {
  const q = workQueue(reconcile, "deployment-controller");
  const deadlines = new Map<string, () => void>();
  /** sim time of the last progress per deployment uid */
  const progressAt = new Map<string, { at: number; sig: string }>();

  function reconcile(k: string) {
    const [ns, name] = splitKey(k);
    const dType = T.deployments(store);
    const rsType = T.replicasets(store);
    const d = store.get(dType, ns, name);
    if (!d) {
      deadlines.get(k)?.();
      deadlines.delete(k);
      return;
    }
    if (d.metadata.deletionTimestamp) return;
    const spec = d.spec as DeploySpec;
    const desired = spec.replicas ?? 1;
    const hash = templateHash(spec.template);
    const owned = store.list(rsType, ns).filter((rs) => isOwnedBy(rs, d));
    let newRS = owned.find((rs) => rs.metadata.labels?.["pod-template-hash"] === hash);
    const olds = owned.filter((rs) => rs !== newRS);
    const maxRev = Math.max(0, ...owned.map((rs) => Number(rs.metadata.annotations?.[REV] ?? 0)));
    const replicasOf = (rs: KubeObject) => (rs.spec as { replicas?: number }).replicas ?? 0;
    const recreate = spec.strategy?.type === "Recreate";
    let maxSurge = recreate ? 0 : intOrPercent(spec.strategy?.rollingUpdate?.maxSurge, desired, true, "25%");
    let maxUnavailable = recreate ? desired : intOrPercent(spec.strategy?.rollingUpdate?.maxUnavailable, desired, false, "25%");
    if (maxSurge === 0 && maxUnavailable === 0) maxUnavailable = 1;
    maxSurge = Math.max(0, maxSurge);
    maxUnavailable = Math.max(0, Math.min(maxUnavailable, desired));
    let created = false;

    const scale = (rs: KubeObject, to: number) => {
      const from = replicasOf(rs);
      if (from === to) return rs;
      const ann = { ...(rs.metadata.annotations ?? {}), "deployment.kubernetes.io/desired-replicas": String(desired), "deployment.kubernetes.io/max-replicas": String(desired + maxSurge) };
      const updated = store.update(rsType, { ...rs, metadata: { ...rs.metadata, annotations: ann }, spec: { ...(rs.spec as object), replicas: to } });
      events.record(d, {
        reason: "ScalingReplicaSet",
        message: `Scaled ${to > from ? "up" : "down"} replica set ${rs.metadata.name} from ${from} to ${to}`,
        component: "deployment-controller",
      });
      return updated;
    };

    if (!spec.paused) {
      if (!newRS) {
        const tmpl = clone(spec.template ?? {});
        tmpl.metadata = { ...(tmpl.metadata ?? {}), labels: { ...(tmpl.metadata?.labels ?? {}), "pod-template-hash": hash } };
        const oldTotal = olds.reduce((a, rs) => a + replicasOf(rs), 0);
        const initial = olds.length === 0 || oldTotal === 0 ? desired : recreate ? 0 : Math.max(0, Math.min(desired, desired + maxSurge - oldTotal));
        newRS = store.create(rsType, {
          apiVersion: "apps/v1",
          kind: "ReplicaSet",
          metadata: {
            name: `${name}-${hash}`,
            namespace: ns,
            labels: { ...(spec.template?.metadata?.labels ?? {}), "pod-template-hash": hash },
            annotations: { [REV]: String(maxRev + 1), "deployment.kubernetes.io/desired-replicas": String(desired), "deployment.kubernetes.io/max-replicas": String(desired + maxSurge) },
            ownerReferences: [ownerRef(d)],
          },
          spec: { replicas: 0, minReadySeconds: 0, selector: { matchLabels: { ...(spec.selector?.matchLabels ?? {}), "pod-template-hash": hash } }, template: tmpl },
        });
        created = true;
        if (initial > 0) newRS = scale(newRS, initial);
      } else {
        if (Number(newRS.metadata.annotations?.[REV] ?? 0) < maxRev) {
          // rolled back to an older template: it becomes the newest revision
          newRS = store.update(rsType, { ...newRS, metadata: { ...newRS.metadata, annotations: { ...(newRS.metadata.annotations ?? {}), [REV]: String(maxRev + 1) } } });
        }
        const activeOlds = olds.filter((rs) => replicasOf(rs) > 0);
        if (activeOlds.length === 0) newRS = scale(newRS, desired);
        else if (recreate) {
          for (const rs of activeOlds) scale(rs, 0);
        } else {
          // rolling update: scale up the new RS within maxSurge…
          const total = owned.reduce((a, rs) => a + replicasOf(rs), 0);
          const newCount = replicasOf(newRS);
          if (newCount > desired) newRS = scale(newRS, desired);
          else if (total < desired + maxSurge && newCount < desired) newRS = scale(newRS, Math.min(desired, newCount + (desired + maxSurge - total)));
          // …and the old ones down while at least desired - maxUnavailable pods stay available
          const available = owned.reduce((a, rs) => a + ((rs.status as RsStatus | undefined)?.availableReplicas ?? 0), 0);
          let canRemove = available - (desired - maxUnavailable);
          // pods of old sets that are not available cost nothing to remove
          for (const rs of activeOlds) {
            const unhealthy = replicasOf(rs) - ((rs.status as RsStatus | undefined)?.availableReplicas ?? 0);
            if (unhealthy > 0) {
              scale(rs, replicasOf(rs) - unhealthy);
              rs.spec = { ...(rs.spec as object), replicas: replicasOf(rs) - unhealthy };
            }
          }
          for (const rs of activeOlds.sort((a, b) => a.metadata.creationTimestamp.localeCompare(b.metadata.creationTimestamp))) {
            if (canRemove <= 0) break;
            const n = Math.min(canRemove, replicasOf(rs));
            if (n > 0) {
              scale(rs, replicasOf(rs) - n);
              canRemove -= n;
            }
          }
        }
      }
    }
    if (d.metadata.annotations?.[REV] !== newRS!.metadata.annotations?.[REV]) {
      const cur = store.get(dType, ns, name)!;
      store.update(dType, { ...cur, metadata: { ...cur.metadata, annotations: { ...(cur.metadata.annotations ?? {}), [REV]: newRS!.metadata.annotations?.[REV] ?? "1" } } });
    }
    cleanupHistory(d, spec.revisionHistoryLimit ?? 10);
    updateStatus(k, d, newRS!, created, maxUnavailable);
  }

  function cleanupHistory(d: KubeObject, limit: number) {
    const rsType = T.replicasets(store);
    const hash = templateHash((d.spec as DeploySpec).template);
    const old = store
      .list(rsType, d.metadata.namespace)
      .filter((rs) => isOwnedBy(rs, d) && rs.metadata.labels?.["pod-template-hash"] !== hash && ((rs.spec as { replicas?: number }).replicas ?? 0) === 0 && ((rs.status as RsStatus | undefined)?.replicas ?? 0) === 0)
      .sort((a, b) => Number(a.metadata.annotations?.[REV] ?? 0) - Number(b.metadata.annotations?.[REV] ?? 0));
    for (const rs of old.slice(0, Math.max(0, old.length - limit))) store.delete(rsType, rs.metadata.namespace, rs.metadata.name);
  }

  function updateStatus(k: string, dIn: KubeObject, newRS: KubeObject, created: boolean, maxUnavailable: number) {
    const dType = T.deployments(store);
    const d = store.get(dType, dIn.metadata.namespace, dIn.metadata.name);
    if (!d) return;
    const spec = d.spec as DeploySpec;
    const desired = spec.replicas ?? 1;
    const all = store.list(T.replicasets(store), d.metadata.namespace).filter((rs) => isOwnedBy(rs, d));
    const st = (rs: KubeObject) => (rs.status as RsStatus | undefined) ?? {};
    const nrs = all.find((rs) => rs.metadata.uid === newRS.metadata.uid) ?? newRS;
    const replicas = all.reduce((a, rs) => a + (st(rs).replicas ?? 0), 0);
    const ready = all.reduce((a, rs) => a + (st(rs).readyReplicas ?? 0), 0);
    const available = all.reduce((a, rs) => a + (st(rs).availableReplicas ?? 0), 0);
    const updated = st(nrs).replicas ?? 0;
    const now = clock.isoNow();
    const prevConds = ((d.status as { conditions?: Cond[] } | undefined)?.conditions) ?? [];
    const cond = (type: string, status: string, reason: string, message: string): Cond => {
      const prev = prevConds.find((c) => c.type === type);
      const same = prev && prev.status === status && prev.reason === reason && prev.message === message;
      return {
        type,
        status,
        reason,
        message,
        lastUpdateTime: same ? prev.lastUpdateTime : now,
        lastTransitionTime: prev && prev.status === status ? prev.lastTransitionTime : now,
      };
    };
    const minAvailable = desired - maxUnavailable;
    const availableCond =
      available >= minAvailable
        ? cond("Available", "True", "MinimumReplicasAvailable", "Deployment has minimum availability.")
        : cond("Available", "False", "MinimumReplicasUnavailable", "Deployment does not have minimum availability.");
    const complete = updated === desired && replicas === desired && available === desired && (st(nrs).availableReplicas ?? 0) === desired;
    const sig = `${updated}/${replicas}/${available}/${ready}/${nrs.metadata.uid}`;
    const prog = progressAt.get(d.metadata.uid);
    if (!prog || prog.sig !== sig) progressAt.set(d.metadata.uid, { at: clock.now(), sig });
    const lastProgress = progressAt.get(d.metadata.uid)!.at;
    const deadlineMs = (spec.progressDeadlineSeconds ?? 600) * 1000;
    const prevProg = prevConds.find((c) => c.type === "Progressing");
    let progressing: Cond;
    deadlines.get(k)?.();
    deadlines.delete(k);
    if (complete) progressing = cond("Progressing", "True", "NewReplicaSetAvailable", `ReplicaSet "${nrs.metadata.name}" has successfully progressed.`);
    else if (prevProg?.reason === "ProgressDeadlineExceeded" && prog?.sig === sig) progressing = prevProg;
    else if (clock.now() - lastProgress >= deadlineMs && !spec.paused)
      progressing = cond("Progressing", "False", "ProgressDeadlineExceeded", `ReplicaSet "${nrs.metadata.name}" has timed out progressing.`);
    else {
      progressing = created
        ? cond("Progressing", "True", "NewReplicaSetCreated", `Created new replica set "${nrs.metadata.name}"`)
        : cond("Progressing", "True", "ReplicaSetUpdated", `ReplicaSet "${nrs.metadata.name}" is progressing.`);
      if (prevProg?.reason === "NewReplicaSetCreated" && prevProg.message === progressing.message) progressing = prevProg;
      if (!spec.paused) deadlines.set(k, clock.setTimeout(() => (deadlines.delete(k), q.add(k)), Math.max(1, lastProgress + deadlineMs - clock.now())));
    }
    const status: Record<string, unknown> = {
      observedGeneration: d.metadata.generation ?? 1,
      replicas,
      updatedReplicas: updated,
      readyReplicas: ready,
      availableReplicas: available,
      conditions: [availableCond, progressing],
    };
    if (desired - available > 0) status.unavailableReplicas = desired - available;
    writeStatus(store, dType, d, status);
  }

  const unsubscribe = store.subscribe((ev: StoreEvent) => {
    const o = ev.object;
    if (o.kind === "Deployment" && ev.resource.group === "apps") q.add(key(o.metadata.namespace, o.metadata.name));
    else if (o.kind === "ReplicaSet") {
      const ref = controllerOf(o);
      if (ref?.kind === "Deployment") q.add(key(o.metadata.namespace, ref.name));
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
