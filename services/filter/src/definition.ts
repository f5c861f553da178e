// The filter's service definition: what `faro run filter`, `faro up` and the tests start through the kernel.
import { FARO_CLEAN, FARO_DLQ, FARO_RAW } from "@faro/contracts";
import { defineService } from "@faro/kernel";
import { compileFilterConfig, configSchema, type CompiledFilterConfig, type FilterConfig } from "./config.js";
import { createFilter } from "./service.js";

// Rules are compiled once when the configuration is validated, and reused when the service is created.
const compiledRules = new WeakMap<FilterConfig, CompiledFilterConfig>();

export const filterService = defineService({
  name: "filter",
  summary: "tenants, noise rules and redaction between FARO_RAW and FARO_CLEAN",
  schema: configSchema,
  streams: [FARO_RAW, FARO_CLEAN, FARO_DLQ],
  redis: false,
  validate: (config) => {
    compiledRules.set(config, compileFilterConfig(config));
  },
  create: (ctx) => createFilter(ctx, compiledRules.get(ctx.config)),
});
