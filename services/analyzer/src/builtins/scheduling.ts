// Scheduling failures: which scheduler predicates failed on how many nodes, from the FailedScheduling
// message ("0/3 nodes are available: 3 Insufficient cpu."), against what the pod requests.
import type { Finding } from "@faro/contracts";
import { refs, type IncidentView } from "../view.js";
import { builtinLabel, type BuiltinAnalyzer } from "./types.js";

export interface Predicate {
  nodes: number;
  reason: string;
}

/** The "N reason" parts of a FailedScheduling message, and the node total. */
export function parseFailedScheduling(message: string): { total?: number; predicates: Predicate[] } {
  const m = /(\d+)\/(\d+) nodes are available:?\s*([^.]*(?:\.[^.p][^.]*)*)/.exec(message);
  if (!m) return { predicates: [] };
  const body = m[3]!.split(/\.\s*preemption:/)[0]!;
  const predicates = body
    .split(/,\s*/)
    .map((p) => /^(\d+)\s+(.+?)\.?$/.exec(p.trim()))
    .filter((x): x is RegExpExecArray => x !== null)
    .map((x) => ({ nodes: Number(x[1]), reason: x[2]! }));
  return { total: Number(m[2]), predicates };
}

function advice(reason: string): { cause: string; step: string; resource?: "cpu" | "memory" } {
  if (/Insufficient cpu/i.test(reason)) return { cause: "not enough unrequested CPU", step: "Lower resources.requests.cpu, or add nodes / enable the cluster autoscaler for this node group.", resource: "cpu" };
  if (/Insufficient memory/i.test(reason)) return { cause: "not enough unrequested memory", step: "Lower resources.requests.memory, or add nodes with more memory.", resource: "memory" };
  if (/Insufficient/i.test(reason)) return { cause: `${reason.replace(/^Insufficient /, "not enough ")}`, step: "Request less of the extended resource, or add nodes that offer it." };
  if (/taint/i.test(reason)) return { cause: "taints the pod does not tolerate", step: "Add the matching tolerations, or schedule onto untainted nodes (kubectl describe nodes | grep Taints)." };
  if (/affinity|selector/i.test(reason)) return { cause: "node selector or affinity rules no node satisfies", step: "Check nodeSelector / nodeAffinity labels against the nodes' labels (kubectl get nodes --show-labels)." };
  if (/Too many pods/i.test(reason)) return { cause: "the per-node pod limit", step: "Add nodes or raise the kubelet's maxPods." };
  if (/volume|PersistentVolumeClaim|unbound/i.test(reason)) return { cause: "volumes that cannot be bound or attached there", step: "Check the PersistentVolumeClaims (kubectl get pvc) and the StorageClass's topology." };
  if (/ports/i.test(reason)) return { cause: "host ports already taken", step: "Drop hostPort, or spread the pods (one per node)." };
  if (/unschedulable/i.test(reason)) return { cause: "nodes marked unschedulable (cordoned)", step: "Uncordon nodes or add schedulable ones." };
  return { cause: reason, step: "Read the scheduler's reasons per node: kubectl describe pod." };
}

export const scheduling: BuiltinAnalyzer = {
  name: "scheduling",
  analyze(view: IncidentView): Finding | undefined {
    const ic = view.incident;
    const evs = view.events("FailedScheduling");
    if (ic.reason !== "FailedScheduling" && evs.length === 0) return undefined;
    const idx = evs.at(-1);
    const message = idx !== undefined ? ic.events[idx]!.message : ic.message;
    const { total, predicates } = parseFailedScheduling(message);
    const pod = view.manifest("Pod");
    const c = view.container();
    const sorted = [...predicates].sort((a, b) => b.nodes - a.nodes || a.reason.localeCompare(b.reason));
    const top = sorted[0];
    const a = top ? advice(top.reason) : undefined;
    const evidence = refs(
      idx !== undefined ? view.ref("event", idx, "message") : view.field("message"),
      a?.resource && c ? view.manifestRef(pod, `${c.specPath}/resources/requests/${a.resource}`) : undefined,
      c ? view.manifestRef(pod, "/spec/nodeSelector") : undefined,
      view.manifestRef(pod, "/spec/tolerations"),
    );
    const parts = sorted.map((p) => `${p.nodes} node${p.nodes === 1 ? "" : "s"}: ${advice(p.reason).cause}`);
    const cause = top
      ? `No node can run the pod${total !== undefined ? ` (0 of ${total} available)` : ""}: ${parts.join("; ")}. The predicate that rules out the most nodes is "${top.reason}".`
      : `The scheduler cannot place the pod: ${message.slice(0, 200)}`;
    const steps = sorted.slice(0, 3).map((p) => advice(p.reason).step);
    steps.push("The pod stays Pending and the scheduler retries on every cluster change; nothing restarts on its own.");
    return { analyzer: builtinLabel("scheduling"), probableCause: cause, evidence, nextSteps: steps, confidence: top ? 0.9 : 0.5 };
  },
};
