// The correlator's configuration schema: debounce, incident harvesting, story windows, stuck-pod thresholds, state TTLs, consumer.
import { defineSchema, field, type ConfigOf } from "@faro/config";
import type { CorrelatorSettings } from "./settings.js";

export const configSchema = defineSchema(
  "correlator",
  {
    debounce: field.object(
      {
        window: field.duration({
          description:
            "Failures of one workload, container and reason inside this window are one incident counting its repeats; an update follows at the window's end when repeats happened. Measured in Kubernetes time (event and container timestamps), so a sped-up simulator debounces in its own minutes.",
          default: "5m",
          example: "10m",
          min: 1,
        }),
      },
      { description: "Incident debounce." },
    ),
    incident: field.object(
      {
        logTailLines: field.int({ description: "Log lines kept per container instance and put into an incident's log tail.", default: 200, example: 500, min: 1, max: 100_000 }),
        settle: field.duration({
          description: "Wall time an incident waits for the crashed container's last log lines (ended early when its last batch arrives).",
          default: "500ms",
          example: "1s",
          min: 0,
        }),
        events: field.int({ description: "Related Events put into an incident context.", default: 30, example: 50, min: 0, max: 1000 }),
        changes: field.int({ description: "Recent changes (diffs) put into an incident context.", default: 20, example: 50, min: 0, max: 1000 }),
      },
      { description: "Incident contexts." },
    ),
    security: field.object(
      {
        minSeverity: field.enum(["info", "low", "medium", "high", "critical"] as const, {
          description: "Security findings (Trivy, Kyverno, Falco through the ingester) at or above this severity raise a SecurityFinding incident; all are told in the story.",
          default: "high",
          example: "critical",
        }),
        requireFix: field.boolean({ description: "A Trivy vulnerability raises an incident only when a fixed version exists.", default: true, example: false }),
        maxFindingsPerReport: field.int({ description: "Findings taken from one report version; the rest are counted in the last entry's evidence.", default: 200, example: 50, min: 1, max: 100_000 }),
      },
      { description: "Security findings (docs/security.md)." },
    ),
    story: field.object(
      {
        idleClose: field.duration({ description: "A story window closes after this much Kubernetes time without news.", default: "1h", example: "30m", min: 1000 }),
        rootDeletedGrace: field.duration({
          description: "A story window closes this long after its root workload was deleted, unless a workload of the same kind and name comes back.",
          default: "5m",
          example: "1m",
          min: 0,
        }),
        maxEntries: field.int({ description: "A window reaching this many entries closes and the story continues in a new window.", default: 10_000, example: 50_000, min: 10 }),
        replaceWindow: field.duration({ description: "A new pod within this time after another pod of the workload vanished is recorded as its replacement.", default: "10m", example: "1m", min: 0 }),
      },
      { description: "Story windows." },
    ),
    detect: field.object(
      {
        pendingAfter: field.duration({ description: "A pod Pending for longer is an incident (StuckPending).", default: "10m", example: "5m", min: 1000 }),
        terminatingAfter: field.duration({ description: "A pod still Terminating this long after its deletion deadline is an incident (StuckTerminating).", default: "10m", example: "5m", min: 1000 }),
        unhealthyThreshold: field.int({ description: "Probe failures (Unhealthy events, counted by the Event's count) before they are an incident.", default: 3, example: 5, min: 1 }),
        unknownObjectRetries: field.int({
          description: "Deliveries of an Event whose object is neither known nor readable from the API (its change may still be on its way) before the Event is told under the object itself.",
          default: 4,
          example: 2,
          min: 1,
          max: 20,
        }),
        scanInterval: field.duration({ description: "How often each replica ends due debounce windows, closes idle stories and scans for stuck pods.", default: "1s", example: "5s", min: 10 }),
      },
      { description: "Failure detection." },
    ),
    state: field.object(
      {
        keyPrefix: field.string({
          description: "Prefix of every Redis key of the correlator; unset = `faro:<cluster>:`, so the pipelines of several clusters share one Redis without meeting.",
          optional: true,
          example: "faro-prod:",
        }),
        ttl: field.duration({ description: "How long log buffers, object versions, the ownership graph and story state are kept after their last update.", default: "24h", example: "6h", min: 60_000 }),
        deletedTtl: field.duration({ description: "How long the last version of a deleted object is kept (manifests of incidents after deletion).", default: "1h", example: "6h", min: 1000 }),
        inputMemo: field.duration({ description: "How long the outcome of each input is remembered, so a redelivery replays it instead of applying twice. Must cover the redelivery horizon (consumer.maxDeliver × consumer.ackWait plus nak delays); each memo of an object change holds the previous version, so longer costs Redis memory.", default: "15m", example: "1h", min: 1000 }),
        eventsPerStory: field.int({ description: "Recent Events kept per story for incident contexts.", default: 100, example: 200, min: 1 }),
        changesPerStory: field.int({ description: "Recent diffs kept per story for incident contexts.", default: 50, example: 100, min: 1 }),
        ownerCache: field.int({
          description: "Owner chains (object → root workload) cached in each replica's memory for 30 s, so log batches and status updates of known pods need no Redis round trip to find their story; 0 turns the cache off. Gauge: faro_queue_depth{queue=\"owner_cache\"}.",
          default: 10_000,
          example: 50_000,
          min: 0,
        }),
      },
      { description: "Correlation state in Redis." },
    ),
    api: field.object(
      {
        enabled: field.boolean({
          description:
            "Read owners not seen yet and previous container logs missing from the buffers from the Kubernetes API (read-only GET). Off: unknown owners are resolved by the controllers' naming conventions and previous logs come only from the log buffers; the Kubernetes client is then never loaded, which saves most of the correlator's memory.",
          default: true,
          example: false,
        }),
      },
      { description: "Kubernetes API access of the correlator (connection settings under `kube`)." },
    ),
    consumer: field.object(
      {
        concurrency: field.int({ description: "Messages processed at once by one replica.", default: 64, example: 128, min: 1, max: 4096 }),
        maxAckPending: field.int({ description: "Unacknowledged messages the durable consumer allows across all replicas.", default: 4096, example: 10_000, min: 1 }),
        ackWait: field.duration({ description: "Redelivery timeout of an unacknowledged message.", default: "30s", example: "1m", min: 1000 }),
        maxDeliver: field.int({ description: "Deliveries before a message is dead-lettered.", default: 10, example: 20, min: 1 }),
        strictOrder: field.boolean({
          description:
            "Versions of one object are always handled in stream order across replicas: besides waiting for earlier versions in flight on another replica, each object change asks the stream whether an earlier version is still unprocessed (pulled by a replica that died before starting it). Costs one JetStream API request per object change; a single replica can turn it off.",
          default: true,
          example: false,
        }),
        outboxLease: field.duration({ description: "Lease of a due item (incident update, story close) while one replica publishes it.", default: "30s", example: "1m", min: 100 }),
      },
      { description: "Consumption of the clean stream (durable consumer `<cluster>_correlator` on the cluster's subjects, shared by all replicas)." },
    ),
  },
  { httpPort: 9104 },
);

