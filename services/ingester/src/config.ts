// The ingester's configuration schema: listener, bearer token, body and rate bounds.
import { defineSchema, field, type ConfigOf } from "@faro/config";

export const configSchema = defineSchema(
  "ingester",
  {
    listen: field.object(
      {
        host: field.string({ description: "Address the ingest endpoint (POST /v1/falco, /v1/falcosidekick) binds to.", default: "0.0.0.0", example: "127.0.0.1" }),
        port: field.int({ description: "Port of the ingest endpoint (separate from `http.port`, which serves /metrics and health); 0 = any free port.", default: 9110, example: 8443, min: 0, max: 65535 }),
      },
      { description: "The HTTP endpoint Falco's http_output and falcosidekick's webhook output post alerts to." },
    ),
    auth: field.object(
      {
        tokenFile: field.string({
          description: "File holding the bearer token every request must carry (`Authorization: Bearer <token>`); surrounding whitespace is ignored. Without `tokenFile` or `token` the ingest endpoint stays closed.",
          optional: true,
          example: "/var/run/secrets/faro-ingester/token",
        }),
        token: field.string({ description: "The bearer token itself (prefer `tokenFile`, or the env `FARO_AUTH_TOKEN` from a Secret); never logged.", optional: true, example: "change-me-32-random-bytes" }),
      },
      { description: "Bearer-token authentication of the ingest endpoint." },
    ),
    ingest: field.object(
      {
        maxBodyBytes: field.bytes({ description: "Largest request body accepted; a larger one is refused with 413 before it is read in full.", default: "256KiB", example: "1MiB", min: 1024 }),
        ratePerSecond: field.number({ description: "Requests accepted per second on average (token bucket over all clients); beyond it 429 with Retry-After.", default: 200, example: 1000, min: 0.1 }),
        burst: field.int({ description: "Requests accepted at once above the average rate (the token bucket's size).", default: 400, example: 2000, min: 1 }),
        maxInFlight: field.int({ description: "Requests handled at once (parsing, validation, publishing); beyond it 429.", default: 256, example: 1024, min: 1 }),
      },
      { description: "Bounds of the ingest endpoint." },
    ),
  },
  { httpPort: 9107 },
);

export type IngesterConfig = ConfigOf<typeof configSchema>;
