// Maps a validated Falco alert onto the KubeEvent the filter and correlator already understand (docs/security.md).
import { createHash } from "node:crypto";
import { buildRawSubject, busMsgId, eventId, type Encodable, type FalcoAlert, type KubeEvent, type ObjectRef } from "@faro/contracts";

/** The two accepted formats: Falco's own http_output, and falcosidekick's webhook output. */
export type AlertFormat = "falco" | "falcosidekick";

/** KubeEvent.source_component of every alert the ingester publishes; the correlator keys on it. */
export const FALCO_SOURCE_COMPONENT = "falco";
/** KubeEvent.reporting_controller: who posted the alert (`faro-ingester/falco`, `faro-ingester/falcosidekick`). */
export const reportingController = (format: AlertFormat): string => `faro-ingester/${format}`;
/** Involved object of an alert without Kubernetes fields: the node (Falco's hostname). */
export const UNKNOWN_HOST = "unknown-host";

export interface MappedAlert {
  subject: string;
  msgId: string;
  event: Encodable<KubeEvent>;
}

function field(alert: FalcoAlert, name: string): string {
  const v = alert.output_fields?.[name];
  return typeof v === "string" && v !== "" && v !== "<NA>" ? v : "";
}

/**
 * The identity of an alert: falcosidekick's uuid, else a hash of the whole alert (Falco's http_output has no
 * id), so a client's retry of the same alert is one message (JetStream dedupe on the KubeEvent id).
 */
export function alertUid(alert: FalcoAlert): string {
  const basis = alert.uuid ? `uuid:${alert.uuid}` : `alert:${JSON.stringify(alert)}`;
  return `falco-${createHash("sha256").update(basis).digest("hex").slice(0, 32)}`;
}

/**
 * The alert as a Warning Event about the pod it names (`k8s.pod.name`, `k8s.ns.name`; the container as the
 * Event's fieldPath, like the kubelet's), or about the node (`hostname`) when it names no pod. The whole
 * alert travels in `object_json` under `falco`, so the filter redacts it like any Event.
 */
export function mapAlert(cluster: string, format: AlertFormat, alert: FalcoAlert, observedAtMs: number): MappedAlert {
  const pod = field(alert, "k8s.pod.name");
  const namespace = pod ? field(alert, "k8s.ns.name") : "";
  const container = field(alert, "container.name");
  const host = alert.hostname || UNKNOWN_HOST;
  const involved: ObjectRef = pod
    ? { apiVersion: "v1", kind: "Pod", namespace, name: pod, uid: "", fieldPath: container ? `spec.containers{${container}}` : "" }
    : { apiVersion: "v1", kind: "Node", namespace: "", name: host, uid: "", fieldPath: "" };
  const uid = alertUid(alert);
  const name = `${involved.name}.${uid.slice(6, 22)}`;
  // Falco writes nanoseconds; Events carry RFC3339 (eventTime with microseconds in the API, kept as given here).
  const time = alert.time;
  const object = {
    apiVersion: "v1",
    kind: "Event",
    metadata: { name, namespace, uid },
    involvedObject: involved,
    reason: alert.rule,
    message: alert.output,
    type: "Warning",
    source: { component: FALCO_SOURCE_COMPONENT, host },
    reportingComponent: reportingController(format),
    eventTime: time,
    count: 1,
    falco: {
      format,
      ...(alert.uuid ? { uuid: alert.uuid } : {}),
      rule: alert.rule,
      priority: alert.priority,
      source: alert.source ?? "",
      hostname: alert.hostname ?? "",
      tags: alert.tags ?? [],
      output_fields: alert.output_fields ?? {},
    },
  };
  const event: Encodable<KubeEvent> = {
    cluster,
    type: "ADDED",
    uid,
    resourceVersion: "1",
    namespace,
    name,
    reason: alert.rule,
    message: alert.output,
    eventType: "Warning",
    sourceComponent: FALCO_SOURCE_COMPONENT,
    sourceHost: host,
    reportingController: reportingController(format),
    involved,
    count: 1,
    firstTimestamp: time,
    lastTimestamp: time,
    eventTime: time,
    observedAtMs,
    objectJson: JSON.stringify(object),
  };
  return {
    subject: buildRawSubject(cluster, namespace, { category: "event", kind: involved.kind, name: involved.name }),
    msgId: busMsgId(eventId(uid, "1", "ADDED"), cluster),
    event,
  };
}
