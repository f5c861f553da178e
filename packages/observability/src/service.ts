// runService: runs a service through its lifecycle — start, ready, SIGTERM/SIGINT → drain → stopped, forced stop after a timeout.
import type { Logger } from "pino";
import { ServiceStartError } from "./errors.js";
import { startHttpServer, type HttpServerHandle } from "./http.js";
import { Lifecycle, LIFECYCLE_STATES, type ReadinessCheck } from "./lifecycle.js";
import { createMetrics, type ServiceMetrics } from "./metrics.js";

/** A signal this soon after the first is the same Ctrl-C delivered twice (process group + wrapper), not a second one. */
const SAME_SIGNAL_MS = 150;

/** Exit codes of every Faro service (docs/spec/service.md). */
export const EXIT_CODES = { clean: 0, failed: 1, config: 2 } as const;

export interface ServiceContext {
  readonly name: string;
  readonly logger: Logger;
  readonly metrics: ServiceMetrics;
  readonly lifecycle: Lifecycle;
  /** Aborted when draining begins: loops stop taking new work, in-flight work finishes in stop(). */
  readonly signal: AbortSignal;
  /** Marks the service ready (only needed with `manualReady`; otherwise runService does it after start). */
  ready(): void;
  addReadinessCheck(name: string, check: ReadinessCheck): () => void;
}

export interface RunServiceOptions {
  name: string;
  /** Acquires resources and starts work. Runs while the state is `starting`. */
  start(ctx: ServiceContext): Promise<void> | void;
  /** Drains in-flight work and releases everything start took. Runs while the state is `draining`. */
  stop(ctx: ServiceContext): Promise<void> | void;
  /** How long stop() may take before the service stops by force (exit code 1). */
  shutdownTimeoutMs: number;
  logger: Logger;
  /** The service's metrics; created with createMetrics(name) when omitted. */
  metrics?: ServiceMetrics;
  /** The /metrics, /healthz, /readyz server; omitted = none. */
  http?: { port: number; host?: string };
  /** Wire SIGTERM/SIGINT (default true). `faro up` runs several services in one process and passes false. */
  handleSignals?: boolean;
  /** process.exit(code) once stopped (default: same as handleSignals). */
  exitProcess?: boolean;
  /** When true, start() calls ctx.ready() itself (e.g. after the first successful sync). */
  manualReady?: boolean;
}

export interface StopResult {
  /** 0 clean, 1 forced or failed. */
  readonly code: 0 | 1;
  readonly forced: boolean;
  readonly reason: string;
}

export interface ServiceHandle {
  readonly name: string;
  readonly lifecycle: Lifecycle;
  readonly metrics: ServiceMetrics;
  /** The health/metrics server, when `http` was given. */
  readonly http: HttpServerHandle | undefined;
  /** Drains and stops. Idempotent: every call returns the same result. */
  stop(reason?: string): Promise<StopResult>;
  /** Resolves when the service has stopped, however that happened. */
  readonly stopped: Promise<StopResult>;
}

