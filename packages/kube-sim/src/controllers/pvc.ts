// PersistentVolumeClaim controller: a default provisioner binds claims of the default class ("standard",
// or no class); a claim of any other class stays Pending with ProvisioningFailed, as when its StorageClass
// does not exist.
import type { Store, StoreEvent } from "../types.js";
import type { EventRecorder } from "./events.js";
import { key, splitKey, workQueue, writeStatus } from "./util.js";

export const DEFAULT_STORAGE_CLASS = "standard";

export function createPvcController(store: Store, events: EventRecorder): { stop(): void } {
  const type = () => store.typeFor("", "persistentvolumeclaims")!;
  const q = workQueue(reconcile, "persistentvolume-controller");

  function reconcile(k: string) {
    const [ns, name] = splitKey(k);
    const pvc = store.get(type(), ns, name);
    if (!pvc || pvc.metadata.deletionTimestamp) return;
    const spec = (pvc.spec ?? {}) as { storageClassName?: string; resources?: { requests?: { storage?: string } }; accessModes?: string[]; volumeName?: string };
    const status = (pvc.status ?? {}) as { phase?: string };
    if (status.phase === "Bound" || status.phase === "Lost") return;
    const cls = spec.storageClassName ?? DEFAULT_STORAGE_CLASS;
    if (cls === DEFAULT_STORAGE_CLASS) {
      const volume = spec.volumeName ?? `pvc-${pvc.metadata.uid}`;
      if (!spec.volumeName) store.update(type(), { ...pvc, spec: { ...spec, volumeName: volume, storageClassName: cls } });
      const cur = store.get(type(), ns, name)!;
      writeStatus(store, type(), cur, { phase: "Bound", accessModes: spec.accessModes ?? ["ReadWriteOnce"], capacity: { storage: spec.resources?.requests?.storage ?? "1Gi" } });
      events.record(cur, { reason: "ProvisioningSucceeded", message: `Successfully provisioned volume ${volume}`, component: "persistentvolume-controller" });
      return;
    }
    if (status.phase !== "Pending") {
      writeStatus(store, type(), pvc, { phase: "Pending" });
      events.record(pvc, { type: "Warning", reason: "ProvisioningFailed", message: `storageclass.storage.k8s.io "${cls}" not found`, component: "persistentvolume-controller" });
    }
  }

  const unsubscribe = store.subscribe((ev: StoreEvent) => {
    const o = ev.object;
    if (o.kind === "PersistentVolumeClaim" && ev.resource.group === "" && ev.type === "ADDED") q.add(key(o.metadata.namespace, o.metadata.name));
  });
  return {
    stop() {
      unsubscribe();
      q.stop();
    },
  };
}
