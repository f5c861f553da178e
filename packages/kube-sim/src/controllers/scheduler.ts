// Default scheduler: binds pending pods to Ready nodes that match nodeSelector/affinity and have room,
// with Scheduled and FailedScheduling events and the PodScheduled condition.
import type { KubeObject, SimClock, Store, StoreEvent } from "../types.js";
import type { EventRecorder } from "./events.js";
import { T, cpuMillis, key, memBytes, podIsActive, splitKey, workQueue } from "./util.js";

interface PodSpecLike {
  nodeName?: string;
  schedulerName?: string;
  nodeSelector?: Record<string, string>;
  affinity?: { nodeAffinity?: { requiredDuringSchedulingIgnoredDuringExecution?: { nodeSelectorTerms?: NodeSelectorTerm[] } } };
  containers?: { resources?: { requests?: Record<string, string> } }[];
}
interface NodeSelectorTerm {
  matchExpressions?: { key: string; operator: string; values?: string[] }[];
  matchFields?: { key: string; operator: string; values?: string[] }[];
}

export interface Scheduler {
  stop(): void;
}

/** Re-try interval for unschedulable pods, in simulated ms. */
const RETRY_MS = 30_000;

export function createScheduler(store: Store, clock: SimClock, events: EventRecorder): Scheduler {
  const retries = new Map<string, () => void>();
  const q = workQueue((k) => schedule(k), "scheduler");

  function schedule(k: string) {
    const [ns, name] = splitKey(k);
    const pods = T.pods(store);
    const pod = store.get(pods, ns, name);
    if (!pod || !needsScheduling(pod)) return;
    const spec = pod.spec as PodSpecLike;
    const nodes = store.list(T.nodes(store)).filter((n) => isReady(n));
    const all = store.list(pods).filter((p) => podIsActive(p) && (p.spec as PodSpecLike).nodeName);
    const reasons = new Map<string, number>();
    const fits: { node: KubeObject; count: number }[] = [];
    const req = requests(spec);
    for (const node of nodes) {
      const why = mismatch(spec, node);
      if (why) {
        reasons.set(why, (reasons.get(why) ?? 0) + 1);
        continue;
      }
      const onNode = all.filter((p) => (p.spec as PodSpecLike).nodeName === node.metadata.name);
      const used = onNode.map((p) => requests(p.spec as PodSpecLike)).reduce((a, b) => ({ cpu: a.cpu + b.cpu, mem: a.mem + b.mem }), { cpu: 0, mem: 0 });
      const alloc = (node.status as { allocatable?: Record<string, string> }).allocatable ?? {};
      if (onNode.length + 1 > Number(alloc.pods ?? 110)) {
        reasons.set("Too many pods", (reasons.get("Too many pods") ?? 0) + 1);
        continue;
      }
      if (used.cpu + req.cpu > cpuMillis(alloc.cpu)) {
        reasons.set("Insufficient cpu", (reasons.get("Insufficient cpu") ?? 0) + 1);
        continue;
      }
      if (used.mem + req.mem > memBytes(alloc.memory)) {
        reasons.set("Insufficient memory", (reasons.get("Insufficient memory") ?? 0) + 1);
        continue;
      }
      fits.push({ node, count: onNode.length });
    }
    if (fits.length === 0) {
      const total = store.list(T.nodes(store)).length;
      const parts = [...reasons].sort(([a], [b]) => a.localeCompare(b)).map(([r, n]) => `${n} ${r}`);
      const msg = `0/${total} nodes are available: ${parts.join(", ")}${parts.length ? "." : ""} preemption: 0/${total} nodes are available: ${total} Preemption is not helpful for scheduling.`;
      events.record(pod, { type: "Warning", reason: "FailedScheduling", message: msg, component: "default-scheduler" });
      setScheduled(pod, false, msg);
      retries.get(k)?.();
      retries.set(k, clock.setTimeout(() => (retries.delete(k), q.add(k)), RETRY_MS));
      return;
    }
    fits.sort((a, b) => a.count - b.count || a.node.metadata.name.localeCompare(b.node.metadata.name));
    const node = fits[0]!.node.metadata.name;
    const bound = store.update(pods, { ...pod, spec: { ...(pod.spec as object), nodeName: node } });
    setScheduled(bound, true);
    events.record(bound, { type: "Normal", reason: "Scheduled", message: `Successfully assigned ${ns}/${name} to ${node}`, component: "default-scheduler" });
    retries.get(k)?.();
    retries.delete(k);
  }

  function setScheduled(pod: KubeObject, ok: boolean, message?: string) {
    const st = { ...((pod.status as Record<string, unknown>) ?? {}) } as { phase?: string; conditions?: Record<string, unknown>[] };
    const conds = (st.conditions ?? []).filter((c) => c.type !== "PodScheduled");
    const cond: Record<string, unknown> = { type: "PodScheduled", status: ok ? "True" : "False", lastProbeTime: null, lastTransitionTime: clock.isoNow() };
    if (!ok) {
      cond.reason = "Unschedulable";
      cond.message = message;
    }
    const prev = (st.conditions ?? []).find((c) => c.type === "PodScheduled");
    if (prev && prev.status === cond.status && prev.message === cond.message) return;
    store.updateStatus(T.pods(store), { ...pod, status: { ...st, phase: st.phase ?? "Pending", conditions: [...conds, cond] } });
  }

  const unsubscribe = store.subscribe((ev: StoreEvent) => {
    const o = ev.object;
    if (o.kind === "Pod" && ev.resource.group === "") {
      if (ev.type !== "DELETED" && needsScheduling(o)) q.add(key(o.metadata.namespace, o.metadata.name));
      // a pod leaving frees room: retry the waiting ones now
      else if (ev.type === "DELETED" || o.metadata.deletionTimestamp) for (const k of retries.keys()) q.add(k);
    } else if (o.kind === "Node" && ev.resource.group === "") for (const k of retries.keys()) q.add(k);
  });

  return {
    stop() {
      unsubscribe();
      q.stop();
      for (const c of retries.values()) c();
      retries.clear();
    },
  };
}

