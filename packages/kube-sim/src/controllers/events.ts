// Event recorder: writes core/v1 Events like the kubelet and controllers do, folding repeats of the
// same (object, reason, message, source) into one Event whose count and lastTimestamp grow.
import type { KubeObject, SimClock, Store } from "../types.js";
import { T, reportError } from "./util.js";

export interface EventSpec {
  type?: "Normal" | "Warning";
  reason: string;
  message: string;
  /** e.g. kubelet, default-scheduler, deployment-controller */
  component: string;
  host?: string;
  fieldPath?: string;
}

export interface EventRecorder {
  record(obj: KubeObject, ev: EventSpec): void;
}

export function createEventRecorder(store: Store, clock: SimClock): EventRecorder {
  // aggregation key → event name in the object's namespace
  const names = new Map<string, { ns: string; name: string }>();
  let seq = 0;
  return {
    record(obj, ev) {
      try {
        const type = T.events(store);
        const ns = obj.metadata.namespace ?? "default";
        const k = [obj.metadata.uid, ev.fieldPath ?? "", ev.reason, ev.message, ev.component, ev.type ?? "Normal"].join("\u0000");
        const now = clock.isoNow();
        const known = names.get(k);
        if (known) {
          const cur = store.get(type, known.ns, known.name);
          if (cur) {
            store.update(type, { ...cur, count: ((cur.count as number) ?? 1) + 1, lastTimestamp: now });
            return;
          }
        }
        // Names follow kube: <object>.<hex of creation time in ns>, unique per recorder.
        const name = `${obj.metadata.name}.${(BigInt(Math.floor(clock.now())) * 1_000_000n + BigInt(seq++ % 1_000_000)).toString(16)}`;
        const involvedObject: Record<string, unknown> = {
          kind: obj.kind,
          namespace: obj.metadata.namespace,
          name: obj.metadata.name,
          uid: obj.metadata.uid,
          apiVersion: obj.apiVersion,
          resourceVersion: obj.metadata.resourceVersion,
        };
        if (ev.fieldPath) involvedObject.fieldPath = ev.fieldPath;
        store.create(type, {
          apiVersion: "v1",
          kind: "Event",
          metadata: { name, namespace: ns },
          involvedObject,
          reason: ev.reason,
          message: ev.message,
          source: ev.host ? { component: ev.component, host: ev.host } : { component: ev.component },
          firstTimestamp: now,
          lastTimestamp: now,
          count: 1,
          type: ev.type ?? "Normal",
          eventTime: null,
          reportingComponent: ev.component,
          reportingInstance: ev.host ?? "",
        });
        names.set(k, { ns, name });
      } catch (err) {
        reportError("event recorder", err);
      }
    },
  };
}
