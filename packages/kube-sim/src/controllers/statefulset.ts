// StatefulSet controller: pods `<sts>-0..N-1` created in order (OrderedReady) or at once (Parallel),
// recreated with the same name, rolled from the highest ordinal on template change.
import type { Store, StoreEvent } from "../types.js";
import type { EventRecorder } from "./events.js";
import { podFromTemplate } from "./pods.js";
import { T, controllerOf, isOwnedBy, key, podIsActive, podIsReady, splitKey, templateHash, workQueue, writeStatus } from "./util.js";

export function createStatefulSetController(store: Store, events: EventRecorder): { stop(): void } {
  const q = workQueue(reconcile, "statefulset-controller");

  function reconcile(k: string) {
    const [ns, name] = splitKey(k);
    const sType = T.statefulsets(store);
    const sts = store.get(sType, ns, name);
    if (!sts || sts.metadata.deletionTimestamp) return;
    const spec = sts.spec as { replicas?: number; template?: unknown; podManagementPolicy?: string };
    const want = spec.replicas ?? 1;
    const rev = `${name}-${templateHash(spec.template)}`;
    const parallel = spec.podManagementPolicy === "Parallel";
    const pods = store.list(T.pods(store), ns).filter((p) => isOwnedBy(p, sts));
    const byOrd = new Map(pods.map((p) => [Number(p.metadata.name.slice(name.length + 1)), p]));
    const record = (verb: string, pod: string) =>
      events.record(sts, { reason: `Successful${verb === "create" ? "Create" : "Delete"}`, message: `${verb} Pod ${pod} in StatefulSet ${name} successful`, component: "statefulset-controller" });
    for (let i = 0; i < want; i++) {
      const p = byOrd.get(i);
      if (!p) {
        const podName = `${name}-${i}`;
        // same name as a pod still terminating: wait for it to go
        if (store.get(T.pods(store), ns, podName)) break;
        store.create(
          T.pods(store),
          podFromTemplate(sts, spec.template, podName, { "statefulset.kubernetes.io/pod-name": podName, "apps.kubernetes.io/pod-index": String(i), "controller-revision-hash": rev }, { hostname: podName }),
        );
        record("create", podName);
        if (!parallel) break;
      } else if (!parallel && !(podIsActive(p) && podIsReady(p))) break;
    }
    for (const [i, p] of byOrd) {
      if (i >= want && podIsActive(p)) {
        store.delete(T.pods(store), ns, p.metadata.name);
        record("delete", p.metadata.name);
      }
    }
    // rolling update: replace the highest outdated ordinal once all pods are ready
    const current = [...byOrd].filter(([i]) => i < want).map(([, p]) => p);
    const outdated = current.filter((p) => p.metadata.labels?.["controller-revision-hash"] !== rev && podIsActive(p));
    if (outdated.length && current.length === want && current.every((p) => podIsActive(p) && podIsReady(p))) {
      const victim = outdated.sort((a, b) => b.metadata.name.localeCompare(a.metadata.name, undefined, { numeric: true }))[0]!;
      store.delete(T.pods(store), ns, victim.metadata.name);
      record("delete", victim.metadata.name);
    }
    const live = store.list(T.pods(store), ns).filter((p) => isOwnedBy(p, sts) && podIsActive(p));
    const updated = live.filter((p) => p.metadata.labels?.["controller-revision-hash"] === rev).length;
    const ready = live.filter(podIsReady).length;
    const prevStatus = (sts.status ?? {}) as { currentRevision?: string };
    writeStatus(store, sType, sts, {
      observedGeneration: sts.metadata.generation ?? 1,
      replicas: live.length,
      readyReplicas: ready,
      availableReplicas: ready,
      currentReplicas: updated === want ? updated : live.length - updated,
      updatedReplicas: updated,
      currentRevision: updated === want && ready === want ? rev : (prevStatus.currentRevision ?? rev),
      updateRevision: rev,
      collisionCount: 0,
    });
  }

  const unsubscribe = store.subscribe((ev: StoreEvent) => {
    const o = ev.object;
    if (o.kind === "StatefulSet" && ev.type !== "DELETED") q.add(key(o.metadata.namespace, o.metadata.name));
    else if (o.kind === "Pod" && ev.resource.group === "") {
      const ref = controllerOf(o);
      if (ref?.kind === "StatefulSet") q.add(key(o.metadata.namespace, ref.name));
    }
  });
  return {
    stop() {
      unsubscribe();
      q.stop();
    },
  };
}
