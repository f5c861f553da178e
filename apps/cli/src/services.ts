// The services this application assembles, by name: each is a definition on @faro/kernel, imported only when
// it runs (`faro tail` or `faro run filter` do not pay for the Kubernetes client or the other services).
import type { LoadOptions } from "@faro/config";
import { loadServiceConfig, type AnyServiceDefinition, type KernelConfig, type ServiceInstance } from "@faro/kernel";

/** In pipeline order: sources first, so stopping in reverse order stops the sinks last. */
export const SERVICE_NAMES = ["ingester", "watcher", "log-streamer", "filter", "correlator", "analyzer", "writer", "forwarder"] as const;
/** Opt-in services: `faro run <name>` only (they refuse to start unless `enabled`), never part of `faro up`'s default set. */
export const OPTIONAL_SERVICE_NAMES = ["remediator"] as const;
export type ServiceName = (typeof SERVICE_NAMES)[number] | (typeof OPTIONAL_SERVICE_NAMES)[number];

const DEFINITIONS: Record<ServiceName, () => Promise<AnyServiceDefinition>> = {
  ingester: async () => (await import("@faro/ingester")).ingesterService,
  watcher: async () => (await import("@faro/watcher")).watcherService,
  "log-streamer": async () => (await import("@faro/log-streamer")).logStreamerService,
  filter: async () => (await import("@faro/filter")).filterService,
  correlator: async () => (await import("@faro/correlator")).correlatorService,
  analyzer: async () => (await import("@faro/analyzer")).analyzerService,
  writer: async () => (await import("@faro/writer")).writerService,
  forwarder: async () => (await import("@faro/forwarder")).forwarderService,
  remediator: async () => (await import("@faro/remediator")).remediatorService,
};

/** A service's definition with its loaded, validated configuration. */
export interface LoadedService {
  readonly name: ServiceName;
  readonly definition: AnyServiceDefinition;
  readonly config: KernelConfig;
}

/** The writer's instance can materialise every open story now (demo, capture). */
export interface Flushable extends ServiceInstance {
  flush(): Promise<unknown>;
}

export function definitionOf(name: ServiceName): Promise<AnyServiceDefinition> {
  return DEFINITIONS[name]();
}

/** Loads and validates one service's configuration; throws ConfigError naming every problem. */
export async function loadService(name: ServiceName, options: LoadOptions): Promise<LoadedService> {
  const definition = await definitionOf(name);
  return { name, definition, config: loadServiceConfig(definition, options) as KernelConfig };
}

/** The remediator's module (its Action codec, stream and subjects), loaded on demand like its definition. */
export function remediatorModule(): Promise<typeof import("@faro/remediator")> {
  return import("@faro/remediator");
}

export function isServiceName(s: string): s is ServiceName {
  return (SERVICE_NAMES as readonly string[]).includes(s) || (OPTIONAL_SERVICE_NAMES as readonly string[]).includes(s);
}
