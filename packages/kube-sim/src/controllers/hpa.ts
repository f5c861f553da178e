// HorizontalPodAutoscaler controller without metrics: the replicas the metrics would ask for are given by the
// annotation `sim.faro.dev/desired-replicas`; they are clamped to [minReplicas, maxReplicas], the target is
// scaled, and the status carries current/desired replicas and the ScalingLimited condition like the real one.
import type { KubeObject, SimClock, Store, StoreEvent } from "../types.js";
import { ANNOTATION_PREFIX } from "../kubelet/behavior.js";
import type { EventRecorder } from "./events.js";
import { key, splitKey, workQueue, writeStatus } from "./util.js";

export const DESIRED_REPLICAS_ANNOTATION = `${ANNOTATION_PREFIX}desired-replicas`;

interface HpaSpec {
  scaleTargetRef?: { apiVersion?: string; kind?: string; name?: string };
  minReplicas?: number;
  maxReplicas?: number;
}

export function createHpaController(store: Store, clock: SimClock, events: EventRecorder): { stop(): void } {
  const type = () => store.typeFor("autoscaling", "horizontalpodautoscalers")!;
  const q = workQueue(reconcile, "horizontal-pod-autoscaler");

  function reconcile(k: string) {
    const [ns, name] = splitKey(k);
    const hpa = store.get(type(), ns, name);
    if (!hpa || hpa.metadata.deletionTimestamp) return;
    const spec = (hpa.spec ?? {}) as HpaSpec;
    const ref = spec.scaleTargetRef ?? {};
    const tt = store.typeForKind(ref.apiVersion ?? "apps/v1", ref.kind ?? "Deployment");
    const target = tt && ref.name ? store.get(tt, ns, ref.name) : undefined;
    if (!tt || !target) return;
    const current = Number((target.spec as { replicas?: number } | undefined)?.replicas ?? 1);
    const min = spec.minReplicas ?? 1;
    const max = spec.maxReplicas ?? current;
    const wanted = Number(hpa.metadata.annotations?.[DESIRED_REPLICAS_ANNOTATION] ?? current);
    const desired = Math.max(min, Math.min(max, Number.isFinite(wanted) ? wanted : current));
    const prev = (hpa.status ?? {}) as { lastScaleTime?: string; conditions?: { type: string; status: string; lastTransitionTime?: string }[] };
    const now = clock.isoNow();
    let lastScaleTime = prev.lastScaleTime;
    if (desired !== current) {
      store.update(tt, { ...target, spec: { ...(target.spec as object), replicas: desired } } as KubeObject);
      lastScaleTime = now;
      events.record(hpa, { reason: "SuccessfulRescale", message: `New size: ${desired}; reason: ${wanted > current ? "cpu resource utilization (percentage of request) above target" : "All metrics below target"}`, component: "horizontal-pod-autoscaler" });
    }
    const limited = wanted > max ? { status: "True", reason: "TooManyReplicas", message: "the desired replica count is more than the maximum replica count" } : wanted < min ? { status: "True", reason: "TooFewReplicas", message: "the desired replica count is less than the minimum replica count" } : { status: "False", reason: "DesiredWithinRange", message: "the desired count is within the acceptable range" };
    const was = prev.conditions?.find((c) => c.type === "ScalingLimited");
    const conditions = [
      { type: "AbleToScale", status: "True", reason: "ReadyForNewScale", message: "recommended size matches current size", lastTransitionTime: prev.conditions?.find((c) => c.type === "AbleToScale")?.lastTransitionTime ?? now },
      { type: "ScalingActive", status: "True", reason: "ValidMetricFound", message: "the HPA was able to successfully calculate a replica count from cpu resource utilization (percentage of request)", lastTransitionTime: prev.conditions?.find((c) => c.type === "ScalingActive")?.lastTransitionTime ?? now },
      { type: "ScalingLimited", ...limited, lastTransitionTime: was && was.status === limited.status ? (was.lastTransitionTime ?? now) : now },
    ];
    writeStatus(store, type(), hpa, { currentReplicas: desired, desiredReplicas: Math.max(min, Math.min(max, wanted)), ...(lastScaleTime ? { lastScaleTime } : {}), conditions });
  }

  const unsubscribe = store.subscribe((ev: StoreEvent) => {
    const o = ev.object;
    if (o.kind === "HorizontalPodAutoscaler" && ev.resource.group === "autoscaling" && ev.type !== "DELETED") q.add(key(o.metadata.namespace, o.metadata.name));
  });
  return {
    stop() {
      unsubscribe();
      q.stop();
    },
  };
}
