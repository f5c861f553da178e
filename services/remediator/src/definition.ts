// The remediator's service definition: what `faro run remediator` and the tests start through the kernel.
import { ConfigError } from "@faro/config";
import { FARO_DLQ, FARO_INCIDENT, FARO_RAW } from "@faro/contracts";
import { defineService } from "@faro/kernel";
import { configSchema } from "./config.js";
import { createRemediator } from "./service.js";
import { FARO_ACTION } from "./stream.js";

export const remediatorService = defineService({
  name: "remediator",
  summary: "opt-in policy-driven remediation of incidents (AutoRemediationPolicy), decisions as Actions on FARO_ACTION",
  schema: configSchema,
  // Reads FARO_INCIDENT and the policies on FARO_RAW; publishes FARO_ACTION; dead-letters into FARO_DLQ.
  streams: [FARO_RAW, FARO_INCIDENT, FARO_ACTION, FARO_DLQ],
  redis: false,
  validate: (config) => {
    if (!config.enabled) throw new ConfigError("remediator", [{ path: "enabled", message: "the remediator changes live objects and is opt-in: set enabled=true (FARO_ENABLED=true, --enabled=true)" }]);
  },
  create: (ctx) => createRemediator(ctx),
});
