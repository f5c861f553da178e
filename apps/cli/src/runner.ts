// Runs loaded services under runService: one (faro run) or several in one process (faro up, demo, capture).
import { createLogger, createMetrics, runService, type Logger, type ServiceHandle } from "@faro/observability";
import { CommandError } from "./errors.js";
import type { LoadedService, ServiceInstance, ServiceName } from "./services.js";

const VERSION = "0.1.0";

export interface StartServiceOptions {
  /** Wire SIGTERM/SIGINT to this service (faro run); false when several share the process. */
  handleSignals: boolean;
  /** Serve /metrics, /healthz, /readyz on the configured http.port (default true). */
  http?: boolean;
  /** Logger to use; default: createLogger from the service's log config. */
  logger?: Logger;
}

export interface RunningService {
  readonly name: ServiceName;
  readonly instance: ServiceInstance;
  readonly handle: ServiceHandle;
}

/** Starts one service; resolves once it is ready. Throws (after releasing what it took) when start fails. */
export async function startService(loaded: LoadedService, options: StartServiceOptions): Promise<RunningService> {
  const { config, name } = loaded;
  const logger = options.logger ?? createLogger({ service: name, level: config.log.level, pretty: config.log.pretty });
  const metrics = createMetrics(name, { version: VERSION });
  let instance: ServiceInstance | undefined;
  const handle = await runService({
    name,
    logger,
    metrics,
    shutdownTimeoutMs: config.shutdown.timeout,
    http: options.http === false ? undefined : { port: config.http.port, host: config.http.host },
    handleSignals: options.handleSignals,
    exitProcess: false,
    start: async (ctx) => {
      instance = loaded.create({ logger, metrics });
      ctx.addReadinessCheck(name, () => instance!.readiness());
      await instance.start();
    },
    stop: async () => {
      await instance?.stop();
    },
  });
  return { name, instance: instance!, handle };
}

export interface Pipeline {
  readonly services: readonly RunningService[];
  get(name: ServiceName): RunningService | undefined;
  /** Stops every service in reverse order (sinks last); 0 when all stopped cleanly, else 1. Idempotent. */
  stop(reason?: string): Promise<0 | 1>;
}

/**
 * Starts services in the given order (each its own durable consumer, no signal handling of its own).
 * When one fails to start, the ones already running are stopped and a CommandError names the failure.
 */
export async function startPipeline(
  loaded: readonly LoadedService[],
  options: { http?: boolean; logger?: (name: ServiceName) => Logger; onStarted?: (name: ServiceName) => void } = {},
): Promise<Pipeline> {
  const running: RunningService[] = [];
  let stopping: Promise<0 | 1> | undefined;
  const pipeline: Pipeline = {
    services: running,
    get: (name) => running.find((s) => s.name === name),
    stop(reason = "stop requested") {
      stopping ??= (async () => {
        let code: 0 | 1 = 0;
        for (const s of [...running].reverse()) {
          const r = await s.handle.stop(reason);
          if (r.code !== 0) code = 1;
        }
        return code;
      })();
      return stopping;
    },
  };
  for (const l of loaded) {
    try {
      running.push(await startService(l, { handleSignals: false, http: options.http, logger: options.logger?.(l.name) }));
      options.onStarted?.(l.name);
    } catch (err) {
      await pipeline.stop(`${l.name} failed to start`);
      const cause = (err as Error).cause as Error | undefined;
      throw new CommandError(`${l.name} failed to start: ${cause?.message ?? (err as Error).message}`, "pipeline", { cause: err });
    }
  }
  return pipeline;
}
