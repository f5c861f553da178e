// The log-streamer's own metrics (faro_log_streamer_*), next to the service metrics every Faro service exposes.
import { counter, gauge, histogram, type Counter, type Gauge, type Histogram, type ServiceMetrics } from "@faro/observability";

export interface LogStreamerMetrics {
  readonly service: ServiceMetrics;
  readonly streamsActive: Gauge;
  readonly streamsQueued: Gauge;
  readonly streamsQueuedTotal: Counter;
  readonly streamsStarted: Counter;
  readonly streamsFinished: Counter<"outcome">;
  readonly lines: Counter<"source">;
  readonly bytes: Counter;
  readonly batches: Counter;
  readonly truncated: Counter;
  readonly takeovers: Counter;
  readonly leasesLost: Counter;
  readonly replays: Counter<"outcome">;
  readonly readErrors: Counter<"kind">;
  readonly linesLost: Counter<"reason">;
  readonly lag: Histogram;
  readonly podChanges: Counter<"type">;
  readonly instancesWanted: Counter;
  readonly stateLosses: Counter;
  readonly recovering: Gauge;
  readonly recovered: Counter<"from">;
}

export function logStreamerMetrics(service: ServiceMetrics): LogStreamerMetrics {
  const r = service.registry;
  return {
    service,
    streamsActive: gauge(r, { name: "faro_log_streamer_streams_active", help: "Container log streams this replica follows now." }),
    streamsQueued: gauge(r, { name: "faro_log_streamer_streams_queued", help: "Wanted container log streams no replica holds a lease on (last scan)." }),
    streamsQueuedTotal: counter(r, {
      name: "faro_log_streamer_streams_queued_total",
      help: "Times this replica left a wanted stream queued because it already followed streams.max streams.",
    }),
    streamsStarted: counter(r, { name: "faro_log_streamer_streams_started_total", help: "Streams this replica took a lease on and started." }),
    streamsFinished: counter(r, {
      name: "faro_log_streamer_streams_finished_total",
      help: "Streams that ended, by outcome (complete, gone, lost, lease_lost, stopped).",
      labelNames: ["outcome"],
    }),
    lines: counter(r, { name: "faro_log_streamer_lines_total", help: "Log lines published (first publish; replays that JetStream deduplicated are not counted).", labelNames: ["source"] }),
    bytes: counter(r, { name: "faro_log_streamer_bytes_total", help: "UTF-8 bytes of the log lines published." }),
    batches: counter(r, { name: "faro_log_streamer_batches_total", help: "Log batches published." }),
    truncated: counter(r, { name: "faro_log_streamer_truncated_lines_total", help: "Lines cut to lines.maxBytes." }),
    takeovers: counter(r, { name: "faro_log_streamer_lease_takeovers_total", help: "Streams resumed from a checkpoint another replica wrote." }),
    leasesLost: counter(r, { name: "faro_log_streamer_leases_lost_total", help: "Leases found taken or expired while this replica still followed the stream." }),
    replays: counter(r, {
      name: "faro_log_streamer_pending_replays_total",
      help: "Pending batches re-published after a takeover or restart (outcome published, duplicate, unrecoverable).",
      labelNames: ["outcome"],
    }),
    readErrors: counter(r, { name: "faro_log_streamer_read_errors_total", help: "Failed log or pod reads from the Kubernetes API, by kind.", labelNames: ["kind"] }),
    linesLost: counter(r, {
      name: "faro_log_streamer_instances_lost_total",
      help: "Container instances whose log could not be read to the end (pod gone first, restarted twice, ...), by reason.",
      labelNames: ["reason"],
    }),
    lag: histogram(r, {
      name: "faro_log_streamer_lag_seconds",
      help: "Publish time minus the timestamp of the newest line of a batch.",
      buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300],
    }),
    podChanges: counter(r, { name: "faro_log_streamer_pod_changes_total", help: "Pod changes consumed, by watch type.", labelNames: ["type"] }),
    instancesWanted: counter(r, { name: "faro_log_streamer_instances_wanted_total", help: "Container instances newly recorded as wanted streams." }),
    stateLosses: counter(r, {
      name: "faro_log_streamer_state_losses_total",
      help: "Times this replica found the Redis state lost (its epoch changed: FLUSHALL, Redis restarted empty) and recovered.",
    }),
    recovering: gauge(r, { name: "faro_log_streamer_recovering", help: "1 while this replica recovers from lost Redis state (readiness is false meanwhile)." }),
    recovered: counter(r, {
      name: "faro_log_streamer_checkpoints_recovered_total",
      help: "Streams resumed without their Redis checkpoint, by source: memory (the follower rewrote it), bus (its batches on FARO_RAW), none (nothing published: read from the start).",
      labelNames: ["from"],
    }),
  };
}
