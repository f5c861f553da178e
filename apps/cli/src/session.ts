// An in-process pipeline for one run (faro demo, faro capture): its own cluster token, hence its own durables
// (`<token>_filter`, …), subjects and Redis keys, then stop sources → wait until drained → flush the writer →
// stop the rest → delete the run's own durables. It never looks at, changes or deletes another pipeline's.
import { randomBytes } from "node:crypto";
import { jetstreamManager } from "@nats-io/jetstream";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { Redis } from "ioredis";
import { natsClientOptions, redisClientOptions, scopedKeyPrefix } from "@faro/kernel";
import { createLogger } from "@faro/observability";
import { forwarderConsumers, pipelineConsumers, waitDrained } from "./drain.js";
import { CommandError } from "./errors.js";
import { startupGate } from "./quiet-log.js";
import { removeStaleRunConsumers } from "./stale.js";
import { loadPipelineConfig } from "./pipeline-config.js";
import { startPipeline, type Pipeline } from "./runner.js";
import type { Flushable, ServiceName } from "./services.js";

export interface SessionOptions {
  /** Prefix of the unique cluster token (`demo` → `demo-3f9a1c`). */
  tokenPrefix: string;
  /** Kubeconfig file of the cluster; the services' default loading when omitted. */
  kubeconfig?: string;
  nats?: string;
  redis?: string;
  /** Story files directory of the writer. */
  dir: string;
  /** Watch only these namespaces (names or globs). */
  namespaces?: readonly string[];
  /** Level of the services' own logs (to stderr). */
  logLevel: string;
  env: Readonly<Record<string, string | undefined>>;
  onProgress?(line: string): void;
}

export interface Session {
  /** Unique per run: subjects, story ids and Redis keys of this run never mix with others. */
  readonly cluster: string;
  readonly natsUrl: string;
  readonly nc: NatsConnection;
  readonly pipeline: Pipeline;
  /**
   * Ends the run: stops watcher and log-streamer, waits until filter, correlator and writer have nothing
   * pending and the streams are quiet, flushes the writer (every story gets its file), stops everything.
   */
  finish(options?: { drainTimeoutMs?: number }): Promise<0 | 1>;
  /** Stops everything at once (error paths). Idempotent. */
  abort(reason: string): Promise<void>;
}

const SOURCES: readonly ServiceName[] = ["watcher", "log-streamer"];

export async function startSession(o: SessionOptions): Promise<Session> {
  const cluster = `${o.tokenPrefix}-${randomBytes(3).toString("hex")}`;
  const overrides: Record<string, string> = { cluster, "log.level": o.logLevel, "log.pretty": "false" };
  if (o.kubeconfig) overrides["kube.kubeconfig"] = o.kubeconfig;
  if (o.nats) overrides["nats.url"] = o.nats;
  if (o.redis) overrides["redis.url"] = o.redis;
  const loaded = await loadPipelineConfig({
    env: o.env,
    overrides,
    serviceOverrides: {
      // The defaults, set so that a FARO_STATE_KEY_PREFIX in the environment cannot mix runs (the watcher's keys
      // carry the cluster whatever the prefix).
      watcher: o.namespaces ? { "namespaces.include": o.namespaces.join(",") } : {},
      "log-streamer": { "state.keyPrefix": scopedKeyPrefix(cluster, "ls") },
      correlator: { "state.keyPrefix": scopedKeyPrefix(cluster) },
      writer: { dir: o.dir },
    },
  });
  const natsUrl = loaded[0]!.config.nats.url;
  let nc: NatsConnection;
  try {
    nc = await connect({ ...natsClientOptions(loaded[0]!.config.nats), name: `faro-${o.tokenPrefix}` });
  } catch (err) {
    throw new CommandError(`cannot reach NATS at ${natsUrl} (${(err as Error).message}) — start it with: npm run services up (or point --nats / FARO_NATS_URL at a running NATS)`, o.tokenPrefix, { cause: err });
  }
  // A run killed with -9 leaves its durables behind: remove the dead ones, say so in one line.
  const stale = await removeStaleRunConsumers(nc).catch((err: unknown) => {
    process.stderr.write(`faro: could not look for consumers left by killed runs: ${(err as Error).message}\n`);
    return [];
  });
  if (stale.length > 0) {
    const runs = [...new Set(stale.map((c) => c.name.split("_")[0]))];
    process.stderr.write(`faro: removed ${stale.length} consumer(s) left by killed run(s) ${runs.join(", ")}\n`);
  }
  let pipeline: Pipeline;
  // Quiet start-up unless the services log at info or below (--verbose): lines held until all are ready.
  const gate = ["error", "fatal", "silent"].includes(o.logLevel) ? startupGate(process.stderr) : undefined;
  try {
    pipeline = await startPipeline(loaded, {
      http: false,
      // Services log to stderr so stdout carries only the command's own output.
      logger: (name) => createLogger({ service: name, level: o.logLevel, pretty: false, destination: gate ?? process.stderr }),
      onStarted: (name) => o.onProgress?.(`${name} ready`),
    });
    gate?.open();
  } catch (err) {
    gate?.discard();
    await removeSessionConsumers(nc, cluster);
    await nc.close();
    throw err;
  }
  let aborted: Promise<void> | undefined;
  const abort = (reason: string) =>
    (aborted ??= (async () => {
      await pipeline.stop(reason);
      await removeSessionConsumers(nc, cluster);
      await removeSessionState(loaded, cluster);
      await nc.close();
    })());
  return {
    cluster,
    natsUrl,
    nc,
    pipeline,
    abort,
    async finish(options = {}) {
      let code: 0 | 1 = 0;
      try {
        for (const name of SOURCES) {
          const r = await pipeline.get(name)?.handle.stop("run finished");
          if (r && r.code !== 0) code = 1;
        }
        o.onProgress?.("sources stopped; draining the pipeline");
        const jsm = await jetstreamManager(nc);
        await waitDrained(jsm, {
          consumers: pipelineConsumers(cluster).filter((c) => c.service !== "log-streamer"),
          quietMs: 1500,
          timeoutMs: options.drainTimeoutMs ?? 120_000,
          onProgress: (d) =>
            d.outstanding > 0 &&
            o.onProgress?.(`draining: ${Object.entries(d.byConsumer).map(([k, n]) => `${k} ${n}`).join(", ")} message(s) outstanding`),
        });
        o.onProgress?.("drained; writing every story");
        await (pipeline.get("writer")?.instance as Flushable | undefined)?.flush();
      } finally {
        const r = await pipeline.stop("run finished");
        if (r !== 0) code = 1;
        await removeSessionConsumers(nc, cluster);
        await removeSessionState(loaded, cluster);
        await nc.close();
      }
      return code;
    },
  };
}

