// Node pressure: a pod evicted because its node ran low on memory, disk or PIDs (the kubelet's Evicted
// message, the node's *Pressure conditions among the incident's evidence), and the pod's QoS class.
import type { EvidenceRef, Finding } from "@faro/contracts";
import { get, refs, type IncidentView } from "../view.js";
import { builtinLabel, type BuiltinAnalyzer } from "./types.js";

const RESOURCE_OF: Record<string, string> = { MemoryPressure: "memory", DiskPressure: "ephemeral-storage", PIDPressure: "pids" };

/** "The node was low on resource: memory. Threshold quantity: 100Mi, available: 51200Ki." → its parts. */
export function parseEviction(message: string): { resource?: string; threshold?: string; available?: string } {
  const resource = /low on resource: ([\w.-]+)/i.exec(message)?.[1]?.replace(/\.$/, "");
  const threshold = /Threshold quantity: ([^,\s]+)/i.exec(message)?.[1];
  const available = /available: ([^,.\s]+)/i.exec(message)?.[1];
  return { ...(resource ? { resource } : {}), ...(threshold ? { threshold } : {}), ...(available ? { available } : {}) };
}

export const nodePressure: BuiltinAnalyzer = {
  name: "node-pressure",
  analyze(view: IncidentView): Finding | undefined {
    const ic = view.incident;
    const evicted = view.events("Evicted");
    const incidentEvidence = ((ic as { evidence?: { source: string; field: string; reason: string; message: string; value: string }[] }).evidence ?? []).map((e, i) => ({ e, i }));
    const pressure = incidentEvidence.filter(({ e }) => /(Memory|Disk|PID)Pressure/.test(`${e.field} ${e.reason}`) && (e.value === "" || e.value === "True"));
    const isPressureReason = /Pressure|Evicted/.test(ic.reason);
    if (!isPressureReason && evicted.length === 0 && pressure.length === 0 && !/low on resource/i.test(ic.message)) return undefined;
    const idx = evicted.at(-1);
    const message = idx !== undefined ? ic.events[idx]!.message : ic.message;
    const parsed = parseEviction(message);
    const condition = /(Memory|Disk|PID)Pressure/.exec(`${ic.reason} ${pressure.map(({ e }) => `${e.field} ${e.reason}`).join(" ")}`)?.[0];
    const resource = parsed.resource ?? (condition ? RESOURCE_OF[condition] : undefined);
    const pod = view.manifest("Pod");
    const qos = get(pod?.obj, "status", "qosClass") as string | undefined;
    const node = (get(pod?.obj, "spec", "nodeName") as string | undefined) ?? ic.pod?.node;
    const evidence = refs(
      idx !== undefined ? view.ref("event", idx, "message") : view.field("message"),
      view.manifestRef(pod, "/status/reason"),
      view.manifestRef(pod, "/status/message"),
      view.manifestRef(pod, "/status/qosClass"),
      pressure.map(({ i }) => view.ref("evidence", i, "message") ?? view.ref("evidence", i, "reason")) as (EvidenceRef | undefined)[],
    );
    let cause = `Node ${node ?? "(unknown)"} ran low on ${resource ?? "a resource"}${parsed.threshold ? ` (eviction threshold ${parsed.threshold}, available ${parsed.available ?? "?"})` : ""}`;
    cause += evicted.length || /Evicted/.test(ic.reason) ? ", and the kubelet evicted the pod to reclaim it" : `, and the node reports ${condition ?? "pressure"}`;
    cause += qos ? ` (QoS class ${qos}${qos === "BestEffort" ? ": evicted first, it requests nothing" : qos === "Burstable" ? ": evicted before Guaranteed pods when above its requests" : ""}).` : ".";
    const steps = [
      resource === "memory"
        ? "Find what uses the node's memory (kubectl top pods -A --sort-by=memory on that node); set memory requests equal to real use so the scheduler stops over-packing the node."
        : resource === "ephemeral-storage" || resource === "nodefs.available" || resource === "imagefs.available"
          ? "Find what fills the node's disk (container logs, emptyDir volumes, images); set ephemeral-storage requests/limits and clean up images."
          : "Find the process that exhausts the resource on the node.",
      "Give the workload requests (and for critical pods, limits equal to requests: QoS Guaranteed) so it is evicted last.",
      "The ReplicaSet recreates evicted pods elsewhere; if evictions repeat, add capacity or a PodDisruptionBudget-aware spread.",
    ];
    return { analyzer: builtinLabel("node-pressure"), probableCause: cause, evidence, nextSteps: steps, confidence: idx !== undefined || pressure.length ? 0.85 : 0.6 };
  },
};
