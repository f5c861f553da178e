// The watcher's service definition: what `faro run watcher`, `faro up` and the tests start through the kernel.
import { FARO_DLQ, FARO_RAW } from "@faro/contracts";
import { defineService } from "@faro/kernel";
import { configSchema } from "./config.js";
import { createWatcher } from "./service.js";

export const watcherService = defineService({
  name: "watcher",
  summary: "publishes every resource change and Kubernetes Event to FARO_RAW (acked state in Redis: restart without replay)",
  schema: configSchema,
  // FARO_DLQ: changes that cannot be encoded are dead-lettered (stage `encode`).
  streams: [FARO_RAW, FARO_DLQ],
  redis: true,
  create: (ctx) => createWatcher(ctx),
});
