// The remediator's stream and subjects: Actions on faro.v1.action.<tenant>.<cluster>.<namespace> in FARO_ACTION.
import { escapeToken, namespaceToken, type StreamDefinition } from "@faro/contracts";

/** Defined here, like FARO_INSIGHT's siblings in @faro/contracts' streams.ts (same storage and limits policy). */
export const FARO_ACTION: StreamDefinition = {
  name: "FARO_ACTION",
  subjects: ["faro.v1.action.>"],
  description: "Remediator decisions (Action): acted, dry-run, skipped by cooldown, exhausted, failed, escalated",
  maxAgeMs: 30 * 24 * 3600_000,
  maxBytes: 1024 ** 3,
  maxMsgSize: 1024 ** 2,
  duplicateWindowMs: 2 * 60_000,
  storage: "file",
  retention: "limits",
  discard: "old",
  replicas: 1,
};

export function buildActionSubject(tenant: string, cluster: string, namespace: string): string {
  return `faro.v1.action.${escapeToken(tenant)}.${escapeToken(cluster)}.${namespaceToken(namespace)}`;
}

/** Filter for custom consumers; unset fields match any token. */
export function actionFilter(f: { tenant?: string; cluster?: string; namespace?: string } = {}): string {
  return `faro.v1.action.${f.tenant ? escapeToken(f.tenant) : "*"}.${f.cluster ? escapeToken(f.cluster) : "*"}.${f.namespace ? namespaceToken(f.namespace) : "*"}`;
}
