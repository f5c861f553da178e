// What sinks with `insights: true` receive from FARO_INSIGHT: the analyzer's insight about an incident revision the
// sink already showed, with its idempotency key and the webhook body (`insight.added`, docs/forwarder.md).
import { toCanonicalJson, type Insight, type JsonValue } from "@faro/contracts";

export interface InsightDelivery {
  /** `<incidentId>:<repeatCount>:insight:<analyzer>`: one insight per revision and source. */
  readonly key: string;
  readonly sink: string;
  readonly subject: string;
  readonly insight: Insight;
}

export function makeInsightDelivery(sink: string, subject: string, insight: Insight): InsightDelivery {
  return { key: `${insight.incidentId}:${insight.repeatCount}:insight:${insight.analyzer}`, sink, subject, insight };
}

/** The insight as short plain-text lines (Slack replies, ticket comments). */
export function insightLines(i: Insight): { title: string; lines: string[] } {
  const title = `Insight (${i.analyzer}, confidence ${Math.round(i.confidence * 100)}%) on revision ×${i.repeatCount}`;
  const lines = [`Probable cause: ${i.probableCause || "unknown"}`];
  if (i.nextSteps.length) lines.push("Next steps:", ...i.nextSteps.map((s) => `- ${s}`));
  for (const e of i.evidence.slice(0, 5)) if (e.quote) lines.push(`Evidence (${e.kind}): ${e.quote}`);
  return { title, lines };
}

/** The documented JSON body of an `insight.added` webhook event. */
export function insightJson(d: InsightDelivery): Record<string, JsonValue> {
  return { schemaVersion: 1, event: "insight.added", idempotencyKey: d.key, sink: d.sink, insight: toCanonicalJson("Insight", d.insight) };
}
