// Stuck rollouts: the Deployment's Progressing condition timed out; what changed in the template and what
// keeps the new pods from becoming available (pull failures, crashes, scheduling, quota), from the Events.
import type { EvidenceRef, Finding } from "@faro/contracts";
import { get, refs, type IncidentView } from "../view.js";
import { builtinLabel, type BuiltinAnalyzer } from "./types.js";

const BLOCKERS: { reason: RegExp; message?: RegExp; what: string; step: string }[] = [
  { reason: /^(Failed|BackOff)$/, message: /pull(ing)? image/i, what: "the new pods cannot pull their image", step: "Fix the image reference of the new template (see the image pull failure), or roll back." },
  { reason: /^BackOff$/, message: /restarting failed container/i, what: "the new pods crash and restart", step: "Read the new pods' logs (kubectl logs --previous) for the crash, or roll back." },
  { reason: /^FailedScheduling$/, what: "the new pods cannot be scheduled", step: "Free or add capacity for the new pods (see the FailedScheduling reasons), or lower their requests." },
  { reason: /^FailedCreate$/, what: "the ReplicaSet cannot create pods (quota, admission or PodSecurity)", step: "Read the FailedCreate message: raise the ResourceQuota or fix what admission refuses." },
  { reason: /^Unhealthy$/, what: "the new pods never become ready (readiness probe failing)", step: "Check the readiness probe of the new version." },
  { reason: /^Failed$/, message: /configmap|secret|couldn't find key/i, what: "the new pods reference a ConfigMap/Secret that does not exist", step: "Create the missing ConfigMap/Secret (or key) the new template references." },
];

export const rollout: BuiltinAnalyzer = {
  name: "rollout",
  analyze(view: IncidentView): Finding | undefined {
    const ic = view.incident;
    const dep = view.manifest("Deployment");
    const conditions = (get(dep?.obj, "status", "conditions") as Record<string, unknown>[] | undefined) ?? [];
    const ci = conditions.findIndex((c) => c["type"] === "Progressing" && c["reason"] === "ProgressDeadlineExceeded");
    if (ic.reason !== "ProgressDeadlineExceeded" && ci < 0) return undefined;
    const deadline = Number(get(dep?.obj, "spec", "progressDeadlineSeconds") ?? 600);
    // The template change that started the rollout: the newest recent change touching /spec/template.
    let templateChange: { index: number; path: string; from?: unknown; to?: unknown } | undefined;
    ic.recentChanges.forEach((c, index) => {
      if (c.kind !== "Deployment") return;
      try {
        const ops = JSON.parse(c.diffJson) as { path: string; from?: unknown; to?: unknown }[];
        const op = ops.find((o) => o.path.startsWith("/spec/template/"));
        if (op) templateChange = { index, path: op.path, from: op.from, to: op.to };
      } catch {
        // not a diff: ignored
      }
    });
    const blockers: { ref: EvidenceRef | undefined; what: string; step: string }[] = [];
    for (const b of BLOCKERS) {
      const idx = view.events(b.reason, b.message).at(-1);
      if (idx !== undefined && !blockers.some((x) => x.what === b.what)) blockers.push({ ref: view.ref("event", idx, "message"), what: b.what, step: b.step });
    }
    const evidence = refs(
      ci >= 0 ? view.manifestRef(dep, `/status/conditions/${ci}/reason`) : view.field("reason"),
      ci >= 0 ? view.manifestRef(dep, `/status/conditions/${ci}/message`) : view.field("message"),
      view.manifestRef(dep, "/spec/progressDeadlineSeconds"),
      templateChange ? view.ref("change", templateChange.index) : undefined,
      blockers.map((b) => b.ref),
    );
    const name = dep?.name ?? ic.ownerChain.at(-1)?.name ?? "the Deployment";
    let cause = `The rollout of Deployment ${name} made no progress for ${deadline}s (progressDeadlineSeconds) and is marked ProgressDeadlineExceeded`;
    if (templateChange) cause += `; it started with a change of ${templateChange.path}${templateChange.to !== undefined ? ` to ${JSON.stringify(templateChange.to).slice(0, 120)}` : ""}`;
    cause += blockers.length ? `: ${blockers.map((b) => b.what).join(", and ")}.` : ". The old ReplicaSet keeps serving; the new one never became available.";
    const steps = [...blockers.map((b) => b.step), `Roll back to the previous ReplicaSet if the change is at fault: kubectl -n ${ic.namespace} rollout undo deployment/${name}.`, `Watch the new ReplicaSet's pods: kubectl -n ${ic.namespace} rollout status deployment/${name}.`];
    return { analyzer: builtinLabel("rollout"), probableCause: cause, evidence, nextSteps: steps, confidence: blockers.length ? 0.85 : 0.65 };
  },
};
