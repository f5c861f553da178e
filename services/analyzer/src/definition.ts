// The analyzer's service definition: what `faro run analyzer`, `faro up` and the tests start through the kernel.
import { ConfigError, type ConfigIssue } from "@faro/config";
import { FARO_DLQ, FARO_INCIDENT, FARO_INSIGHT } from "@faro/contracts";
import { defineService } from "@faro/kernel";
import { BUILTIN_NAMES, configSchema } from "./config.js";
import { createAnalyzer } from "./service.js";

export const analyzerService = defineService({
  name: "analyzer",
  summary: "probable causes of incidents (built-in analyzers, optional LLM) as insights on FARO_INSIGHT",
  schema: configSchema,
  // Reads FARO_INCIDENT; publishes FARO_INSIGHT; dead-letters into FARO_DLQ.
  streams: [FARO_INCIDENT, FARO_INSIGHT, FARO_DLQ],
  redis: false,
  validate: (config) => {
    const issues: ConfigIssue[] = [];
    for (const name of config.builtins) {
      if (!(BUILTIN_NAMES as readonly string[]).includes(name)) issues.push({ path: "builtins", message: `unknown built-in analyzer "${name}"`, value: name, allowed: BUILTIN_NAMES.join(", ") });
    }
    const l = config.llm;
    if (l.provider !== "none" && !l.model) issues.push({ path: "llm.model", message: `required when llm.provider is ${l.provider}` });
    if (l.apiKey !== undefined && l.apiKeyFile !== undefined) issues.push({ path: "llm.apiKeyFile", message: "set llm.apiKey or llm.apiKeyFile, not both" });
    if (issues.length) throw new ConfigError("analyzer", issues);
  },
  create: (ctx) => createAnalyzer(ctx), // { start, stop, readiness, analyzerMetrics }
});
