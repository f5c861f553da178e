// The correlator process: loads its config, runs createCorrelator under runService (signals, /metrics, /readyz).
import { loadConfigOrExit } from "@faro/config";
import { createLogger, createMetrics, runService } from "@faro/observability";
import { configSchema } from "./config.js";
import { createCorrelator, type Correlator } from "./service.js";

const config = loadConfigOrExit(configSchema, { argv: process.argv.slice(2), env: process.env });
const logger = createLogger({ service: "correlator", level: config.log.level, pretty: config.log.pretty });
const metrics = createMetrics("correlator");
let correlator: Correlator | undefined;

try {
  await runService({
    name: "correlator",
    logger,
    metrics,
    shutdownTimeoutMs: config.shutdown.timeout,
    http: { port: config.http.port, host: config.http.host },
    start: async (ctx) => {
      correlator = createCorrelator(config, { logger, metrics });
      ctx.addReadinessCheck("consumer", () => (correlator!.ready() ? true : { ok: false, detail: "not consuming yet" }));
      await correlator.start();
    },
    stop: async () => {
      await correlator?.stop();
    },
  });
} catch (err) {
  // runService has logged the cause and stopped; exit non-zero (exitProcess handles the signal path).
  logger.error({ err }, "correlator failed to start");
  process.exit(1);
}
