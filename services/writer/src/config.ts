// The writer's configuration schema: output directory, snapshots, size bounds, retention, consumer.
import { defineSchema, field, type ConfigOf } from "@faro/config";

export const configSchema = defineSchema(
  "writer",
  {
    dir: field.string({
      description: "Directory story files are written to, one sub-folder per namespace (`_cluster` for cluster-scoped workloads).",
      default: "./faro-data/stories",
      example: "/var/lib/faro/stories",
    }),
    snapshot: field.object(
      {
        interval: field.duration({
          description: "A story whose window is still open is written as a snapshot (closeReason `snapshot`) when it has new entries and this much wall time passed since its last file; 0 turns snapshots off.",
          default: "60s",
          example: "5m",
          min: 0,
        }),
        maxTracked: field.int({
          description: "Open story windows remembered for snapshots by one replica; beyond it the least recently updated is forgotten (its final file is still written on close).",
          default: 10_000,
          example: 50_000,
          min: 1,
        }),
      },
      { description: "Snapshots of long-running stories." },
    ),
    limits: field.object(
      {
        maxLogLines: field.int({
          description: "Log lines kept per pod container in one story file (first half and last half); the rest are elided and counted in `elided.logLines`.",
          default: 5000,
          example: 20_000,
          min: 2,
        }),
        maxBytes: field.bytes({
          description: "Target size of one story file: beyond it the per-container log line bound is halved until the file fits (or no log lines are left).",
          default: "32MiB",
          example: "8MiB",
          min: 4096,
        }),
      },
      { description: "Bounds of one story file." },
    ),
    retention: field.object(
      {
        maxAge: field.duration({ description: "Story files not modified for this long are removed; 0 keeps them forever.", default: "7d", example: "30d", min: 0 }),
        scanInterval: field.duration({ description: "How often the retention scan runs (also removes temp files left by a crashed writer).", default: "10m", example: "1h", min: 100 }),
        policies: field.array(
          field.object(
            {
              name: field.string({ description: "Name of the policy: the `policy` label of faro_writer_retention_deletions_total; unset = `policy-<index>`.", optional: true, example: "shop-short" }),
              tenant: field.string({ description: "Tenant pattern (exact, glob `team-*`, `/regex/`); unset = any tenant. Needs the file's `tenant`, so a file is read when this decides.", optional: true, example: "team-a" }),
              namespace: field.string({ description: "Namespace pattern (exact, glob `shop-*`, `/regex/`); unset = any namespace; cluster-scoped stories have the empty namespace (match it with `*`).", optional: true, example: "shop-*" }),
              maxAge: field.duration({ description: "Story files of matching stories not modified for this long are removed; 0 keeps them forever.", default: "7d", example: "1d", min: 0 }),
            },
            { description: "One retention policy." },
          ),
          {
            description: "Retention per tenant/namespace: the first policy matching a story file decides its maximum age; a file no policy matches gets `retention.maxAge` (policy label `default`).",
            default: [],
            example: [{ name: "shop-short", namespace: "shop-*", maxAge: "1d" }, { tenant: "team-a", maxAge: "30d" }],
          },
        ),
      },
      { description: "Retention of story files." },
    ),
    html: field.object(
      {
        enabled: field.boolean({
          description: "Also write one self-contained HTML page of each story file beside it (`<storyId>-w<window>.html`, same content, same retention; docs/story-page.md).",
          default: false,
          example: true,
        }),
      },
      { description: "HTML pages of story files." },
    ),
    readback: field.object(
      {
        idleTimeout: field.duration({
          description: "A read-back of a story window that receives nothing for this long fails and the entry is retried.",
          default: "10s",
          example: "30s",
          min: 100,
        }),
      },
      { description: "Reading story windows back from FARO_STORY." },
    ),
    consumer: field.object(
      {
        concurrency: field.int({ description: "Story entries handled at once by one replica (closes read and write a file each).", default: 16, example: 32, min: 1, max: 1024 }),
        maxAckPending: field.int({ description: "Unacknowledged entries the durable consumer allows across all replicas.", default: 4096, example: 10_000, min: 1 }),
        ackWait: field.duration({ description: "Redelivery timeout of an unacknowledged entry (long read-backs call working()).", default: "60s", example: "2m", min: 1000 }),
        maxDeliver: field.int({ description: "Deliveries before an entry is dead-lettered.", default: 10, example: 20, min: 1 }),
      },
      { description: "Consumption of the story stream (durable consumer `<cluster>_writer` on the cluster's subjects, shared by all replicas)." },
    ),
    admin: field.object(
      {
        enabled: field.boolean({ description: "Serve the admin API (GET /v1/stories, POST /v1/cleanup with a dry run by default; docs/story-management.md). Needs `admin.tokenFile` or `admin.token`.", default: false, example: true }),
        host: field.string({ description: "Address the admin API binds to.", default: "127.0.0.1", example: "0.0.0.0" }),
        port: field.int({ description: "Port of the admin API; 0 = any free port.", default: 9115, example: 9115, min: 0, max: 65535 }),
        tokenFile: field.string({ description: "File holding the bearer token every admin request must carry (a mounted Secret).", optional: true, example: "/var/run/secrets/faro-writer-admin/token" }),
        token: field.string({ description: "The admin bearer token itself (prefer `tokenFile` or the env `FARO_ADMIN_TOKEN`); never logged.", optional: true, example: "change-me" }),
      },
      { description: "The writer's admin API: story listing and cleanup (off by default)." },
    ),
  },
  { httpPort: 9105 },
);

export type WriterConfig = ConfigOf<typeof configSchema>;
