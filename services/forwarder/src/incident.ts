// What every sink receives: the incident, its idempotency key (incident id + revision) and the webhook body.
import { toCanonicalJson, type IncidentContext, type JsonValue } from "@faro/contracts";
import type { MatchTarget } from "./config.js";

/** One incident on its way to one sink. */
export interface Delivery {
  /** `<incidentId>:<repeatCount>`: the same for every attempt and every replica; receivers dedupe on it. */
  readonly key: string;
  readonly sink: string;
  readonly subject: string;
  readonly incident: IncidentContext;
  /** A repeat of an incident already delivered (same incident id, higher count): sinks update instead of opening. */
  readonly isRepeat: boolean;
  /** The failing pod's labels (from its redacted manifest), for routes and silences. */
  readonly labels: Readonly<Record<string, string>>;
}

/** The idempotency key of an incident revision. */
export function idempotencyKey(incident: Pick<IncidentContext, "incidentId" | "repeatCount">): string {
  return `${incident.incidentId}:${incident.repeatCount}`;
}

/** Labels of the pod (else of the first manifest carrying any) in the incident's redacted manifests. */
export function incidentLabels(incident: IncidentContext): Record<string, string> {
  const ordered = [...incident.manifests].sort((a, b) => Number(b.kind === "Pod") - Number(a.kind === "Pod"));
  for (const m of ordered) {
    try {
      const obj = JSON.parse(m.json) as { metadata?: { labels?: Record<string, unknown> } };
      const labels = obj.metadata?.labels;
      if (labels && typeof labels === "object") {
        const out: Record<string, string> = {};
        for (const [k, v] of Object.entries(labels)) if (typeof v === "string") out[k] = v;
        return out;
      }
    } catch {
      // A manifest that is not JSON has no labels to route on; routes without a label selector still apply.
      continue;
    }
  }
  return {};
}

export function makeDelivery(sink: string, subject: string, incident: IncidentContext): Delivery {
  return {
    key: idempotencyKey(incident),
    sink,
    subject,
    incident,
    isRepeat: incident.isUpdate || incident.repeatCount > 1,
    labels: incidentLabels(incident),
  };
}

export function matchTarget(d: Delivery): MatchTarget {
  const i = d.incident;
  return { tenant: i.tenant, namespace: i.namespace, reason: i.reason, severity: i.severity, labels: d.labels };
}

/** The documented JSON body of webhook and directory deliveries (docs/forwarder.md). */
export function deliveryJson(d: Delivery): Record<string, JsonValue> {
  return {
    schemaVersion: 1,
    event: d.isRepeat ? "incident.updated" : "incident.opened",
    idempotencyKey: d.key,
    sink: d.sink,
    incident: toCanonicalJson("IncidentContext", d.incident),
  };
}

/** The workload an incident is about: the root of the owner chain, else the pod. */
export function workloadOf(incident: IncidentContext): string {
  const root = incident.ownerChain[incident.ownerChain.length - 1];
  return root ? `${root.kind}/${root.name}` : `Pod/${incident.pod?.name ?? "?"}`;
}
