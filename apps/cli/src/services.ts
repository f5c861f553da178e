// The five Faro services as data: how each loads its configuration and builds its in-process instance.
import type { LoadOptions } from "@faro/config";
import type { Logger, ServiceMetrics } from "@faro/observability";

/** In pipeline order: sources first, so stopping in reverse order stops the sinks last. */
export const SERVICE_NAMES = ["watcher", "log-streamer", "filter", "correlator", "writer"] as const;
export type ServiceName = (typeof SERVICE_NAMES)[number];

/** The common part of every loaded service configuration that the CLI reads. */
export interface CommonServiceConfig {
  cluster: string;
  nats: { url: string };
  redis: { url: string };
  log: { level: string; pretty: "auto" | "true" | "false" };
  http: { port: number; host: string };
  shutdown: { timeout: number };
}

/** What runService drives: every service factory has this shape. */
export interface ServiceInstance {
  start(): Promise<void>;
  stop(): Promise<void>;
  /** Readiness as /readyz reports it. */
  readiness(): boolean | { ok: boolean; detail?: string };
  /** Writer only: materialises every open story as a file now. */
  flush?(): Promise<unknown>;
}

export interface ServiceDeps {
  logger: Logger;
  metrics: ServiceMetrics;
}

/** A loaded, validated configuration and the factory bound to it. */
export interface LoadedService {
  name: ServiceName;
  config: CommonServiceConfig;
  create(deps: ServiceDeps): ServiceInstance;
}

const readyOf = (ok: boolean, detail: string) => (ok ? true : { ok: false, detail });
const common = (c: unknown) => c as CommonServiceConfig;

// Each service module is imported only when that service runs: `faro tail` or `faro run filter` do not
// pay for the Kubernetes client or the other services.
const LOADERS: Record<ServiceName, (o: LoadOptions) => Promise<LoadedService>> = {
  async watcher(o) {
    const [{ loadConfig }, m] = await Promise.all([import("@faro/config"), import("@faro/watcher")]);
    const config = loadConfig(m.configSchema, o);
    return {
      name: "watcher",
      config: common(config),
      create(deps) {
        const w = m.createWatcher(config, deps);
        return {
          start: () => w.start(),
          stop: () => w.stop(),
          readiness: () => {
            const s = w.status();
            const waiting = s.resources.filter((r) => !r.synced).map((r) => r.resource);
            return s.ready ? true : { ok: false, detail: s.started ? `not synced yet: ${waiting.join(", ") || "no watches"}` : "starting" };
          },
        };
      },
    };
  },
  async "log-streamer"(o) {
    const [{ loadConfig }, m] = await Promise.all([import("@faro/config"), import("@faro/log-streamer")]);
    const config = loadConfig(m.configSchema, o);
    return {
      name: "log-streamer",
      config: common(config),
      create(deps) {
        const s = m.createLogStreamer(config, { ...deps, replicaId: o.env?.FARO_LOG_STREAMER_REPLICA || undefined });
        return { start: () => s.start(), stop: () => s.stop(), readiness: () => s.ready() };
      },
    };
  },
  async filter(o) {
    const m = await import("@faro/filter");
    // loadFilterConfig also compiles the rules, so a bad pattern is a configuration error (exit 2).
    const config = m.loadFilterConfig(o);
    return {
      name: "filter",
      config: common(config),
      create(deps) {
        const f = m.createFilter(config, deps);
        return { start: () => f.start(), stop: () => f.stop(), readiness: () => readyOf(f.ready(), "not consuming FARO_RAW") };
      },
    };
  },
  async correlator(o) {
    const [{ loadConfig }, m] = await Promise.all([import("@faro/config"), import("@faro/correlator")]);
    const config = loadConfig(m.configSchema, o);
    return {
      name: "correlator",
      config: common(config),
      create(deps) {
        const c = m.createCorrelator(config, deps);
        return { start: () => c.start(), stop: () => c.stop(), readiness: () => readyOf(c.ready(), "not consuming FARO_CLEAN") };
      },
    };
  },
  async writer(o) {
    const [{ loadConfig }, m] = await Promise.all([import("@faro/config"), import("@faro/writer")]);
    const config = loadConfig(m.configSchema, o);
    return {
      name: "writer",
      config: common(config),
      create(deps) {
        const w = m.createWriter(config, deps);
        return { start: () => w.start(), stop: () => w.stop(), readiness: () => readyOf(w.ready(), "not consuming FARO_STORY"), flush: () => w.flush() };
      },
    };
  },
};

/** Loads and validates one service's configuration; throws ConfigError naming every problem. */
export function loadService(name: ServiceName, options: LoadOptions): Promise<LoadedService> {
  return LOADERS[name](options);
}

export function isServiceName(s: string): s is ServiceName {
  return (SERVICE_NAMES as readonly string[]).includes(s);
}
