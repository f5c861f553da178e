// The built-in analyzers and the one function that runs them on an incident: every analyzer that knows the
// incident contributes a finding; the most confident is the insight's conclusion, the rest go along.
import type { Finding, IncidentContext } from "@faro/contracts";
import type { BuiltinName } from "../config.js";
import { IncidentView } from "../view.js";
import { configRef } from "./config-ref.js";
import { exitCode } from "./exit-code.js";
import { imagePull } from "./image-pull.js";
import { nodePressure } from "./node-pressure.js";
import { oomKilled } from "./oomkilled.js";
import { probe } from "./probe.js";
import { rollout } from "./rollout.js";
import { scheduling } from "./scheduling.js";
import type { BuiltinAnalyzer } from "./types.js";

export const BUILTINS: Readonly<Record<BuiltinName, BuiltinAnalyzer>> = {
  oomkilled: oomKilled,
  "exit-code": exitCode,
  "image-pull": imagePull,
  "config-ref": configRef,
  probe,
  scheduling,
  rollout,
  "node-pressure": nodePressure,
};

/** The conclusion when no built-in analyzer recognises the incident. */
export const NO_FINDING_ANALYZER = "builtin:none";

/**
 * Runs the named analyzers; returns their findings, most confident first (ties keep the configured order).
 * An analyzer that throws is reported through `onError` and skipped: one bug must not cost the others.
 */
export function runBuiltins(incident: IncidentContext, names: readonly BuiltinName[], onError?: (name: BuiltinName, err: unknown) => void): Finding[] {
  const view = new IncidentView(incident);
  const findings: { f: Finding; order: number }[] = [];
  names.forEach((name, order) => {
    try {
      const f = BUILTINS[name].analyze(view);
      if (f) findings.push({ f: { ...f, confidence: Math.round(Math.min(1, Math.max(0, f.confidence)) * 100) / 100 }, order });
    } catch (err) {
      onError?.(name, err);
    }
  });
  return findings.sort((a, b) => b.f.confidence - a.f.confidence || a.order - b.order).map((x) => x.f);
}

/** The finding published when nothing matched: points at the incident's own message so it still rests on something. */
export function noFinding(incident: IncidentContext): Finding {
  const view = new IncidentView(incident);
  const msg = view.field("message");
  return {
    analyzer: NO_FINDING_ANALYZER,
    probableCause: `No built-in analyzer recognises a ${incident.reason} incident like this one; the incident says: ${incident.message || incident.reason}`,
    evidence: msg ? [msg] : [],
    nextSteps: ["Read the incident's log tail and Events in its story; configure an LLM provider (llm.provider) for a free-form analysis."],
    confidence: 0,
  };
}

export { IncidentView };
