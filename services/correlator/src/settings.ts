// The correlator's tuning knobs as plain values (the config schema maps onto this; tests build it directly).

export interface CorrelatorSettings {
  /** Debounce window per (story, container, reason), in SOURCE (Kubernetes clock) milliseconds. */
  debounceWindowMs: number;
  /** Log lines kept per container instance and put in an incident's log tail. */
  logTailLines: number;
  /** Wall time to wait for a crashed container's last log lines before harvesting. */
  settleMs: number;
  /** A story window closes after this much source time without input. */
  idleCloseMs: number;
  /** A story window closes this long (source time) after its root was deleted, unless it comes back. */
  rootDeletedGraceMs: number;
  /** A window rolls over into a new one after this many entries. */
  maxEntriesPerWindow: number;
  /** A pod Pending longer than this (source time) is an incident. */
  pendingThresholdMs: number;
  /** A pod still Terminating this long past its deletion deadline is an incident. */
  terminatingThresholdMs: number;
  /** Unhealthy probe events count as a failure from this count on. */
  unhealthyThreshold: number;
  /** How long log buffers, object versions and story state are kept in Redis. */
  stateTtlMs: number;
  /** How long a deleted object's last version (for manifests) is kept. */
  deletedTtlMs: number;
  /** How long an input's outcome is remembered for redeliveries. */
  markerTtlMs: number;
  /** A pod that appears within this source time after another vanished replaces it. */
  replaceWindowMs: number;
  /** Related Events kept per story (for incident contexts). */
  eventsPerStory: number;
  /** Recent diffs kept per story (for incident contexts). */
  changesPerStory: number;
  /** Events and changes put into one incident context. */
  contextEvents: number;
  contextChanges: number;
  /** How often each replica promotes due items, publishes the outbox and scans for stuck pods. */
  scanIntervalMs: number;
  /** Deliveries of an Event whose object is unknown before it is told in a story of its own. */
  unknownObjectRetries: number;
  /** Wall-time lease of an outbox item while one replica publishes it. */
  outboxLeaseMs: number;
  /** Owner chains cached in process (saves Redis round trips per log batch); 0 turns the cache off. */
  ownerCacheEntries: number;
}

export const DEFAULT_SETTINGS: CorrelatorSettings = {
  debounceWindowMs: 5 * 60_000,
  logTailLines: 200,
  settleMs: 500,
  idleCloseMs: 60 * 60_000,
  rootDeletedGraceMs: 5 * 60_000,
  maxEntriesPerWindow: 10_000,
  pendingThresholdMs: 10 * 60_000,
  terminatingThresholdMs: 10 * 60_000,
  unhealthyThreshold: 3,
  stateTtlMs: 24 * 3600_000,
  deletedTtlMs: 3600_000,
  markerTtlMs: 15 * 60_000,
  replaceWindowMs: 10 * 60_000,
  eventsPerStory: 100,
  changesPerStory: 50,
  contextEvents: 30,
  contextChanges: 20,
  scanIntervalMs: 1000,
  outboxLeaseMs: 30_000,
  unknownObjectRetries: 4,
  ownerCacheEntries: 10_000,
};
