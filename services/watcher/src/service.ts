// createWatcher: discovers resource types, runs one ResilientWatch per type and publishes every change and
// Kubernetes Event to FARO_RAW. Runs on the kernel (definition.ts): NATS, FARO_RAW, Redis and the publisher
// are the kernel's; the watcher owns its watches, discovery and timers.
import { FARO_RAW } from "@faro/contracts";
import type { KernelContext, ServiceInstance } from "@faro/kernel";
import { DiscoveryCache, loadKubeConfig, type KubeAccess, type ResourceInfo, type WatchEvent } from "@faro/kube";
import { backoffDelay, Semaphore, sleep } from "@faro/primitives";
import type { WatcherConfig } from "./config.js";
import { WatcherError } from "./errors.js";
import { watcherMetrics, type WatcherMetrics } from "./metrics.js";
import { LabelMemory } from "./labels.js";
import { isCrdType, Selection } from "./selection.js";
import { StateStore } from "./state.js";
import { ResourceWorker, type WorkerContext } from "./worker.js";

/** The publisher of FARO_RAW: logs, `faro_bus_*{publisher="watcher"}`, `faro_queue_depth{queue="publish_window_watcher"}`. */
export const PUBLISHER_NAME = "watcher";

export interface WatcherOptions {
  /** Kubernetes access; loaded from config.kube (or the defaults) at start when omitted. */
  kubeConfig?: KubeAccess;
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

export interface Watcher extends ServiceInstance {
  /** Loads the kube config, discovers and starts the watches. */
  start(): Promise<void>;
  /** Stops the watches, waits for publishes in flight and writes their acked state to Redis. Idempotent. */
  stop(): Promise<void>;
  /** Ready once started and every watch has delivered its initial list. */
  status(): WatcherStatus;
}

// Discovery may lag a CRD change by a moment (the API server publishes the type once it is established):
// it is checked at once, then again backing off from 250 ms to 8 s (about 16 s in all).
const CRD_RECHECKS = 6;
const CRD_BACKOFF = { baseMs: 250, maxMs: 8000 };

export function createWatcher(ctx: KernelContext<WatcherConfig>, options: WatcherOptions = {}): Watcher {
  const { config, metrics: service } = ctx;
  const logger = ctx.logger.child({ component: "watcher" });
  const registry = service.registry;
  const metrics: WatcherMetrics = watcherMetrics(registry);
  const selection = new Selection(config);
  const slots = new Semaphore(config.publish.window);
  const publisher = ctx.publisher({ name: PUBLISHER_NAME });
  // The kernel declares the window's capacity under this name; the watcher reports how much of it is in use.
  const window = service.queue(`publish_window_${PUBLISHER_NAME}`, config.publish.window);
  const labelQueue = service.queue("label_memory", config.events.labelMemory);
  const labels = new LabelMemory(config.events.labelMemory, () => metrics.labelEvictions.inc());
  const store = new StateStore(ctx.redis(), config.state.keyPrefix, config.cluster);

  let discovery: DiscoveryCache | undefined;
  let workerCtx: WorkerContext | undefined;
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
      if (trigger === "start") throw new WatcherError(`API discovery failed: ${(err as Error).message}`, { cause: err });
      logger.warn({ err, trigger }, "API discovery failed; keeping the current watches");
      return undefined;
    }
  }

  /** Starts watches for new resource types and stops those of vanished ones, one reconcile at a time. */
  function reconcile(discovered: readonly ResourceInfo[]): Promise<void> {
    reconciling = reconciling.then(async () => {
      if (stopped || !workerCtx) return;
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
        const w = new ResourceWorker(isCrdType(p.info) ? { ...workerCtx, onCrdChange } : workerCtx, p.info, p.role);
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
      for (let attempt = 0; attempt <= CRD_RECHECKS; attempt++) {
        if (stopped) return;
        // Draining aborts ctx.signal: a pending retry does not hold up stop().
        if (attempt > 0 && !(await sleep(backoffDelay(attempt, CRD_BACKOFF), ctx.signal, { ref: false }))) return;
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

  async function start(): Promise<void> {
    if (started || stopped) return;
    const kc = options.kubeConfig ?? loadKubeConfig({ kubeconfig: config.kube.kubeconfig, context: config.kube.context });
    const raw = await ctx.bus.jsm.streams.info(FARO_RAW.name);
    const duplicateWindowMs = raw.config.duplicate_window / 1e6;
    logger.info({ stream: FARO_RAW.name, duplicateWindowMs }, "FARO_RAW ready; replicas and restarts dedupe within its duplicate window");
    if (config.state.flushInterval * 4 > duplicateWindowMs) {
      logger.warn({ flushIntervalMs: config.state.flushInterval, duplicateWindowMs }, "state.flushInterval is close to the duplicate window: a restart may republish changes JetStream no longer dedupes");
    }
    workerCtx = {
      kc,
      cluster: config.cluster,
      selection,
      publisher,
      deadLetter: (request) => ctx.deadLetter(request),
      slots,
      store,
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
    // A failure here fails the start; the kernel then calls stop(), which releases the watches begun so far.
    await refresh("start");
    every(config.discovery.interval, () => void refresh("interval"));
    every(config.state.flushInterval, () => {
      window.setDepth(slots.inUse);
      labelQueue.setDepth(labels.size);
      metrics.resourcesSynced.set(syncedCount());
      void flushAll();
    });
    started = true;
    logger.info({ resources: workers.size, cluster: config.cluster }, "watcher started");
  }

  /** Drains the watcher's own work; the kernel then flushes the publisher and closes Redis and NATS. */
  function stop(): Promise<void> {
    stopping ??= (async () => {
      stopped = true;
      for (const t of timers) clearInterval(t);
      timers.clear();
      await reconciling.catch((err: unknown) => logger.warn({ err }, "reconcile failed while stopping"));
      await Promise.allSettled([...crdChecks.values(), ...refreshes]);
      // Each worker waits for its publishes in flight and writes their acked state to Redis.
      await Promise.all([...workers.values()].map((w) => w.stop()));
      workers.clear();
      labels.clear();
      window.setDepth(0);
      labelQueue.setDepth(0);
      metrics.resourcesWatched.set(0);
      metrics.resourcesSynced.set(0);
      logger.info("watcher stopped");
    })();
    return stopping;
  }

  function status(): WatcherStatus {
    return {
      started,
      ready: started && !stopped && workers.size > 0 && syncedCount() === workers.size,
      resources: [...workers.values()].map((w) => ({ resource: w.name, role: w.role, synced: w.synced, objects: w.objects })),
      unresolved: [...unresolved],
    };
  }

  return {
    start,
    stop,
    status,
    readiness: () => {
      const s = status();
      if (s.ready) return true;
      if (stopped) return { ok: false, detail: "stopped" };
      if (!s.started) return { ok: false, detail: "starting" };
      const waiting = s.resources.filter((r) => !r.synced).map((r) => r.resource);
      return { ok: false, detail: `not synced yet: ${waiting.join(", ") || "no watches"}` };
    },
  };
}
