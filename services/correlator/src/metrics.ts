// Correlator-specific metrics: stories, incidents, debounced repeats, harvest latency, entries.
import { counter, gauge, histogram, type Counter, type Gauge, type Histogram, type Registry } from "@faro/observability";

export interface CorrelatorMetrics {
  entries: Counter<"kind">;
  storiesOpened: Counter;
  storiesClosed: Counter<"why">;
  storiesOpen: Gauge;
  incidents: Counter<"reason">;
  incidentUpdates: Counter<"reason">;
  debouncedRepeats: Counter<"reason">;
  harvestSeconds: Histogram;
  settleSeconds: Histogram<"outcome">;
  ownerLookups: Counter<"how">;
  redeliveries: Counter;
  orderWaits: Counter<"outcome">;
}

export function correlatorMetrics(registry: Registry): CorrelatorMetrics {
  return {
    entries: counter(registry, { name: "faro_correlator_entries_total", help: "Story entries published, by entry kind.", labelNames: ["kind"] }),
    storiesOpened: counter(registry, { name: "faro_correlator_stories_opened_total", help: "Story windows opened." }),
    storiesClosed: counter(registry, { name: "faro_correlator_stories_closed_total", help: "Story windows closed, by why (idle, root-deleted, max-entries).", labelNames: ["why"] }),
    storiesOpen: gauge(registry, { name: "faro_correlator_stories_open", help: "Story windows open (cluster-wide, read from Redis at each scan)." }),
    incidents: counter(registry, { name: "faro_correlator_incidents_total", help: "New incidents published, by reason.", labelNames: ["reason"] }),
    incidentUpdates: counter(registry, { name: "faro_correlator_incident_updates_total", help: "Incident updates (repeat counts at the end of a debounce window), by reason.", labelNames: ["reason"] }),
    debouncedRepeats: counter(registry, { name: "faro_correlator_debounced_repeats_total", help: "Failure occurrences counted into an open incident instead of a new one.", labelNames: ["reason"] }),
    harvestSeconds: histogram(registry, { name: "faro_correlator_harvest_seconds", help: "Time to build an incident context, settle wait included.", buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5] }),
    settleSeconds: histogram(registry, { name: "faro_correlator_settle_seconds", help: "Wait for a crashed container's last log lines, by outcome (arrived, timeout).", labelNames: ["outcome"], buckets: [0.001, 0.01, 0.05, 0.1, 0.25, 0.5, 1] }),
    ownerLookups: counter(registry, { name: "faro_correlator_owner_lookups_total", help: "Owners not in the graph: fetched from the API, guessed from names, or missing.", labelNames: ["how"] }),
    orderWaits: counter(registry, { name: "faro_correlator_order_waits_total", help: "Object changes through the order gate, by outcome: immediate, waited (for an earlier version of the object), timeout (handed back).", labelNames: ["outcome"] }),
    redeliveries: counter(registry, { name: "faro_correlator_replayed_inputs_total", help: "Inputs seen before (redelivery or a second replica): their first outcome was replayed." }),
  };
}
