// The writer's service definition: what `faro run writer`, `faro up` and the tests start through the kernel.
import { FARO_DLQ, FARO_INCIDENT, FARO_INSIGHT, FARO_STORY } from "@faro/contracts";
import { ConfigError, type ConfigIssue } from "@faro/config";
import { compileNamePattern, PatternError } from "@faro/primitives";
import { defineService } from "@faro/kernel";
import { readAdminToken } from "./admin.js";
import { configSchema } from "./config.js";
import { createWriter } from "./service.js";

export const writerService = defineService({
  name: "writer",
  summary: "story windows from FARO_STORY as atomically written JSON files",
  schema: configSchema,
  // Reads FARO_STORY (entries), FARO_INCIDENT (incident contexts) and FARO_INSIGHT (the analyzer's insights); dead-letters into FARO_DLQ.
  streams: [FARO_STORY, FARO_INCIDENT, FARO_INSIGHT, FARO_DLQ],
  redis: false,
  validate: (config) => {
    const issues: ConfigIssue[] = [];
    const names = new Set<string>();
    config.retention.policies.forEach((p, i) => {
      for (const k of ["tenant", "namespace"] as const) {
        const v = p[k];
        if (v === undefined) continue;
        try {
          compileNamePattern(v);
        } catch (err) {
          if (!(err instanceof PatternError)) throw err;
          issues.push({ path: `retention.policies[${i}].${k}`, message: err.reason, value: v });
        }
      }
      const name = p.name ?? `policy-${i}`;
      if (name === "default" || names.has(name)) issues.push({ path: `retention.policies[${i}].name`, message: name === "default" ? "`default` names the files no policy matches" : `two policies are named "${name}"`, value: name });
      names.add(name);
    });
    if (issues.length) throw new ConfigError("writer", issues);
    if (!config.admin.enabled) return;
    let token: string | undefined;
    try {
      token = readAdminToken(config.admin);
    } catch (err) {
      throw new ConfigError("writer", [{ path: "admin.tokenFile", message: `cannot read the token file: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, value: config.admin.tokenFile }]);
    }
    if (!token) throw new ConfigError("writer", [{ path: "admin.token", message: "admin.enabled needs admin.tokenFile or admin.token (the admin API is never open without a token)" }]);
  },
  create: (ctx) => createWriter(ctx), // { start, stop, readiness, flush, retention, dir, writerMetrics }
});
