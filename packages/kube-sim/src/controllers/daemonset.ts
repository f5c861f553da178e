// DaemonSet controller: one pod per matching node, pinned through node affinity so the scheduler
// binds it (with its Scheduled event), replaced one at a time on template change.
import type { KubeObject, Store, StoreEvent } from "../types.js";
import type { EventRecorder } from "./events.js";
import { podFromTemplate } from "./pods.js";
import { T, controllerOf, isOwnedBy, key, podIsActive, podIsReady, randSuffix, splitKey, templateHash, workQueue, writeStatus } from "./util.js";

export function createDaemonSetController(store: Store, events: EventRecorder): { stop(): void } {
  const q = workQueue(reconcile, "daemonset-controller");

  const targetNode = (p: KubeObject) =>
    (p.spec as { affinity?: { nodeAffinity?: { requiredDuringSchedulingIgnoredDuringExecution?: { nodeSelectorTerms?: { matchFields?: { values?: string[] }[] }[] } } } })
      .affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms?.[0]?.matchFields?.[0]?.values?.[0];

  function reconcile(k: string) {
    const [ns, name] = splitKey(k);
    const dsType = T.daemonsets(store);
    const ds = store.get(dsType, ns, name);
    if (!ds || ds.metadata.deletionTimestamp) return;
    const spec = ds.spec as { template?: { spec?: { nodeSelector?: Record<string, string> } } };
    const hash = templateHash(spec.template);
    const sel = spec.template?.spec?.nodeSelector ?? {};
    const nodes = store.list(T.nodes(store)).filter((n) => Object.entries(sel).every(([a, b]) => n.metadata.labels?.[a] === b));
    const pods = store.list(T.pods(store), ns).filter((p) => isOwnedBy(p, ds) && podIsActive(p));
    let replacing = false;
    for (const node of nodes) {
      const nodeName = node.metadata.name;
      const mine = pods.filter((p) => targetNode(p) === nodeName);
      if (mine.length === 0) {
        const podName = `${name}-${randSuffix()}`;
        store.create(
          T.pods(store),
          podFromTemplate(ds, spec.template, podName, { "controller-revision-hash": hash, "pod-template-generation": String(ds.metadata.generation ?? 1) }, {
            affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchFields: [{ key: "metadata.name", operator: "In", values: [nodeName] }] }] } } },
          }),
        );
        events.record(ds, { reason: "SuccessfulCreate", message: `Created pod: ${podName}`, component: "daemonset-controller" });
      } else if (!replacing && mine[0]!.metadata.labels?.["controller-revision-hash"] !== hash && pods.every(podIsReady)) {
        replacing = true; // maxUnavailable 1
        store.delete(T.pods(store), ns, mine[0]!.metadata.name);
        events.record(ds, { reason: "SuccessfulDelete", message: `Deleted pod: ${mine[0]!.metadata.name}`, component: "daemonset-controller" });
      }
    }
    const live = store.list(T.pods(store), ns).filter((p) => isOwnedBy(p, ds) && podIsActive(p));
    const ready = live.filter(podIsReady).length;
    const updated = live.filter((p) => p.metadata.labels?.["controller-revision-hash"] === hash).length;
    const status: Record<string, unknown> = {
      observedGeneration: ds.metadata.generation ?? 1,
      desiredNumberScheduled: nodes.length,
      currentNumberScheduled: live.length,
      numberMisscheduled: 0,
      numberReady: ready,
      numberAvailable: ready,
      updatedNumberScheduled: updated,
    };
    if (nodes.length - ready > 0) status.numberUnavailable = nodes.length - ready;
    writeStatus(store, dsType, ds, status);
  }

  const unsubscribe = store.subscribe((ev: StoreEvent) => {
    const o = ev.object;
    if (o.kind === "DaemonSet" && ev.type !== "DELETED") q.add(key(o.metadata.namespace, o.metadata.name));
    else if (o.kind === "Pod" && ev.resource.group === "") {
      const ref = controllerOf(o);
      if (ref?.kind === "DaemonSet") q.add(key(o.metadata.namespace, ref.name));
    } else if (o.kind === "Node") for (const ds of store.list(T.daemonsets(store))) q.add(key(ds.metadata.namespace, ds.metadata.name));
  });
  return {
    stop() {
      unsubscribe();
      q.stop();
    },
  };
}
