// The writer process: loads its config, runs createWriter under runService (signals, /metrics, /readyz).
import { loadConfigOrExit } from "@faro/config";
import { createLogger, createMetrics, runService } from "@faro/observability";
import { configSchema } from "./config.js";
import { createWriter, type Writer } from "./service.js";

const config = loadConfigOrExit(configSchema, { argv: process.argv.slice(2), env: process.env });
const logger = createLogger({ service: "writer", level: config.log.level, pretty: config.log.pretty });
const metrics = createMetrics("writer");
let writer: Writer | undefined;

try {
  await runService({
    name: "writer",
    logger,
    metrics,
    shutdownTimeoutMs: config.shutdown.timeout,
    http: { port: config.http.port, host: config.http.host },
    start: async (ctx) => {
      writer = createWriter(config, { logger, metrics });
      ctx.addReadinessCheck("consumer", () => (writer!.ready() ? true : { ok: false, detail: "not consuming yet" }));
      await writer.start();
    },
    stop: async () => {
      await writer?.stop();
    },
  });
} catch (err) {
  // runService has logged the cause and stopped; exit non-zero (exitProcess handles the signal path).
  logger.error({ err }, "writer failed to start");
  process.exit(1);
}
