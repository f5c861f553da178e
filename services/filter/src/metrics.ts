// The filter's own metrics: per-tenant output, noise lines dropped per rule, redaction hits, and the rule
// engine's cumulative per-rule figures (evaluations, matches, drops, evaluation time) mirrored as counters.
import { counter, type Counter, type Registry } from "@faro/observability";
import type { TenantMatcher } from "./rules/index.js";

export interface FilterMetrics {
  /** Clean messages published, per tenant and category. */
  published: Counter<"tenant" | "category">;
  /** Log lines per tenant: kept or dropped. */
  logLines: Counter<"tenant" | "outcome">;
  /** Log lines dropped, per tenant and rule. */
  logLinesDropped: Counter<"tenant" | "rule">;
  /** Masks applied, per redaction rule and category. */
  redactions: Counter<"rule" | "category">;
  /** Messages not forwarded because redaction failed (fail-safe), per category. */
  redactionFailures: Counter<"category">;
  /** Copies the rule engine's cumulative stats into the counters below (called before scrapes and at stop). */
  syncRuleStats(): void;
}

export function filterMetrics(registry: Registry, matcher: TenantMatcher): FilterMetrics {
  const ruleLabels = ["tenant", "rule", "action"] as const;
  const evaluations = counter(registry, { name: "faro_filter_rule_evaluations_total", help: "Messages (objects, events, log lines) a rule was evaluated on.", labelNames: ruleLabels });
  const matches = counter(registry, { name: "faro_filter_rule_matches_total", help: "Messages a rule matched.", labelNames: ruleLabels });
  const ruleDropped = counter(registry, { name: "faro_filter_rule_dropped_total", help: "Messages and log lines dropped because of an exclude rule.", labelNames: ruleLabels });
  const evalSeconds = counter(registry, {
    name: "faro_filter_rule_eval_seconds_total",
    help: "Time spent evaluating a rule (the sum of a summary; divide by faro_filter_rule_evaluations_total for the mean per message).",
    labelNames: ruleLabels,
  });
  const tenantMessages = counter(registry, {
    name: "faro_filter_tenant_messages_total",
    help: "Messages (log lines for class=log) in a tenant's namespaces, by outcome: in, out, dropped, dropped_no_include.",
    labelNames: ["tenant", "class", "outcome"],
  });
  const globalDrops = counter(registry, { name: "faro_filter_global_excluded_total", help: "Messages (log lines for class=log) in globally excluded namespaces.", labelNames: ["class"] });

  // Counters only go up: remember what was copied and add the difference.
  const last = new Map<string, number>();
  const ids = new Map<Counter<string>, number>();
  const add = (c: Counter<string>, labels: Record<string, string>, value: number) => {
    let id = ids.get(c);
    if (id === undefined) ids.set(c, (id = ids.size));
    const key = `${id}\u0000${JSON.stringify(labels)}`;
    const prev = last.get(key) ?? 0;
    if (value > prev) {
      c.inc(labels, value - prev);
      last.set(key, value);
    }
  };

  return {
    published: counter(registry, { name: "faro_filter_published_total", help: "Clean messages published, per tenant and category (obj, event, log).", labelNames: ["tenant", "category"] }),
    logLines: counter(registry, { name: "faro_filter_log_lines_total", help: "Log lines per tenant, kept or dropped.", labelNames: ["tenant", "outcome"] }),
    logLinesDropped: counter(registry, { name: "faro_filter_log_lines_dropped_total", help: "Log lines dropped per tenant and rule (noise rules, no include matched, excluded namespace).", labelNames: ["tenant", "rule"] }),
    redactions: counter(registry, { name: "faro_filter_redactions_total", help: "Secrets masked, per redaction rule and category.", labelNames: ["rule", "category"] }),
    redactionFailures: counter(registry, { name: "faro_filter_redaction_failures_total", help: "Messages withheld because redaction failed (dead-lettered without payload).", labelNames: ["category"] }),
    syncRuleStats() {
      const s = matcher.stats();
      for (const r of s.rules) {
        const l = { tenant: r.tenant, rule: r.rule, action: r.action };
        add(evaluations, l, r.evaluations);
        add(matches, l, r.matches);
        add(ruleDropped, l, r.dropped);
        add(evalSeconds, l, r.evalSeconds);
      }
      for (const t of s.tenants) {
        add(tenantMessages, { tenant: t.tenant, class: t.class, outcome: "in" }, t.in);
        add(tenantMessages, { tenant: t.tenant, class: t.class, outcome: "out" }, t.out);
        add(tenantMessages, { tenant: t.tenant, class: t.class, outcome: "dropped" }, t.dropped);
        add(tenantMessages, { tenant: t.tenant, class: t.class, outcome: "dropped_no_include" }, t.droppedNoInclude);
      }
      for (const [cls, n] of Object.entries(s.globalNamespaceDrops)) add(globalDrops, { class: cls }, n);
    },
  };
}
