// The remediator's configuration schema: opt-in switch, its incident consumer, and the bounds of its state.
import { defineSchema, field, type ConfigOf } from "@faro/config";

export const configSchema = defineSchema(
  "remediator",
  {
    enabled: field.boolean({
      description: "The remediator changes live objects, so it is opt-in: it refuses to start (exit 2) unless this is true.",
      default: false,
      example: true,
    }),
    consumer: field.object(
      {
        concurrency: field.int({ description: "Incident revisions handled at once by one replica.", default: 4, example: 8, min: 1, max: 256 }),
        maxAckPending: field.int({ description: "Unacknowledged incidents the durable consumer allows.", default: 256, example: 1024, min: 1 }),
        ackWait: field.duration({ description: "Redelivery timeout of an unacknowledged incident.", default: "60s", example: "2m", min: 1000 }),
        maxDeliver: field.int({ description: "Deliveries before an incident is dead-lettered (stage `deliver`).", default: 5, example: 10, min: 1 }),
      },
      { description: "Consumption of the incident stream (durable `<cluster>_remediator` on the cluster's FARO_INCIDENT subjects). Run one replica: trigger counts, cooldowns and attempts are kept in memory." },
    ),
    maxPolicies: field.int({ description: "AutoRemediationPolicy objects held; further ones are ignored (counted, logged).", default: 1000, example: 5000, min: 1 }),
    maxTracked: field.int({ description: "(policy, target) pairs whose trigger counts, cooldown and attempts are remembered; the least recently used is forgotten beyond this.", default: 10_000, example: 50_000, min: 1 }),
    policySyncTimeout: field.duration({ description: "How long start-up waits for the policies already on FARO_RAW before consuming incidents.", default: "30s", example: "1m", min: 100 }),
  },
  { httpPort: 9109 },
);

export type RemediatorConfig = ConfigOf<typeof configSchema>;
