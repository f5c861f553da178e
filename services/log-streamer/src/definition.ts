// The log-streamer's service definition: what `faro run log-streamer`, `faro up` and the tests start through the kernel.
import { FARO_DLQ, FARO_RAW } from "@faro/contracts";
import { defineService } from "@faro/kernel";
import { configSchema } from "./config.js";
import { createLogStreamer, SERVICE_NAME } from "./service.js";

export const logStreamerService = defineService({
  name: SERVICE_NAME,
  summary: "follows every container's log and publishes batches to FARO_RAW (leases and checkpoints in Redis)",
  schema: configSchema,
  streams: [FARO_RAW, FARO_DLQ],
  redis: true,
  // ioredis' own default (20), which the log-streamer has always run with: lease renewals and checkpoint
  // writes wait out a Redis reconnect instead of failing their streams after 3 attempts (the kernel's default).
  redisOptions: { maxRetriesPerRequest: 20 },
  create: (ctx) => createLogStreamer(ctx),
});
