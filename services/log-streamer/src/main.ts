// Entry point: loads the configuration and runs the log-streamer under the shared service lifecycle.
import { loadConfigOrExit } from "@faro/config";
import { createLogger, createMetrics, runService } from "@faro/observability";
import { configSchema } from "./config.js";
import { SERVICE_NAME, createLogStreamer } from "./service.js";

const config = loadConfigOrExit(configSchema, { argv: process.argv.slice(2), env: process.env });
const logger = createLogger({ service: SERVICE_NAME, level: config.log.level, pretty: config.log.pretty });
const metrics = createMetrics(SERVICE_NAME, { version: "0.1.0" });
const streamer = createLogStreamer(config, { logger, metrics });

await runService({
  name: SERVICE_NAME,
  logger,
  metrics,
  shutdownTimeoutMs: config.shutdown.timeout,
  http: { port: config.http.port, host: config.http.host },
  start: async (ctx) => {
    ctx.addReadinessCheck("log-streamer", () => streamer.ready());
    await streamer.start();
  },
  stop: () => streamer.stop(),
});
