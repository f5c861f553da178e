// Shared setup of the watcher's integration tests: real NATS + Redis + the simulated cluster, the watcher
// started through the kernel, reading FARO_RAW back and comparing it with the simulator's ground truth.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import * as k8s from "@kubernetes/client-node";
import { jetstreamManager } from "@nats-io/jetstream";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { decodeKubeEvent, decodeResourceChange, FARO_RAW, type KubeEvent, type ResourceChange } from "@faro/contracts";
import { startCluster, type Cluster, type ObjectChange } from "@faro/kube-sim";
import { loadServiceConfig, startService, type RunningService } from "@faro/kernel";
import type { Logger } from "@faro/observability";
import { startNats, startRedis, type ManagedServer, until } from "@faro/test-harness";
import { pino } from "pino";
import { watcherService } from "../src/definition.js";
import type { Watcher } from "../src/service.js";

export interface Env {
  nats: ManagedServer;
  redis: ManagedServer;
  cluster: Cluster;
  kc: k8s.KubeConfig;
  kubeconfigPath: string;
  nc: NatsConnection;
  dir: string;
  stop(): Promise<void>;
}

export async function startEnv(opts: { speed?: number; historySize?: number } = {}): Promise<Env> {
  const [nats, redis, cluster] = await Promise.all([startNats(), startRedis(), startCluster({ port: 0, speed: opts.speed ?? 50, historySize: opts.historySize })]);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "faro-watcher-test-"));
  const kubeconfigPath = path.join(dir, "kubeconfig");
  cluster.writeKubeconfig(kubeconfigPath);
  const kc = new k8s.KubeConfig();
  kc.loadFromString(cluster.kubeconfig());
  // nats-server may accept TCP a moment before it answers the protocol on a loaded machine: retry briefly.
  const nc = await until(() => connect({ servers: nats.url }).catch(() => undefined), "a test connection to NATS", 15_000);
  return {
    nats,
    redis,
    cluster,
    kc,
    kubeconfigPath,
    nc,
    dir,
    async stop() {
      await nc.close();
      await cluster.stop();
      await Promise.all([nats.stop(), redis.stop()]);
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Environment variables that configure a watcher against this Env (also used for the child process). */
export function envVars(env: Env, extra: Record<string, string> = {}): Record<string, string> {
  return {
    FARO_CLUSTER: "sim",
    FARO_NATS_URL: env.nats.url,
    FARO_REDIS_URL: env.redis.url,
    FARO_KUBE_KUBECONFIG: env.kubeconfigPath,
    FARO_HTTP_PORT: "0",
    FARO_HTTP_HOST: "127.0.0.1",
    FARO_LOG_LEVEL: "warn",
    FARO_LOG_PRETTY: "false",
    FARO_STATE_FLUSH_INTERVAL: "50ms",
    FARO_DISCOVERY_INTERVAL: "2s",
    FARO_WATCH_BACKOFF_MAX: "500ms",
    ...extra,
  };
}

/**
 * Starts an in-process watcher through the kernel as `faro run watcher` does: configuration from the
 * environment (the simulator's kubeconfig file included), its own metrics registry, the health server only
 * with `http: true` (on a free port). Stop it with `stop()`.
 */
export async function startWatcher(
  env: Env,
  extra: Record<string, string> = {},
  options: { http?: boolean; logger?: Logger } = {},
): Promise<RunningService<Watcher>> {
  const vars = envVars(env, extra);
  return await startService(watcherService, loadServiceConfig(watcherService, { env: vars }), {
    logger: options.logger ?? pino({ level: "warn" }),
    http: options.http ?? false,
    env: vars,
  });
}

/** True once the watcher is started and every watch has delivered its initial list. */
export const watcherReady = (w: RunningService<Watcher>): boolean => w.instance.status().ready;

/** The sum of a metric's series in a running service's registry. */
export async function metricSum(w: RunningService, name: string, labels: RegExp = /.*/): Promise<number> {
  let total = 0;
  for (const m of (await w.handle.metrics.registry.metrics()).matchAll(new RegExp(`^${name}\\{([^}]*)\\} (\\d+)`, "gm"))) {
    if (labels.test(m[1]!)) total += Number(m[2]);
  }
  return total;
}

export { until };

export type Published =
  | { category: "obj"; subject: string; msgId: string; msg: ResourceChange }
  | { category: "event"; subject: string; msgId: string; msg: KubeEvent };

// Messages read so far per connection: the stream only grows in these tests, so each read fetches the new tail.
const seen = new WeakMap<NatsConnection, { next: number; messages: Published[] }>();

/** Every message on FARO_RAW, in stream order (read back with direct gets by sequence). */
export async function readRaw(nc: NatsConnection): Promise<Published[]> {
  const jsm = await jetstreamManager(nc);
  let info;
  try {
    info = await jsm.streams.info(FARO_RAW.name);
  } catch {
    return []; // not provisioned yet: nothing published
  }
  let cache = seen.get(nc);
  if (!cache) seen.set(nc, (cache = { next: info.state.first_seq, messages: [] }));
  const out = cache.messages;
  for (let seq = Math.max(cache.next, info.state.first_seq); seq <= info.state.last_seq && info.state.messages > 0; seq++) {
    const m = await jsm.streams.getMessage(FARO_RAW.name, { seq });
    cache.next = seq + 1;
    if (!m) continue;
    const msgId = m.header?.get("Nats-Msg-Id") ?? "";
    if (m.subject.includes(".obj.")) out.push({ category: "obj", subject: m.subject, msgId, msg: decodeResourceChange(m.data) });
    else if (m.subject.includes(".event.")) out.push({ category: "event", subject: m.subject, msgId, msg: decodeKubeEvent(m.data) });
  }
  return [...out];
}

/** Kinds the default config does not publish as objects (Events travel as KubeEvent; the rest are excluded as noise). */
export const UNWATCHED_KINDS = new Set(["Event", "Lease", "Endpoints", "EndpointSlice"]);

export interface Comparison {
  /** Truth changes (after `sinceRv`) missing from the stream. */
  missing: string[];
  /** (uid, rv) published more than once. */
  duplicates: string[];
  /** Published states the truth never had. */
  invented: string[];
  /** Truth changes checked exactly (after sinceRv). */
  checked: number;
}

type Truthish = Pick<ObjectChange, "uid" | "resourceVersion" | "type">;
const key = (c: Truthish) => `${c.uid}|${c.resourceVersion}|${c.type}`;

/**
 * Compares published (uid, rv, type) with the truth. Exact for every truth change after `sinceRv`; a
 * state published by a list (before sinceRv, or after a relist) may say ADDED for a MODIFIED state.
 * With `finalStateOnly`, objects changed during `gaps` (watcher down or disconnected) need only their last
 * state, and a DELETED there is matched by uid (a relist reports it with the last known rv).
 */
export function compare(truth: Truthish[], published: Truthish[], opts: { sinceRv?: number; gapUids?: Set<string> } = {}): Comparison {
  const since = opts.sinceRv ?? 0;
  const byState = new Map<string, number>();
  for (const p of published) byState.set(`${p.uid}|${p.resourceVersion}|${p.type === "DELETED" ? "D" : "S"}`, (byState.get(`${p.uid}|${p.resourceVersion}|${p.type === "DELETED" ? "D" : "S"}`) ?? 0) + 1);
  const duplicates = [...byState].filter(([, n]) => n > 1).map(([k]) => k);
  const pubKeys = new Set(published.map(key));
  const pubStates = new Set(published.map((p) => `${p.uid}|${p.resourceVersion}`));
  const pubDeletedUids = new Set(published.filter((p) => p.type === "DELETED").map((p) => p.uid));
  const truthStates = new Map<string, Truthish>();
  for (const t of truth) truthStates.set(`${t.uid}|${t.resourceVersion}`, t);
  const lastByUid = new Map<string, Truthish>();
  for (const t of truth) lastByUid.set(t.uid, t);

  const missing: string[] = [];
  let checked = 0;
  for (const t of truth) {
    if (Number(t.resourceVersion) <= since) continue;
    if (opts.gapUids?.has(t.uid)) continue;
    checked++;
    if (!pubKeys.has(key(t))) missing.push(key(t));
  }
  for (const uid of opts.gapUids ?? []) {
    const last = lastByUid.get(uid);
    if (!last) continue;
    if (last.type === "DELETED" ? !pubDeletedUids.has(uid) : !pubStates.has(`${uid}|${last.resourceVersion}`)) missing.push(`final ${key(last)}`);
  }
  const invented: string[] = [];
  for (const p of published) {
    const t = truthStates.get(`${p.uid}|${p.resourceVersion}`);
    const gap = opts.gapUids?.has(p.uid) ?? false;
    // A relist DELETED (watcher down or disconnected) carries the last known rv, not the deletion's.
    const relistDelete = p.type === "DELETED" && gap && lastByUid.get(p.uid)?.type === "DELETED";
    if (!t) {
      if (!relistDelete) invented.push(`${key(p)} (no such state)`);
    } else if ((t.type === "DELETED") !== (p.type === "DELETED")) {
      if (!relistDelete) invented.push(`${key(p)} (truth says ${t.type})`);
    } else if (t.type !== p.type && !(Number(p.resourceVersion) <= since || gap)) {
      // ADDED for a MODIFIED state is what a list reports; a live watch must say exactly what happened.
      invented.push(`${key(p)} (truth says ${t.type})`);
    }
  }
  return { missing, duplicates, invented, checked };
}

export function objectsOf(published: Published[]): ResourceChange[] {
  return published.filter((p): p is Extract<Published, { category: "obj" }> => p.category === "obj").map((p) => p.msg);
}
export function eventsOf(published: Published[]): KubeEvent[] {
  return published.filter((p): p is Extract<Published, { category: "event" }> => p.category === "event").map((p) => p.msg);
}

export function deployment(name: string, ns: string, replicas = 2) {
  return {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name, namespace: ns, labels: { app: name } },
    spec: {
      replicas,
      selector: { matchLabels: { app: name } },
      template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: "app", image: "sim/app:1.0" }] } },
    },
  };
}