/**
 * Deletes this run's Redis keys (the correlator's and log-streamer's `faro:<token>:…`, the forwarder's
 * `faro:<token>:fwd:…`, the watcher's `<keyPrefix>:<token>:…`): the token is unique to the run, so a shared Redis
 * keeps nothing of a finished demo or capture.
 */
async function removeSessionState(loaded: Array<{ name: string; config: unknown }>, cluster: string): Promise<void> {
  const first = loaded[0]?.config as { redis: Parameters<typeof redisClientOptions>[0] } | undefined;
  if (!first) return;
  const watcher = loaded.find((l) => l.name === "watcher")?.config as { state?: { keyPrefix?: string } } | undefined;
  const patterns = [`${scopedKeyPrefix(cluster)}*`, `${watcher?.state?.keyPrefix ?? "faro:watcher"}:${cluster}:*`];
  let redis: Redis | undefined;
  try {
    redis = new Redis(first.redis.url, { ...redisClientOptions(first.redis), lazyConnect: true, maxRetriesPerRequest: 1, enableOfflineQueue: false });
    await redis.connect();
    for (const match of patterns) {
      let cursor = "0";
      do {
        const [next, keys] = await redis.scan(cursor, "MATCH", match, "COUNT", 500);
        cursor = next;
        if (keys.length > 0) await redis.unlink(...keys);
      } while (cursor !== "0");
    }
  } catch (err) {
    // Not worth failing a finished run for.
    process.stderr.write(`faro: could not remove the run's Redis keys: ${(err as Error).message}\n`);
  } finally {
    redis?.disconnect();
  }
}

/**
 * Deletes this run's own durables (`<token>_log-streamer`, …, and the forwarder's `<token>_forwarder-<sink>`): the token is unique to the run, so nothing else
 * uses them. A killed run leaves them behind, harmlessly: no other run has its token.
 */
async function removeSessionConsumers(nc: NatsConnection, cluster: string): Promise<void> {
  try {
    const jsm = await jetstreamManager(nc);
    for (const c of [...pipelineConsumers(cluster), ...(await forwarderConsumers(jsm, cluster))]) {
      try {
        await jsm.consumers.delete(c.stream, c.durable);
      } catch (err) {
        if (!/consumer not found|stream not found/i.test((err as Error).message)) throw err;
      }
    }
  } catch (err) {
    // Not worth failing a finished run for.
    process.stderr.write(`faro: could not remove the run's consumers: ${(err as Error).message}\n`);
  }
}