/** Starts the service; resolves once start() returned (the service is ready unless `manualReady`). */
export async function runService(options: RunServiceOptions): Promise<ServiceHandle> {
  const { name, logger } = options;
  const handleSignals = options.handleSignals ?? true;
  const exitProcess = options.exitProcess ?? handleSignals;
  const metrics = options.metrics ?? createMetrics(name);
  const lifecycle = new Lifecycle(name);
  const abort = new AbortController();

  const showState = () => {
    for (const s of LIFECYCLE_STATES) metrics.state.set({ state: s }, s === lifecycle.state ? 1 : 0);
    metrics.ready.set(lifecycle.state === "ready" ? 1 : 0);
  };
  showState();
  lifecycle.onChange((to, from) => {
    showState();
    logger.info({ state: to, from }, `lifecycle: ${to}`);
  });

  const ctx: ServiceContext = {
    name,
    logger,
    metrics,
    lifecycle,
    signal: abort.signal,
    ready: () => {
      if (lifecycle.state === "starting") lifecycle.transition("ready");
    },
    addReadinessCheck: (checkName, check) => lifecycle.addReadinessCheck(checkName, check),
  };

  let httpServer: HttpServerHandle | undefined;
  let startSettled: Promise<unknown> = Promise.resolve();
  let forceNow: (reason: string) => void = () => {};
  const forced = new Promise<string>((resolve) => (forceNow = resolve));
  let stopping: Promise<StopResult> | undefined;
  let resolveStopped!: (r: StopResult) => void;
  const stopped = new Promise<StopResult>((resolve) => (resolveStopped = resolve));

  let firstSignalAt = 0;
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping === undefined) {
      firstSignalAt = Date.now();
      logger.info({ signal }, `${signal} received: draining`);
      void shutdown(signal);
    } else if (Date.now() - firstSignalAt <= SAME_SIGNAL_MS) {
      // The same Ctrl-C: the terminal signals the process group and a wrapper (npm, tsx) forwards a copy.
      logger.debug({ signal }, "duplicate signal ignored");
    } else {
      logger.warn({ signal }, `second signal ${signal}: stopping by force`);
      forceNow(`second ${signal}`);
    }
  };
  const removeSignals = () => {
    process.off("SIGTERM", onSignal);
    process.off("SIGINT", onSignal);
  };

  function shutdown(reason: string, startFailed = false): Promise<StopResult> {
    stopping ??= (async (): Promise<StopResult> => {
      if (lifecycle.state !== "draining" && lifecycle.state !== "stopped") lifecycle.transition(startFailed ? "stopped" : "draining");
      abort.abort(new Error(`${name} is stopping: ${reason}`));
      let timer: NodeJS.Timeout | undefined;
      // Deliberately not unref'd: a stop() hanging on a promise with no handles must still hit the deadline.
      const deadline = new Promise<"timeout">((resolve) => (timer = setTimeout(() => resolve("timeout"), options.shutdownTimeoutMs)));
      const work = (async () => {
        // A signal during start(): let start settle before stop() releases what it acquired.
        await startSettled;
        await options.stop(ctx);
        return "done" as const;
      })().catch((err: unknown) => err);
      const outcome = await Promise.race([work, deadline, forced.then((r) => ({ forcedBy: r }))]);
      clearTimeout(timer);
      let result: StopResult;
      if (outcome === "done") result = { code: startFailed ? 1 : 0, forced: false, reason };
      else if (outcome === "timeout") {
        logger.error({ timeoutMs: options.shutdownTimeoutMs }, `stop did not finish within ${options.shutdownTimeoutMs}ms: forced stop`);
        result = { code: 1, forced: true, reason: `${reason}; forced after ${options.shutdownTimeoutMs}ms` };
      } else if (typeof outcome === "object" && outcome !== null && "forcedBy" in outcome) {
        result = { code: 1, forced: true, reason: `${reason}; forced by ${outcome.forcedBy}` };
      } else {
        logger.error({ err: outcome }, "stop failed");
        metrics.errors.inc({ kind: "stop" });
        result = { code: 1, forced: false, reason: `${reason}; stop failed: ${(outcome as Error)?.message ?? String(outcome)}` };
      }
      if (lifecycle.state !== "stopped") lifecycle.transition("stopped");
      await httpServer?.close();
      removeSignals();
      logger.info({ code: result.code, forced: result.forced }, `stopped (exit code ${result.code})`);
      resolveStopped(result);
      if (exitProcess) process.exit(result.code);
      return result;
    })();
    return stopping;
  }

  if (handleSignals) {
    process.on("SIGTERM", onSignal);
    process.on("SIGINT", onSignal);
  }
  try {
    if (options.http) {
      httpServer = await startHttpServer({ ...options.http, registry: metrics.registry, lifecycle, logger });
      logger.info({ port: httpServer.port, url: httpServer.url }, "metrics and health endpoints listening");
    }
    const started = Promise.resolve().then(() => options.start(ctx));
    startSettled = started.catch(() => undefined);
    await started;
  } catch (err) {
    logger.error({ err }, "start failed");
    metrics.errors.inc({ kind: "start" });
    const result = await shutdown("start failed", true);
    throw new ServiceStartError(name, result.code, { cause: err });
  }
  if (!options.manualReady && lifecycle.state === "starting") lifecycle.transition("ready");
  return {
    name,
    lifecycle,
    metrics,
    http: httpServer,
    stop: (reason = "stop requested") => shutdown(reason),
    stopped,
  };
}
