// An in-process pipeline for one run (faro demo, faro capture): its own cluster token and Redis keys, then
// stop sources → wait until drained → flush the writer → stop the rest.
import { randomBytes } from "node:crypto";
import { jetstreamManager } from "@nats-io/jetstream";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { FARO_RAW } from "@faro/contracts";
import { natsClientOptions } from "@faro/kernel";
import { createLogger } from "@faro/observability";
import { waitDrained, PIPELINE_CONSUMERS } from "./drain.js";
import { CommandError } from "./errors.js";
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
const LOG_STREAMER_DURABLE = "log-streamer";

export async function startSession(o: SessionOptions): Promise<Session> {
  const cluster = `${o.tokenPrefix}-${randomBytes(3).toString("hex")}`;
  const keyPrefix = `faro:${cluster}:`;
  const overrides: Record<string, string> = { cluster, "log.level": o.logLevel, "log.pretty": "false" };
  if (o.kubeconfig) overrides["kube.kubeconfig"] = o.kubeconfig;
  if (o.nats) overrides["nats.url"] = o.nats;
  if (o.redis) overrides["redis.url"] = o.redis;
  const loaded = await loadPipelineConfig({
    env: o.env,
    overrides,
    serviceOverrides: {
      watcher: { "state.keyPrefix": keyPrefix, ...(o.namespaces ? { "namespaces.include": o.namespaces.join(",") } : {}) },
      "log-streamer": { "state.keyPrefix": `${keyPrefix}ls` },
      correlator: { "state.keyPrefix": keyPrefix },
      writer: { dir: o.dir },
    },
  });
  const natsUrl = loaded[0]!.config.nats.url;
  let nc: NatsConnection;
  try {
    nc = await connect({ ...natsClientOptions(loaded[0]!.config.nats), name: `faro-${o.tokenPrefix}` });
  } catch (err) {
    throw new CommandError(`cannot connect to NATS at ${natsUrl} (${(err as Error).message}); start it with \`bash scripts/services.sh up\` or set FARO_NATS_URL`, o.tokenPrefix, { cause: err });
  }
  let pipeline: Pipeline;
  try {
    await removeStaleSessionConsumer(nc, o.onProgress);
    pipeline = await startPipeline(loaded, {
      http: false,
      // Services log to stderr so stdout carries only the command's own output.
      logger: (name) => createLogger({ service: name, level: o.logLevel, pretty: false, destination: process.stderr }),
      onStarted: (name) => o.onProgress?.(`${name} ready`),
    });
  } catch (err) {
    await nc.close();
    throw err;
  }
  let aborted: Promise<void> | undefined;
  const abort = (reason: string) =>
    (aborted ??= (async () => {
      await pipeline.stop(reason);
      await removeSessionConsumer(nc, cluster);
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
          consumers: PIPELINE_CONSUMERS.filter((c) => c.durable !== "log-streamer"),
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
        await removeSessionConsumer(nc, cluster);
        await nc.close();
      }
      return code;
    },
  };
}

// The log-streamer's durable filters on one cluster token, and its name is fixed: a durable left by an
// earlier demo/capture run (another token) would make this run's log-streamer fail to provision.
const SESSION_TOKEN = /^faro\.v1\.raw\.(?:demo|capture|e2e)-[0-9a-f]{6}\./;

async function logStreamerFilter(nc: NatsConnection): Promise<string | undefined> {
  const jsm = await jetstreamManager(nc);
  try {
    return (await jsm.consumers.info(FARO_RAW.name, LOG_STREAMER_DURABLE)).config.filter_subject ?? "";
  } catch (err) {
    if (/not found/i.test((err as Error).message)) return undefined;
    throw err;
  }
}

/** Deletes the log-streamer durable when an earlier session (not a real deployment) left it behind. */
async function removeStaleSessionConsumer(nc: NatsConnection, onProgress?: (s: string) => void): Promise<void> {
  const filter = await logStreamerFilter(nc);
  if (filter === undefined) return;
  if (!SESSION_TOKEN.test(filter)) {
    throw new CommandError(
      `NATS already has a log-streamer consumer for another pipeline (${filter}); run the demo against its own NATS (FARO_NATS_URL) or stop that pipeline`,
      "session",
    );
  }
  onProgress?.(`removing the log-streamer consumer an earlier run left (${filter})`);
  await (await jetstreamManager(nc)).consumers.delete(FARO_RAW.name, LOG_STREAMER_DURABLE);
}

/** Removes this session's own log-streamer durable (its filter names this session's token only). */
async function removeSessionConsumer(nc: NatsConnection, cluster: string): Promise<void> {
  try {
    const filter = await logStreamerFilter(nc);
    if (filter?.startsWith(`faro.v1.raw.${cluster}.`)) await (await jetstreamManager(nc)).consumers.delete(FARO_RAW.name, LOG_STREAMER_DURABLE);
  } catch (err) {
    // Left behind, the next session removes it; not worth failing a finished run for.
    process.stderr.write(`faro: could not remove the session's log-streamer consumer: ${(err as Error).message}\n`);
  }
}
