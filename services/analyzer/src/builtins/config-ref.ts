// Missing ConfigMaps and Secrets, and missing keys in them: which reference of the pod spec points at what
// does not exist, from the kubelet's message (CreateContainerConfigError and the Failed Event).
import type { EvidenceRef, Finding } from "@faro/contracts";
import { pointer, refs, type IncidentView } from "../view.js";
import { builtinLabel, type BuiltinAnalyzer } from "./types.js";

export interface MissingRef {
  kind: "configmap" | "secret";
  name: string;
  /** The missing key, when the object exists but lacks it. */
  key?: string;
}

/** Reads the kubelet's wording: `configmap "x" not found`, `couldn't find key K in ConfigMap ns/x`, same for Secrets. */
export function parseMissingRef(message: string): MissingRef | undefined {
  const key = /couldn't find key (\S+) in (ConfigMap|Secret) ([^/\s]+\/)?([^\s"]+)/i.exec(message);
  if (key) return { kind: key[2]!.toLowerCase() as MissingRef["kind"], name: key[4]!, key: key[1]! };
  const obj = /\b(configmap|secret)s? "([^"]+)" not found/i.exec(message);
  if (obj) return { kind: obj[1]!.toLowerCase() as MissingRef["kind"], name: obj[2]! };
  return undefined;
}

type Json = Record<string, unknown>;

/** Pointers of the places in a pod spec that reference the object (and key). */
function referencesIn(spec: Json | undefined, miss: MissingRef): string[] {
  if (!spec) return [];
  const out: string[] = [];
  const refKey = miss.kind === "configmap" ? "configMapRef" : "secretRef";
  const keyRef = miss.kind === "configmap" ? "configMapKeyRef" : "secretKeyRef";
  for (const list of ["initContainers", "containers"] as const) {
    ((spec[list] as Json[] | undefined) ?? []).forEach((c, ci) => {
      ((c["envFrom"] as Json[] | undefined) ?? []).forEach((e, ei) => {
        if ((e[refKey] as Json | undefined)?.["name"] === miss.name) out.push(pointer("spec", list, ci, "envFrom", ei, refKey, "name"));
      });
      ((c["env"] as Json[] | undefined) ?? []).forEach((e, ei) => {
        const r = (e["valueFrom"] as Json | undefined)?.[keyRef] as Json | undefined;
        if (r?.["name"] === miss.name && (!miss.key || r["key"] === miss.key)) out.push(pointer("spec", list, ci, "env", ei, "valueFrom", keyRef, miss.key ? "key" : "name"));
      });
    });
  }
  ((spec["volumes"] as Json[] | undefined) ?? []).forEach((v, vi) => {
    if (miss.kind === "configmap" && (v["configMap"] as Json | undefined)?.["name"] === miss.name) out.push(pointer("spec", "volumes", vi, "configMap", "name"));
    if (miss.kind === "secret" && (v["secret"] as Json | undefined)?.["secretName"] === miss.name) out.push(pointer("spec", "volumes", vi, "secret", "secretName"));
  });
  return out;
}

export const configRef: BuiltinAnalyzer = {
  name: "config-ref",
  analyze(view: IncidentView): Finding | undefined {
    const ic = view.incident;
    const candidates: { ref: EvidenceRef | undefined; text: string }[] = [
      { ref: view.field("message"), text: ic.message },
      ...view.events(/^(Failed|FailedMount)$/).map((i) => ({ ref: view.ref("event", i, "message"), text: ic.events[i]!.message })),
    ];
    const hit = candidates.map((c) => ({ ...c, miss: parseMissingRef(c.text) })).find((c) => c.miss);
    if (!hit?.miss) return undefined;
    const miss = hit.miss;
    const pod = view.manifest("Pod");
    const places = referencesIn(pod?.obj["spec"] as Json | undefined, miss).map((p) => view.manifestRef(pod, p));
    const kindName = miss.kind === "configmap" ? "ConfigMap" : "Secret";
    const evidence = refs(hit.ref, view.ref("event", view.events("Failed", /not found|couldn't find key/).at(-1) ?? -1, "message"), places);
    const optional = `mark the reference optional: true if the container can start without it`;
    const cause = miss.key
      ? `${kindName} ${miss.name} exists but has no key "${miss.key}", which the pod spec requires: the container cannot be created (CreateContainerConfigError).`
      : `${kindName} ${miss.name} does not exist in namespace ${ic.namespace}, and the pod spec requires it: the container cannot be created (CreateContainerConfigError).`;
    const steps = miss.key
      ? [`Add the key: kubectl -n ${ic.namespace} edit ${miss.kind} ${miss.name} (or fix the key name in the pod spec).`, `Or ${optional}.`]
      : [`Create it: kubectl -n ${ic.namespace} create ${miss.kind}${miss.kind === "secret" ? " generic" : ""} ${miss.name} --from-…, or fix the name in the pod spec (a typo, or it lives in another namespace).`, `Or ${optional}.`];
    steps.push("The kubelet retries on its own: the pod starts once the reference resolves, no restart needed.");
    return { analyzer: builtinLabel("config-ref"), probableCause: cause, evidence, nextSteps: steps, confidence: places.some(Boolean) ? 0.95 : 0.85 };
  },
};
