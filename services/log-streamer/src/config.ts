// The log-streamer's configuration schema: stream capacity, batching, line limits, leases, checkpoints and the
// pod-change consumer. Publishing (publish.*), NATS provisioning (nats.provision) and Redis are common settings.
import { defineSchema, field, type ConfigOf } from "@faro/config";

export const configSchema = defineSchema(
  "log-streamer",
  {
    replica: field.string({
      description:
        "Name of this replica in stream leases and checkpoints; unset = hostname-pid-random. A stable name (e.g. the StatefulSet pod name) lets a restarted replica resume its own leases at once instead of after lease.ttl.",
      optional: true,
      example: "log-streamer-0",
    }),
    streams: field.object(
      {
        max: field.int({
          description:
            "Container log streams this replica follows at once; further wanted streams stay queued (faro_log_streamer_streams_queued) until a slot or another replica takes them.",
          default: 2000,
          example: 500,
          min: 1,
          max: 100_000,
        }),
        scanInterval: field.duration({
          description: "How often each replica looks in Redis for wanted streams without a live lease and takes them.",
          default: "1s",
          example: "500ms",
          min: 10,
        }),
        retryDelay: field.duration({
          description: "First wait before re-reading a stream after an API error or an unexpected end (doubles up to 5s, ±20 % jitter).",
          default: "200ms",
          example: "1s",
          min: 1,
        }),
      },
      { description: "Container log streams." },
    ),
    batch: field.object(
      {
        lines: field.int({ description: "A batch is published once it holds this many lines.", default: 500, example: 1000, min: 1, max: 100_000 }),
        bytes: field.bytes({ description: "A batch is published once its lines add up to this many bytes.", default: "256KiB", example: "1MiB", min: 1024, max: 4 * 1024 * 1024 }),
        memory: field.bytes({
          description:
            "Bytes of log lines buffered or in flight across all streams of a replica; when spent, streams publish what they hold and pause reading (faro_queue_depth{queue=\"line_buffer_bytes\"}).",
          default: "32MiB",
          example: "64MiB",
          min: 1024 * 1024,
        }),
        flush: field.duration({
          description: "Longest time a line waits in a batch that is not full (while the previous batch of the same container is in flight, lines keep collecting).",
          default: "20ms",
          example: "5ms",
          min: 1,
        }),
      },
      { description: "Batching of log lines per container instance." },
    ),
    lines: field.object(
      {
        maxBytes: field.bytes({
          description: "Lines longer than this (UTF-8 bytes) are cut and end with `…[truncated N bytes]`; counted in faro_log_streamer_truncated_lines_total.",
          default: "16KiB",
          example: "64KiB",
          min: 64,
          max: 1024 * 1024,
        }),
        readMaxBytes: field.bytes({
          description: "Longest line held in memory while reading the API stream; beyond it the rest of the line is skipped (originalBytes then reports this bound).",
          default: "1MiB",
          example: "4MiB",
          min: 1024,
          max: 64 * 1024 * 1024,
        }),
      },
      { description: "Line limits." },
    ),
    lease: field.object(
      {
        ttl: field.duration({
          description: "A stream lease not renewed for this long expires and another replica resumes the stream from its checkpoint. Keep well under FARO_RAW's duplicate window (2m).",
          default: "10s",
          example: "15s",
          min: 100,
          max: 60_000,
        }),
        renew: field.duration({ description: "How often a replica renews its leases (a third of the ttl or less).", default: "3s", example: "5s", min: 20 }),
      },
      { description: "Stream leases shared by replicas (Redis)." },
    ),
    state: field.object(
      {
        keyPrefix: field.string({
          description: "Prefix of the Redis keys (wanted streams, leases, checkpoints); unset = `faro:<cluster>:ls`, so the pipelines of several clusters share one Redis without meeting.",
          optional: true,
          example: "faro-prod:ls",
        }),
        checkpointTtl: field.duration({
          description: "Checkpoints of container instances expire this long after their last write or pod change (longer than any pod stays silent).",
          default: "24h",
          example: "72h",
          min: 1000,
        }),
      },
      { description: "Checkpoints and stream bookkeeping in Redis." },
    ),
    consumer: field.object(
      {
        concurrency: field.int({ description: "Pod changes handled at once by this replica.", default: 32, example: 64, min: 1, max: 4096 }),
        ackWait: field.duration({ description: "Redelivery timeout of a pod change that was not acked.", default: "30s", example: "1m", min: 100 }),
        maxDeliver: field.int({ description: "Deliveries of a pod change before it is dead-lettered.", default: 10, example: 20, min: 1 }),
      },
      { description: "The durable `<cluster>_log-streamer` consumer of pod changes on FARO_RAW." },
    ),
  },
  { httpPort: 9102 },
);

export type LogStreamerConfig = ConfigOf<typeof configSchema>;
