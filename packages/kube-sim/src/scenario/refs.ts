// Scenario step references to objects created at run time (a Deployment's current ReplicaSet, one of its pods):
// `ref: { workload, kind, owner }` on createObject fills in `{{ref.name}}`, `{{ref.uid}}`, `{{ref.kind}}`,
// `{{ref.apiVersion}}` and, with `owner: true`, makes the referenced object the new object's controller owner.
// Operators do exactly this: Trivy Operator owns a report by the ReplicaSet it scanned, Kyverno by the resource.
import { T, podIsActive } from "../controllers/util.js";
import type { KubeObject, NewObject, Store } from "../types.js";
import { ScenarioError } from "./errors.js";

export interface StepRef {
  /** The Deployment (or other controller) name the object belongs to. */
  workload: string;
  /** Which object of the workload: the Deployment itself, its newest ReplicaSet, or its first active Pod. */
  kind: "Deployment" | "ReplicaSet" | "Pod";
  /** Set metadata.ownerReferences to the referenced object (controller). Default false. */
  owner?: boolean;
}

function parseRef(v: unknown, scenario: string): StepRef {
  const r = v as Partial<StepRef> | undefined;
  if (!r || typeof r.workload !== "string" || !["Deployment", "ReplicaSet", "Pod"].includes(String(r.kind))) {
    throw new ScenarioError("ref needs workload (a name) and kind (Deployment, ReplicaSet or Pod)", scenario, "ref");
  }
  return { workload: r.workload, kind: r.kind as StepRef["kind"], owner: r.owner === true };
}

function target(store: Store, ns: string, ref: StepRef): KubeObject | undefined {
  const deploy = store.get(T.deployments(store), ns, ref.workload);
  if (ref.kind === "Deployment") return deploy;
  if (!deploy) return undefined;
  const rss = store.list(T.replicasets(store), ns).filter((rs) => rs.metadata.ownerReferences?.some((o) => o.uid === deploy.metadata.uid));
  rss.sort((a, b) => Number(b.metadata.resourceVersion) - Number(a.metadata.resourceVersion));
  const rs = rss.find((r) => Number((r.spec as { replicas?: number } | undefined)?.replicas ?? 0) > 0) ?? rss[0];
  if (ref.kind === "ReplicaSet") return rs;
  return store.list(T.pods(store), ns).find((p) => podIsActive(p) && p.metadata.ownerReferences?.some((o) => o.uid === rs?.metadata.uid));
}

function substitute(v: unknown, values: Record<string, string>): unknown {
  if (typeof v === "string") return v.replace(/\{\{\s*ref\.(name|uid|kind|apiVersion|namespace)\s*\}\}/g, (_, k: string) => values[k] ?? "");
  if (Array.isArray(v)) return v.map((x) => substitute(x, values));
  if (v && typeof v === "object") return Object.fromEntries(Object.entries(v).map(([k, x]) => [substitute(k, values) as string, substitute(x, values)]));
  return v;
}

/** The object with its `{{ref.*}}` placeholders filled in (and its owner set); throws when the reference is not there yet. */
export function resolveRef(store: Store, obj: NewObject, rawRef: unknown, ns: string, scenario: string): NewObject {
  const ref = parseRef(rawRef, scenario);
  const t = target(store, ns, ref);
  if (!t) throw new ScenarioError(`no ${ref.kind} of workload ${ref.workload} in ${ns} yet`, scenario, "ref");
  const values = { name: t.metadata.name, uid: t.metadata.uid, kind: String(t.kind ?? ref.kind), apiVersion: String(t.apiVersion ?? (ref.kind === "Pod" ? "v1" : "apps/v1")), namespace: ns };
  const out = substitute(obj, values) as NewObject;
  if (ref.owner) {
    out.metadata = { ...out.metadata, ownerReferences: [{ apiVersion: values.apiVersion, kind: values.kind, name: values.name, uid: values.uid, controller: true, blockOwnerDeletion: false }] };
  }
  return out;
}
