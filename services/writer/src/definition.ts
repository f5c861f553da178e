// The writer's service definition: what `faro run writer`, `faro up` and the tests start through the kernel.
import { FARO_DLQ, FARO_INCIDENT, FARO_STORY } from "@faro/contracts";
import { defineService } from "@faro/kernel";
import { configSchema } from "./config.js";
import { createWriter } from "./service.js";

export const writerService = defineService({
  name: "writer",
  summary: "story windows from FARO_STORY as atomically written JSON files",
  schema: configSchema,
  // Reads FARO_STORY (entries) and FARO_INCIDENT (incident contexts); dead-letters into FARO_DLQ.
  streams: [FARO_STORY, FARO_INCIDENT, FARO_DLQ],
  redis: false,
  create: (ctx) => createWriter(ctx), // { start, stop, readiness, flush, retention, dir, writerMetrics }
});
