// What each action changes: a plan (the patch to apply, or why nothing can be done) computed from live objects.
import type { KubeClient, Obj } from "./kube.js";
import { formatMemory, memoryBytes, type Policy } from "./policy.js";

export interface Target {
  readonly apiVersion: string;
  readonly kind: string;
  readonly name: string;
  readonly uid: string;
  readonly namespace: string;
}

/** A change ready to apply, or `exhausted` with the reason nothing (more) can be done. */
export type Plan =
  | { kind: "change"; target: Target; detail: string; patch: unknown; apply: (kube: KubeClient) => Promise<void> }
  | { kind: "exhausted"; target: Target; detail: string };

const REVISION = "deployment.kubernetes.io/revision";

export const deploymentPath = (ns: string, name: string) => `/apis/apps/v1/namespaces/${encodeURIComponent(ns)}/deployments/${encodeURIComponent(name)}`;
export const podPath = (ns: string, name: string) => `/api/v1/namespaces/${encodeURIComponent(ns)}/pods/${encodeURIComponent(name)}`;

function targetOf(o: Obj, apiVersion: string, kind: string): Target {
  return { apiVersion, kind, name: o.metadata.name, uid: o.metadata.uid ?? "", namespace: o.metadata.namespace ?? "" };
}

type Container = { name: string; resources?: { limits?: Record<string, string>; requests?: Record<string, string> } };
function containersOf(d: Obj): Container[] {
  return ((((d["spec"] as Obj["spec"] & { template?: { spec?: { containers?: Container[] } } }) ?? {}).template?.spec?.containers) ?? []) as Container[];
}

/** Plans the policy's action on a Deployment (rollback, scale, raiseMemory). */
export async function planDeployment(p: Policy, kube: KubeClient, d: Obj, container: string): Promise<Plan> {
  const ns = d.metadata.namespace ?? "";
  const target = targetOf(d, "apps/v1", "Deployment");
  const put = (next: Obj) => async (k: KubeClient) => {
    await k.replace(deploymentPath(ns, d.metadata.name), next);
  };
  const next = structuredClone(d);
  const spec = next["spec"] as Record<string, unknown>;
  switch (p.action) {
    case "raiseMemory": {
      const cs = containersOf(next);
      const c = cs.find((x) => x.name === container) ?? (container ? undefined : cs[0]);
      if (!c) return { kind: "exhausted", target, detail: `container ${JSON.stringify(container)} not in the Deployment's template` };
      const current = memoryBytes(c.resources?.limits?.["memory"]) ?? memoryBytes(c.resources?.requests?.["memory"]);
      if (current === undefined) return { kind: "exhausted", target, detail: `container ${c.name} has no memory limit or request to raise` };
      if (current >= p.raiseMemory.maxBytes) return { kind: "exhausted", target, detail: `container ${c.name}'s memory limit ${formatMemory(current)} is at the cap ${formatMemory(p.raiseMemory.maxBytes)}` };
      const raised = Math.min(Math.ceil((current * (100 + p.raiseMemory.percent)) / 100 / 1024 / 1024) * 1024 * 1024, p.raiseMemory.maxBytes);
      const from = c.resources?.limits?.["memory"] ?? "(none)";
      c.resources = { ...c.resources, limits: { ...c.resources?.limits, memory: formatMemory(raised) } };
      return { kind: "change", target, detail: `raise container ${c.name}'s memory limit from ${from} to ${formatMemory(raised)} (+${p.raiseMemory.percent}%, cap ${formatMemory(p.raiseMemory.maxBytes)})`, patch: { spec: { template: { spec: { containers: [{ name: c.name, resources: { limits: { memory: formatMemory(raised) } } }] } } } }, apply: put(next) };
    }
    case "scale": {
      const cur = Number(spec["replicas"] ?? 1);
      const want = Math.max(p.scale.min, Math.min(p.scale.max, cur + p.scale.step));
      if (want === cur) return { kind: "exhausted", target, detail: `replicas ${cur} already at the bound [${p.scale.min}, ${p.scale.max}]` };
      spec["replicas"] = want;
      return { kind: "change", target, detail: `scale from ${cur} to ${want} replicas`, patch: { spec: { replicas: want } }, apply: put(next) };
    }
    case "rollback": {
      const rss = (await kube.list(`/apis/apps/v1/namespaces/${encodeURIComponent(ns)}/replicasets`))
        .filter((rs) => rs.metadata.ownerReferences?.some((o) => o.uid === d.metadata.uid))
        .map((rs) => ({ rs, rev: Number(rs.metadata.annotations?.[REVISION] ?? 0) }))
        .sort((a, b) => b.rev - a.rev);
      const prev = rss[1];
      if (!prev) return { kind: "exhausted", target, detail: `Deployment ${d.metadata.name} has no previous ReplicaSet to roll back to` };
      const template = structuredClone((prev.rs["spec"] as { template: { metadata?: { labels?: Record<string, string> } } }).template);
      if (template.metadata?.labels) delete template.metadata.labels["pod-template-hash"];
      spec["template"] = template;
      return { kind: "change", target, detail: `roll back from revision ${rss[0]!.rev} to ReplicaSet ${prev.rs.metadata.name} (revision ${prev.rev})`, patch: { spec: { template } }, apply: put(next) };
    }
    default:
      return { kind: "exhausted", target, detail: `action ${p.action} does not apply to a Deployment` };
  }
}

/** Plans deleting a pod so its controller starts a new one. */
export function planRestart(pod: Obj): Plan {
  const target = targetOf(pod, "v1", "Pod");
  const owned = (pod.metadata.ownerReferences ?? []).length > 0;
  if (!owned) return { kind: "exhausted", target, detail: `pod ${pod.metadata.name} has no controller: deleting it would not restart it` };
  return { kind: "change", target, detail: `delete pod ${pod.metadata.name} so its controller starts a new one`, patch: { delete: `pods/${pod.metadata.name}` }, apply: (k) => k.remove(podPath(target.namespace, target.name)) };
}
