// createWatcher: discovers resource types, runs one ResilientWatch per type and publishes every change and
// Kubernetes Event to FARO_RAW; usable in-process (`faro up`) or as its own process (main.ts).
import { Redis } from "ioredis";
import { connectBus, ensureStream, Publisher, type Bus } from "@faro/bus";
import { FARO_RAW } from "@faro/contracts";
import { DiscoveryCache, loadKubeConfig, type KubeAccess, type ResourceInfo, type WatchEvent } from "@faro/kube";
import { createLogger, createMetrics, type Logger, type Registry, type ServiceMetrics } from "@faro/observability";
import type { WatcherConfig } from "./config.js";
import { WatcherStartError } from "./errors.js";
import { watcherMetrics, type WatcherMetrics } from "./metrics.js";
import { LabelMemory } from "./labels.js";
import { isCrdType, Selection } from "./selection.js";
import { Slots } from "./slots.js";
import { StateStore } from "./state.js";
import { ResourceWorker, type WorkerContext } from "./worker.js";

export interface WatcherDeps {
  /** Kubernetes access; loaded from config.kube (or the defaults) when omitted. */
  kubeConfig?: KubeAccess;
  logger?: Logger;
  /** Registry for the watcher's metrics; ignored when `metrics` is given. */
  registry?: Registry;
  /** The service metrics runService exposes (so both share one registry). */
  metrics?: ServiceMetrics;
}

export interface WatchedResource {
  resource: string;
  role: "objects" | "events";
  synced: boolean;
  objects: number;
}

export interface WatcherStatus {
  started: boolean;
  ready: boolean;
  resources: WatchedResource[];
  /** Specs in the config that match nothing in discovery yet. */
  unresolved: string[];
}

export interface Watcher {
  /** Connects, provisions FARO_RAW, discovers and starts the watches. Throws WatcherStartError. */
  start(): Promise<void>;
  /** Stops the watches, waits for publishes in flight, writes acked state and closes connections. Idempotent. */
  stop(): Promise<void>;
  /** True once started and every watch has delivered its initial list. */
  ready(): boolean;
  status(): WatcherStatus;
  /** The service metrics (shared with runService when passed in deps). */
  readonly metrics: ServiceMetrics;
}

// Discovery may lag a CRD change by a moment (the API server publishes the type once it is established).
const CRD_RETRY_DELAYS_MS = [0, 200, 500, 1000, 2000, 4000, 8000];

