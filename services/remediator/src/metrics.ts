// The remediator's own metrics (faro_remediator_*), next to the standard service metrics on the same registry.
import { counter, gauge, type Counter, type Gauge, type Registry } from "@faro/observability";

export interface RemediatorMetrics {
  decisions: Counter<"decision" | "action" | "mode">;
  remediations: Counter<"phase" | "action">;
  policies: Gauge<"state">;
  policiesIgnored: Counter<"reason">;
  belowThreshold: Counter;
  trackedEvicted: Counter;
}

export function remediatorMetrics(registry: Registry): RemediatorMetrics {
  return {
    decisions: counter(registry, { name: "faro_remediator_decisions_total", help: "Decisions published as Actions, by decision (acted, dry_run, skipped_cooldown, escalated, failed, exhausted), action and mode.", labelNames: ["decision", "action", "mode"] }),
    remediations: counter(registry, { name: "faro_remediator_remediations_total", help: "Remediation resources entering a phase (pending, in_progress, succeeded, failed), by action.", labelNames: ["phase", "action"] }),
    policies: gauge(registry, { name: "faro_remediator_policies", help: "AutoRemediationPolicy objects held, by state (active, invalid).", labelNames: ["state"] }),
    policiesIgnored: counter(registry, { name: "faro_remediator_policies_ignored_total", help: "Policy changes ignored, by reason (invalid, limit, decode).", labelNames: ["reason"] }),
    belowThreshold: counter(registry, { name: "faro_remediator_below_threshold_total", help: "Matching incident revisions that did not reach a policy's trigger count within its window yet." }),
    trackedEvicted: counter(registry, { name: "faro_remediator_tracked_evicted_total", help: "(policy, target) states forgotten because remediator.maxTracked was reached." }),
  };
}
