// The watcher process: loads its config, runs createWatcher under runService (signals, /metrics, /readyz).
import { loadConfigOrExit } from "@faro/config";
import { createLogger, createMetrics, runService } from "@faro/observability";
import { configSchema } from "./config.js";
import { createWatcher, type Watcher } from "./service.js";

const config = loadConfigOrExit(configSchema, { argv: process.argv.slice(2), env: process.env });
const logger = createLogger({ service: "watcher", level: config.log.level, pretty: config.log.pretty });
const metrics = createMetrics("watcher");
let watcher: Watcher | undefined;

try {
  await runService({
    name: "watcher",
    logger,
    metrics,
    shutdownTimeoutMs: config.shutdown.timeout,
    http: { port: config.http.port, host: config.http.host },
    start: async (ctx) => {
      watcher = createWatcher(config, { logger, metrics });
      ctx.addReadinessCheck("watches", () => {
        const s = watcher!.status();
        const waiting = s.resources.filter((r) => !r.synced).map((r) => r.resource);
        return s.ready ? true : { ok: false, detail: s.started ? `not synced yet: ${waiting.join(", ") || "no watches"}` : "starting" };
      });
      await watcher.start();
    },
    stop: async () => {
      await watcher?.stop();
    },
  });
} catch (err) {
  // runService has logged the cause and stopped; exit non-zero (exitProcess handles the signal path).
  logger.error({ err }, "watcher failed to start");
  process.exit(1);
}
