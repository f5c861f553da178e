// ReplicaSet controller: keeps `replicas` active pods `<rs>-<5 chars>`, replaces deleted or failed
// ones, and reports replicas/ready/available in status.
import type { KubeObject, Store, StoreEvent } from "../types.js";
import type { EventRecorder } from "./events.js";
import { podFromTemplate } from "./pods.js";
import { T, controllerOf, isOwnedBy, key, podIsActive, podIsReady, randSuffix, splitKey, workQueue, writeStatus } from "./util.js";

export function createReplicaSetController(store: Store, events: EventRecorder): { stop(): void } {
  const q = workQueue(reconcile, "replicaset-controller");

  function reconcile(k: string) {
    const [ns, name] = splitKey(k);
    const rsType = T.replicasets(store);
    const rs = store.get(rsType, ns, name);
    if (!rs || rs.metadata.deletionTimestamp) return;
    const pods = store.list(T.pods(store), ns).filter((p) => isOwnedBy(p, rs));
    const active = pods.filter(podIsActive);
    const spec = rs.spec as { replicas?: number; template?: unknown };
    const want = spec.replicas ?? 1;
    if (active.length < want) {
      for (let i = active.length; i < want; i++) {
        const pod = store.create(T.pods(store), podFromTemplate(rs, spec.template, `${name}-${randSuffix()}`));
        events.record(rs, { reason: "SuccessfulCreate", message: `Created pod: ${pod.metadata.name}`, component: "replicaset-controller" });
      }
    } else if (active.length > want) {
      // delete the least useful first: unscheduled, then not ready, then newest
      const rank = (p: KubeObject) => ((p.spec as { nodeName?: string }).nodeName ? 0 : 2) + (podIsReady(p) ? 0 : 1);
      const victims = [...active].sort((a, b) => rank(b) - rank(a) || b.metadata.creationTimestamp.localeCompare(a.metadata.creationTimestamp)).slice(0, active.length - want);
      for (const p of victims) {
        store.delete(T.pods(store), ns, p.metadata.name);
        events.record(rs, { reason: "SuccessfulDelete", message: `Deleted pod: ${p.metadata.name}`, component: "replicaset-controller" });
      }
    }
    const now = store.list(T.pods(store), ns).filter((p) => isOwnedBy(p, rs) && podIsActive(p));
    const ready = now.filter(podIsReady).length;
    const status: Record<string, unknown> = {
      replicas: now.length,
      fullyLabeledReplicas: now.length,
      readyReplicas: ready,
      availableReplicas: ready,
      observedGeneration: rs.metadata.generation ?? 1,
    };
    writeStatus(store, rsType, rs, status);
  }

  const unsubscribe = store.subscribe((ev: StoreEvent) => {
    const o = ev.object;
    if (o.kind === "ReplicaSet" && ev.type !== "DELETED") q.add(key(o.metadata.namespace, o.metadata.name));
    else if (o.kind === "Pod" && ev.resource.group === "") {
      const ref = controllerOf(o);
      if (ref?.kind === "ReplicaSet") q.add(key(o.metadata.namespace, ref.name));
    }
  });
  return {
    stop() {
      unsubscribe();
      q.stop();
    },
  };
}
