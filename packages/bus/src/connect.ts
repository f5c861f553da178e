// Connects to NATS with endless jittered-backoff reconnects, logs status changes and exposes JetStream handles.
import { connect, type Authenticator, type NatsConnection, type TlsOptions } from "@nats-io/transport-node";
import { jetstream, jetstreamManager, type JetStreamClient, type JetStreamManager } from "@nats-io/jetstream";
import { pino, type Logger } from "pino";
import type { Registry } from "prom-client";
import { BusConnectionError } from "./errors.js";
import { busMetrics, type BusMetrics } from "./metrics.js";

export interface ConnectBusOptions {
  servers: string | string[];
  /** Connection name, shown by the server (`nats server report connections`) and used as metric label. */
  name: string;
  logger?: Logger;
  registry?: Registry;
  /** -1 (default) reconnects forever. */
  maxReconnectAttempts?: number;
  /** First reconnect delay; doubles with the time spent disconnected up to `reconnectMaxWaitMs`. Default 250. */
  reconnectTimeWaitMs?: number;
  /** Default 5000. */
  reconnectMaxWaitMs?: number;
  /** Keep trying when the server is not reachable at start-up (e.g. NATS starting next to the service). */
  waitOnFirstConnect?: boolean;
  /** Default 5000: how long the initial TCP/handshake may take. */
  timeoutMs?: number;
  /** Default JetStream API request timeout (ms). Default 5000. */
  jsApiTimeoutMs?: number;
  user?: string;
  pass?: string;
  token?: string;
  /** Authenticators (user/password, token, NKey, .creds), as @faro/kernel builds them from configuration. */
  authenticator?: Authenticator[];
  /** TLS (CA, client certificate and key files); `tls://` URLs turn TLS on as well. */
  tls?: TlsOptions;
  /**
   * Capture where each request/publish started, for the stack of a later timeout (default false). The
   * client builds an Error (a stack trace) per request up front for this: ~3 % of a busy service's CPU,
   * for every message, to improve the rare timeout's stack.
   */
  asyncTraces?: boolean;
}

export interface Bus {
  readonly nc: NatsConnection;
  readonly js: JetStreamClient;
  readonly jsm: JetStreamManager;
  readonly logger: Logger;
  readonly metrics: BusMetrics;
  readonly registry: Registry;
  /** Drains subscriptions and closes the connection. Idempotent. */
  close(): Promise<void>;
}

/** Connects to NATS and JetStream. Throws BusConnectionError when the server or JetStream is unavailable. */
export async function connectBus(opts: ConnectBusOptions): Promise<Bus> {
  const logger = (opts.logger ?? pino({ name: "faro-bus", level: "warn" })).child({ component: "bus", connection: opts.name });
  const metrics = busMetrics(opts.registry);
  const baseMs = opts.reconnectTimeWaitMs ?? 250;
  const maxMs = opts.reconnectMaxWaitMs ?? 5000;
  let disconnectedAt = 0;

  // The client calls this before each dial; a wait that grows with the time spent disconnected gives an
  // exponential backoff, and the random factor keeps many replicas from reconnecting in lockstep.
  const reconnectDelayHandler = (): number => {
    const elapsed = disconnectedAt ? Date.now() - disconnectedAt : 0;
    return Math.round(Math.min(maxMs, Math.max(baseMs, elapsed)) * (0.75 + 0.5 * Math.random()));
  };

  let nc: NatsConnection;
  try {
    nc = await connect({
      servers: opts.servers,
      name: opts.name,
      maxReconnectAttempts: opts.maxReconnectAttempts ?? -1,
      reconnectTimeWait: baseMs,
      reconnectDelayHandler,
      waitOnFirstConnect: opts.waitOnFirstConnect ?? false,
      timeout: opts.timeoutMs ?? 5000,
      user: opts.user,
      pass: opts.pass,
      token: opts.token,
      ...(opts.authenticator ? { authenticator: opts.authenticator } : {}),
      ...(opts.tls ? { tls: opts.tls } : {}),
      noAsyncTraces: opts.asyncTraces !== true,
    });
  } catch (err) {
    throw new BusConnectionError(opts.servers, (err as Error).message, { cause: err });
  }
  metrics.connected.set({ connection: opts.name }, 1);
  logger.info({ server: nc.getServer() }, "connected to NATS");

  const statusLoop = (async () => {
    for await (const s of nc.status()) {
      switch (s.type) {
        case "disconnect":
          disconnectedAt = Date.now();
          metrics.connected.set({ connection: opts.name }, 0);
          logger.warn({ server: s.server }, "disconnected from NATS");
          break;
        case "reconnect":
          logger.info({ server: s.server, downMs: disconnectedAt ? Date.now() - disconnectedAt : 0 }, "reconnected to NATS");
          disconnectedAt = 0;
          metrics.connected.set({ connection: opts.name }, 1);
          metrics.reconnects.inc({ connection: opts.name });
          break;
        case "error":
          logger.warn({ err: s.error }, "NATS async error");
          break;
        case "staleConnection":
          logger.warn("stale NATS connection, forcing reconnect");
          break;
        case "slowConsumer":
          logger.warn({ subject: s.sub.getSubject(), pending: s.pending }, "slow consumer on a subscription");
          break;
        case "ldm":
          logger.warn({ server: s.server }, "server entering lame duck mode");
          break;
        default:
          logger.debug({ status: s.type }, "NATS status");
      }
    }
  })();

  nc.closed().then((err) => {
    metrics.connected.set({ connection: opts.name }, 0);
    if (err) logger.error({ err }, "NATS connection closed with error");
    else logger.info("NATS connection closed");
  });

  let js: JetStreamClient;
  let jsm: JetStreamManager;
  try {
    const timeout = opts.jsApiTimeoutMs ?? 5000;
    js = jetstream(nc, { timeout });
    jsm = await jetstreamManager(nc, { timeout });
  } catch (err) {
    await nc.close();
    throw new BusConnectionError(opts.servers, `JetStream is not available: ${(err as Error).message}`, { cause: err });
  }

  let closing: Promise<void> | undefined;
  return {
    nc,
    js,
    jsm,
    logger,
    metrics,
    registry: metrics.registry,
    close() {
      closing ??= (async () => {
        if (!nc.isClosed()) {
          try {
            await nc.drain();
          } catch (err) {
            // Drain fails when the connection is already closing or disconnected; close it outright.
            logger.warn({ err }, "drain failed, closing NATS connection");
            await nc.close();
          }
        }
        await nc.closed();
        await statusLoop;
        metrics.connected.set({ connection: opts.name }, 0);
      })();
      return closing;
    },
  };
}