export type CorrelatorConfig = ConfigOf<typeof configSchema>;

/** The loaded configuration as the processor's settings. */
export function settingsFrom(c: CorrelatorConfig): CorrelatorSettings {
  return {
    debounceWindowMs: c.debounce.window,
    logTailLines: c.incident.logTailLines,
    settleMs: c.incident.settle,
    idleCloseMs: c.story.idleClose,
    rootDeletedGraceMs: c.story.rootDeletedGrace,
    maxEntriesPerWindow: c.story.maxEntries,
    pendingThresholdMs: c.detect.pendingAfter,
    terminatingThresholdMs: c.detect.terminatingAfter,
    unhealthyThreshold: c.detect.unhealthyThreshold,
    stateTtlMs: c.state.ttl,
    deletedTtlMs: c.state.deletedTtl,
    markerTtlMs: c.state.inputMemo,
    replaceWindowMs: c.story.replaceWindow,
    eventsPerStory: c.state.eventsPerStory,
    changesPerStory: c.state.changesPerStory,
    contextEvents: c.incident.events,
    contextChanges: c.incident.changes,
    scanIntervalMs: c.detect.scanInterval,
    outboxLeaseMs: c.consumer.outboxLease,
    unknownObjectRetries: c.detect.unknownObjectRetries,
    ownerCacheEntries: c.state.ownerCache,
  };
}
