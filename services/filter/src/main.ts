// The filter process: loads and validates its config (rules included; exit 2 on any problem), runs createFilter under runService.
import { createLogger, createMetrics, runService } from "@faro/observability";
import { loadFilterConfigOrExit } from "./config.js";
import { createFilter, SERVICE, type Filter } from "./service.js";

const config = loadFilterConfigOrExit({ argv: process.argv.slice(2), env: process.env });
const logger = createLogger({ service: SERVICE, level: config.log.level, pretty: config.log.pretty });
const metrics = createMetrics(SERVICE);
let filter: Filter | undefined;

try {
  await runService({
    name: SERVICE,
    logger,
    metrics,
    shutdownTimeoutMs: config.shutdown.timeout,
    http: { port: config.http.port, host: config.http.host },
    start: async (ctx) => {
      filter = createFilter(config, { logger, metrics });
      ctx.addReadinessCheck("consumer", () => (filter!.ready() ? true : { ok: false, detail: "not consuming FARO_RAW" }));
      await filter.start();
    },
    stop: async () => {
      await filter?.stop();
    },
  });
} catch (err) {
  // runService has logged the cause and stopped; exit non-zero (exitProcess handles the signal path).
  logger.error({ err }, "filter failed to start");
  process.exit(1);
}
