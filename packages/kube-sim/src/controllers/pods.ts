// Builds pods from workload pod templates the way controllers do (labels, owner reference, defaults).
import type { KubeObject, NewObject } from "../types.js";
import { clone, ownerRef } from "./util.js";

interface Template {
  metadata?: { labels?: Record<string, string>; annotations?: Record<string, string> };
  spec?: Record<string, unknown>;
}

export function podFromTemplate(owner: KubeObject, template: unknown, name: string, extraLabels: Record<string, string> = {}, specPatch: Record<string, unknown> = {}): NewObject {
  const t = clone((template ?? {}) as Template);
  const spec = { ...(t.spec ?? {}), ...specPatch } as Record<string, unknown>;
  spec.restartPolicy ??= "Always";
  spec.terminationGracePeriodSeconds ??= 30;
  spec.dnsPolicy ??= "ClusterFirst";
  spec.schedulerName ??= "default-scheduler";
  spec.serviceAccountName ??= "default";
  spec.containers = ((spec.containers as Record<string, unknown>[] | undefined) ?? []).map((c) => ({
    imagePullPolicy: String(c.image ?? "").endsWith(":latest") || !String(c.image ?? "").includes(":") ? "Always" : "IfNotPresent",
    terminationMessagePath: "/dev/termination-log",
    terminationMessagePolicy: "File",
    resources: {},
    ...c,
  }));
  const metadata: NewObject["metadata"] = {
    name,
    namespace: owner.metadata.namespace,
    labels: { ...(t.metadata?.labels ?? {}), ...extraLabels },
    ownerReferences: [ownerRef(owner)],
  };
  if (t.metadata?.annotations) metadata.annotations = t.metadata.annotations;
  return { apiVersion: "v1", kind: "Pod", metadata, spec, status: { phase: "Pending", qosClass: "BestEffort" } };
}
