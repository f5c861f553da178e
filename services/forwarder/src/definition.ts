// The forwarder's service definition: what `faro run forwarder`, `faro up` and the tests start through the kernel.
import { FARO_DLQ, FARO_INCIDENT, FARO_INSIGHT, FARO_STORY } from "@faro/contracts";
import { defineService } from "@faro/kernel";
import { compileForwarderConfig, configSchema, type CompiledForwarderConfig, type ForwarderConfig } from "./config.js";
import { createForwarder } from "./service.js";

// Routes and silences are compiled once when the configuration is validated, and reused by create().
const compiled = new WeakMap<ForwarderConfig, CompiledForwarderConfig>();

export const forwarderService = defineService({
  name: "forwarder",
  summary: "incidents from FARO_INCIDENT to webhooks, gRPC receivers, Slack, GitHub, Jira, S3 and directories, one durable per sink",
  schema: configSchema,
  // FARO_STORY: object storage and directory bundles read the story and its logs; FARO_INSIGHT: sinks with insights.
  streams: [FARO_INCIDENT, FARO_STORY, FARO_INSIGHT, FARO_DLQ],
  // Slack threads and tickets are found again by incident id after a restart (never a second message or ticket).
  redis: true,
  validate: (config) => {
    compiled.set(config, compileForwarderConfig(config));
  },
  create: (ctx) => createForwarder(ctx, compiled.get(ctx.config) ?? compileForwarderConfig(ctx.config)),
});