function needsScheduling(pod: KubeObject): boolean {
  const spec = (pod.spec ?? {}) as PodSpecLike;
  return !spec.nodeName && !pod.metadata.deletionTimestamp && (spec.schedulerName ?? "default-scheduler") === "default-scheduler";
}

function isReady(node: KubeObject): boolean {
  const conds = ((node.status as { conditions?: { type: string; status: string }[] } | undefined)?.conditions) ?? [];
  return conds.some((c) => c.type === "Ready" && c.status === "True") && !(node.spec as { unschedulable?: boolean } | undefined)?.unschedulable;
}

function requests(spec: PodSpecLike): { cpu: number; mem: number } {
  let cpu = 0;
  let mem = 0;
  for (const c of spec.containers ?? []) {
    cpu += cpuMillis(c.resources?.requests?.cpu);
    mem += memBytes(c.resources?.requests?.memory);
  }
  return { cpu, mem };
}

function mismatch(spec: PodSpecLike, node: KubeObject): string | undefined {
  const labels = node.metadata.labels ?? {};
  for (const [k, v] of Object.entries(spec.nodeSelector ?? {})) if (labels[k] !== v) return "node(s) didn't match Pod's node affinity/selector";
  const terms = spec.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms;
  if (terms?.length) {
    const ok = terms.some(
      (t) =>
        (t.matchExpressions ?? []).every((e) => exprOk(e, labels[e.key])) &&
        (t.matchFields ?? []).every((e) => exprOk(e, e.key === "metadata.name" ? node.metadata.name : undefined)),
    );
    if (!ok) return "node(s) didn't match Pod's node affinity/selector";
  }
  return undefined;
}

function exprOk(e: { operator: string; values?: string[] }, v: string | undefined): boolean {
  switch (e.operator) {
    case "In":
      return v !== undefined && (e.values ?? []).includes(v);
    case "NotIn":
      return v === undefined || !(e.values ?? []).includes(v);
    case "Exists":
      return v !== undefined;
    case "DoesNotExist":
      return v === undefined;
    default:
      return false;
  }
}