export function createWatcher(config: WatcherConfig, deps: WatcherDeps = {}): Watcher {
  const logger = (deps.logger ?? createLogger({ service: "watcher", level: config.log.level, pretty: config.log.pretty })).child({ component: "watcher" });
  const service = deps.metrics ?? createMetrics("watcher", { registry: deps.registry, defaultMetrics: deps.registry === undefined });
  const registry = service.registry;
  const metrics: WatcherMetrics = watcherMetrics(registry);
  const selection = new Selection(config);
  const slots = new Slots(config.publish.window);
  const window = service.queue("publish_window", config.publish.window);
  const labelQueue = service.queue("label_memory", config.events.labelMemory);
  const labels = new LabelMemory(config.events.labelMemory, () => metrics.labelEvictions.inc());

  let kc: KubeAccess | undefined;
  let bus: Bus | undefined;
  let redis: Redis | undefined;
  let publisher: Publisher | undefined;
  let discovery: DiscoveryCache | undefined;
  let ctx: WorkerContext | undefined;
  const workers = new Map<string, ResourceWorker>();
  let unresolved: string[] = [];
  let started = false;
  let stopped = false;
  let stopping: Promise<void> | undefined;
  let reconciling: Promise<void> = Promise.resolve();
  const timers = new Set<NodeJS.Timeout>();
  const crdChecks = new Map<string, Promise<void>>();

  const every = (ms: number, fn: () => void) => {
    const t = setInterval(fn, ms);
    t.unref?.();
    timers.add(t);
  };

  // Resource types as the watcher believes in them: discovery skips a group version that fails (e.g. one
  // request reset), so a type missing from ONE refresh is kept until a second refresh confirms it, or a
  // CRD deletion explains it. Otherwise a transient error would stop watches and filter their changes.
  let effective: ResourceInfo[] = [];
  const misses = new Map<string, number>();
  const grKey = (r: { group: string; resource: string }) => `${r.group}/${r.resource}`;

  function merge(fresh: readonly ResourceInfo[], gone: ReadonlySet<string>): ResourceInfo[] {
    const present = new Set(fresh.map(grKey));
    const kept: ResourceInfo[] = [];
    for (const r of effective) {
      const k = grKey(r);
      if (present.has(k)) {
        misses.delete(k);
        continue;
      }
      const n = (misses.get(k) ?? 0) + 1;
      if (gone.has(k) || n >= 2) {
        misses.delete(k);
        continue;
      }
      misses.set(k, n);
      kept.push(r);
      logger.warn({ resource: k }, "resource type missing from one discovery refresh; keeping its watch until the next confirms it");
    }
    return [...fresh, ...kept];
  }

  const refreshes = new Set<Promise<unknown>>();
  function refresh(trigger: string, gone: ReadonlySet<string> = new Set()): Promise<ResourceInfo[] | undefined> {
    const p = doRefresh(trigger, gone);
    refreshes.add(p);
    const forget = () => refreshes.delete(p);
    p.then(forget, forget);
    return p;
  }

  async function doRefresh(trigger: string, gone: ReadonlySet<string>): Promise<ResourceInfo[] | undefined> {
    if (!discovery || stopped) return undefined;
    try {
      const change = await discovery.refresh();
      if (stopped) return undefined;
      metrics.discoveryRefreshes.inc({ trigger, result: "ok" });
      const next = merge(change.resources, gone);
      const keys = (list: readonly ResourceInfo[]) => list.map((r) => `${r.group}/${r.version}/${r.resource}`).sort().join(",");
      const changed = keys(next) !== keys(effective);
      effective = next;
      if (changed || trigger === "start") await reconcile(next);
      return change.resources;
    } catch (err) {
      metrics.discoveryRefreshes.inc({ trigger, result: "error" });
      service.errors.inc({ kind: "discovery" });
      if (trigger === "start") throw err;
      logger.warn({ err, trigger }, "API discovery failed; keeping the current watches");
      return undefined;
    }
  }

  /** Starts watches for new resource types and stops those of vanished ones, one reconcile at a time. */
  function reconcile(discovered: readonly ResourceInfo[]): Promise<void> {
    reconciling = reconciling.then(async () => {
      if (stopped || !ctx) return;
      const plan = selection.update(discovered);
      const gone = [...workers].filter(([key, w]) => plan.watches.get(key)?.role !== w.role);
      // Stop first: a type whose preferred version changed keeps its Redis hash, which the old worker must flush.
      await Promise.all(
        gone.map(async ([key, w]) => {
          workers.delete(key);
          logger.info({ resource: w.name }, "resource type gone from discovery or selection; stopping its watch");
          await w.stop();
        }),
      );
      for (const [key, p] of plan.watches) {
        if (workers.has(key) || stopped) continue;
        const w = new ResourceWorker(isCrdType(p.info) ? { ...ctx, onCrdChange } : ctx, p.info, p.role);
        workers.set(key, w);
        w.start();
        if (started) logger.info({ resource: w.name, role: p.role }, "watching a new resource type");
      }
      if (plan.unresolved.join() !== unresolved.join()) {
        unresolved = plan.unresolved;
        if (unresolved.length > 0) logger.info({ unresolved }, "resource specs that match nothing yet; watched once they appear");
      }
      metrics.resourcesWatched.set(workers.size);
    });
    return reconciling;
  }

  /** A CRD was created, changed or deleted: refresh discovery until its type (dis)appears. */
  function onCrdChange(ev: WatchEvent): void {
    const spec = (ev.object as { spec?: { group?: string; names?: { plural?: string } } }).spec;
    const group = spec?.group;
    const plural = spec?.names?.plural;
    const key = `${group}/${plural}`;
    if (crdChecks.has(key)) return;
    const check = (async () => {
      for (const delay of CRD_RETRY_DELAYS_MS) {
        if (stopped) return;
        if (delay > 0) await new Promise((r) => setTimeout(r, delay).unref?.());
        const resources = await refresh("crd", ev.type === "DELETED" && group && plural ? new Set([`${group}/${plural}`]) : new Set());
        // A CRD event without a readable spec (a stub DELETED) just gets one refresh.
        if (!group || !plural) return;
        const present = (resources ?? []).some((r) => r.group === group && r.resource === plural);
        if (resources && present === (ev.type !== "DELETED")) return;
      }
      logger.warn({ group, plural, type: ev.type }, "discovery did not reflect a CRD change after retries; the periodic refresh will");
    })().finally(() => crdChecks.delete(key));
    crdChecks.set(key, check);
  }

  let flushingAll = false;
  async function flushAll(): Promise<void> {
    // One round at a time: while Redis is slow or down, ticks must not queue up behind each other.
    if (flushingAll) return;
    flushingAll = true;
    try {
      await Promise.all([...workers.values()].map((w) => w.flush()));
    } finally {
      flushingAll = false;
    }
    let pending = 0;
    for (const w of workers.values()) pending += w.pending;
    metrics.statePending.set(pending);
  }

  function syncedCount(): number {
    let n = 0;
    for (const w of workers.values()) if (w.synced) n++;
    return n;
  }

  async function step<T>(name: string, fn: () => Promise<T> | T): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      throw new WatcherStartError(name, (err as Error).message, { cause: err });
    }
  }

  async function start(): Promise<void> {
    if (started || stopped) return;
    try {
      kc = await step("kubeconfig", () => deps.kubeConfig ?? loadKubeConfig({ kubeconfig: config.kube.kubeconfig, context: config.kube.context }));
      bus = await step("nats", () => connectBus({ servers: config.nats.url, name: "faro-watcher", logger, registry }));
      const b = bus;
      if (config.publish.ensureStream) {
        const info = await step("stream", () => ensureStream(b.jsm, FARO_RAW));
        const windowMs = info.config.duplicate_window / 1e6;
        logger.info({ stream: FARO_RAW.name, duplicateWindowMs: windowMs }, "FARO_RAW ready; replicas and restarts dedupe within its duplicate window");
        if (config.state.flushInterval * 4 > windowMs) {
          logger.warn({ flushIntervalMs: config.state.flushInterval, duplicateWindowMs: windowMs }, "state.flushInterval is close to the duplicate window: a restart may republish changes JetStream no longer dedupes");
        }
      } else {
        await step("stream", () => b.jsm.streams.info(FARO_RAW.name));
      }
      redis = new Redis(config.redis.url, { lazyConnect: true, maxRetriesPerRequest: 3 });
      redis.on("error", (err) => logger.debug({ err }, "redis connection error"));
      const r = redis;
      await step("redis", async () => {
        await r.connect();
        await r.ping();
      });
      publisher = new Publisher({
        js: bus.js,
        name: "watcher",
        window: config.publish.window,
        timeoutMs: config.publish.timeout,
        retryForMs: config.publish.retryFor,
        logger,
        registry,
        metrics: bus.metrics,
      });
      ctx = {
        kc,
        cluster: config.cluster,
        selection,
        publisher,
        slots,
        store: new StateStore(redis, config.state.keyPrefix, config.cluster),
        labels,
        logger,
        registry,
        metrics,
        service,
        watch: {
          watchdogMs: config.watch.watchdog,
          timeoutSeconds: Math.max(1, Math.round(config.watch.timeout / 1000)),
          pageSize: config.watch.pageSize,
          backoffMaxMs: config.watch.backoffMax,
        },
      };
      discovery = new DiscoveryCache(kc, { logger });
      await step("discovery", () => refresh("start"));
      every(config.discovery.interval, () => void refresh("interval"));
      every(config.state.flushInterval, () => {
        window.setDepth(slots.inUse);
        labelQueue.setDepth(labels.size);
        metrics.resourcesSynced.set(syncedCount());
        void flushAll();
      });
      started = true;
      logger.info({ resources: workers.size, cluster: config.cluster }, "watcher started");
    } catch (err) {
      await stop();
      throw err;
    }
  }

  function stop(): Promise<void> {
    stopping ??= (async () => {
      stopped = true;
      for (const t of timers) clearInterval(t);
      timers.clear();
      await reconciling.catch((err: unknown) => logger.warn({ err }, "reconcile failed while stopping"));
      await Promise.allSettled([...crdChecks.values(), ...refreshes]);
      // Workers first: each waits for its publishes in flight and writes their acked state to Redis.
      await Promise.all([...workers.values()].map((w) => w.stop()));
      workers.clear();
      labels.clear();
      labelQueue.setDepth(0);
      metrics.resourcesWatched.set(0);
      metrics.resourcesSynced.set(0);
      await publisher?.close();
      await bus?.close();
      if (redis) {
        try {
          await redis.quit();
        } catch (err) {
          logger.warn({ err }, "redis quit failed; disconnecting");
          redis.disconnect();
        }
      }
      logger.info("watcher stopped");
    })();
    return stopping;
  }

  return {
    start,
    stop,
    metrics: service,
    ready: () => started && !stopped && workers.size > 0 && syncedCount() === workers.size,
    status: () => ({
      started,
      ready: started && !stopped && workers.size > 0 && syncedCount() === workers.size,
      resources: [...workers.values()].map((w) => ({ resource: w.name, role: w.role, synced: w.synced, objects: w.objects })),
      unresolved: [...unresolved],
    }),
  };
}
