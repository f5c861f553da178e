// The correlator's service definition: what `faro run correlator`, `faro up` and the tests start through the kernel.
import { FARO_CLEAN, FARO_DLQ, FARO_INCIDENT, FARO_STORY } from "@faro/contracts";
import { defineService } from "@faro/kernel";
import { configSchema } from "./config.js";
import { createCorrelator } from "./service.js";

export const correlatorService = defineService({
  name: "correlator",
  summary: "stories per root workload, failure detection, debounce and incident contexts from FARO_CLEAN (state in Redis)",
  schema: configSchema,
  // Reads FARO_CLEAN; writes story entries to FARO_STORY and incident contexts to FARO_INCIDENT; dead-letters into FARO_DLQ.
  streams: [FARO_CLEAN, FARO_STORY, FARO_INCIDENT, FARO_DLQ],
  redis: true,
  // The kernel's Redis defaults are the correlator's: auto-pipelining (the commands of all handlers issued in
  // one event-loop tick go out as one socket write — a write per script call was its largest single CPU cost)
  // and 3 retries per request. So no redisOptions here.
  create: (ctx) => createCorrelator(ctx), // { start, stop, readiness, correlatorMetrics }
});
