// `faro replay --from <time|start> [--cluster C] [--redis URL] [--redis-prefix P] [--dir DIR]`: rebuilds the correlator's Redis
// state and the story files of one cluster from FARO_CLEAN into an empty key prefix and an empty directory (docs/replay.md).
import fs from "node:fs";
import path from "node:path";
import { connectBus, type Bus } from "@faro/bus";
import { parseDuration } from "@faro/config";
import type { CorrelatorConfig } from "@faro/correlator";
import { scopedKeyPrefix } from "@faro/kernel";
import { createLogger } from "@faro/observability";
import type { WriterConfig } from "@faro/writer";
import type { Redis } from "ioredis";
import { parseFlags, type Command, type CommandIO, type FlagSpec } from "../command.js";
import { CommandError, UsageError } from "../errors.js";
import type { ReplayFrom } from "../replay/replay.js";
import { loadService } from "../services.js";

/** Exit codes besides 0 (done), 1 (failed) and 2 (usage or configuration). */
export const REPLAY_EXIT = { horizon: 3, notEmpty: 4 } as const;

const FLAGS: FlagSpec = { from: "string", cluster: "string", redis: "string", "redis-prefix": "string", dir: "string", nats: "string", help: "boolean" };
const USAGE = "faro replay --from <start|TIME|DURATION> [--cluster C] [--redis URL] [--redis-prefix P] [--dir DIR] [--nats URL]";

/** `start`, an RFC 3339 time, or a duration meaning that long ago. */
export function parseFrom(v: string, nowMs = Date.now()): ReplayFrom | undefined {
  if (v === "start") return { kind: "start" };
  const d = parseDuration(v);
  if (d !== undefined) return { kind: "time", ms: nowMs - d };
  const t = /^\d{4}-\d{2}-\d{2}T/.test(v) ? Date.parse(v) : Number.NaN;
  return Number.isFinite(t) ? { kind: "time", ms: t } : undefined;
}

/**
 * Whether the correlator already has state under `prefix`: its cluster set or its clock. Only the correlator's own keys
 * count, since the log-streamer's keys share the default prefix (`faro:<cluster>:ls…`).
 */
async function prefixInUse(redis: Redis, prefix: string, cluster: string): Promise<boolean> {
  return (await redis.exists(`${prefix}clusters`, `${prefix}clock:${cluster}`)) > 0;
}

export const replayCommand: Command = {
  name: "replay",
  summary: "rebuild the correlator's Redis state and the story files from the streams (into a fresh prefix and an empty directory)",
  usage: USAGE,
  async run(args: string[], io: CommandIO): Promise<number> {
    const f = parseFlags(args, FLAGS, "replay");
    if (f.help) {
      io.out(USAGE);
      io.out("Feeds FARO_CLEAN of the cluster through the correlator's logic on the clock of the stream and writes the story files;");
      io.out("publishes nothing. The target key prefix and directory must be empty. Exit 3: the stream no longer holds the start;");
      io.out("exit 4: the target prefix or directory is not empty. The correlator's and writer's settings come from FARO_* / --config as for faro run.");
      return 0;
    }
    if (typeof f.from !== "string") throw new UsageError("--from is required: start, an RFC 3339 time or a duration ago (6h)", "replay");
    const from = parseFrom(f.from);
    if (!from) throw new UsageError(`--from must be start, an RFC 3339 time or a duration like 6h, got "${f.from}"`, "replay");
    const overrides: string[] = [];
    if (typeof f.cluster === "string") overrides.push("--cluster", f.cluster);
    if (typeof f.redis === "string") overrides.push("--redis.url", f.redis);
    if (typeof f.nats === "string") overrides.push("--nats.url", f.nats);
    if (typeof f["redis-prefix"] === "string") overrides.push("--state.keyPrefix", f["redis-prefix"]);
    // ConfigError propagates: main prints every problem and exits 2.
    const correlator = (await loadService("correlator", { argv: overrides, env: process.env })).config as unknown as CorrelatorConfig & { redis: { url: string }; nats: { url: string }; cluster: string };
    const writer = (await loadService("writer", { argv: typeof f.dir === "string" ? ["--dir", f.dir] : [], env: process.env })).config as unknown as WriterConfig;
    const cluster = correlator.cluster;
    const keyPrefix = correlator.state.keyPrefix ?? scopedKeyPrefix(cluster);
    const dir = path.resolve(writer.dir);
    if (fs.existsSync(dir) && fs.readdirSync(dir).length > 0) {
      io.err(`faro replay: ${dir} is not empty — replay writes into an empty directory (pass --dir)`);
      return REPLAY_EXIT.notEmpty;
    }
    // Loaded here, not at the CLI's start: the correlator's code and the Redis client are only for this command.
    const [{ replay, ReplayHorizonError }, { Redis: RedisClient }] = await Promise.all([import("../replay/replay.js"), import("ioredis")]);
    const logger = createLogger({ service: "replay", level: process.env.FARO_LOG_LEVEL ?? "error", pretty: false, destination: process.stderr });
    const redis: Redis = new RedisClient(correlator.redis.url, { lazyConnect: true, maxRetriesPerRequest: 3, enableAutoPipelining: true });
    redis.on("error", () => undefined); // a failing command rejects and fails the replay with its cause
    let bus: Bus | undefined;
    try {
      try {
        await redis.connect();
      } catch (err) {
        throw new CommandError(`cannot reach Redis at ${correlator.redis.url.replace(/\/\/[^@]*@/, "//***@")}: ${(err as Error).message}`, "replay", { cause: err });
      }
      if (await prefixInUse(redis, keyPrefix, cluster)) {
        io.err(`faro replay: Redis already holds correlator state under "${keyPrefix}" — replay into a fresh Redis or another prefix (--redis-prefix)`);
        return REPLAY_EXIT.notEmpty;
      }
      try {
        bus = await connectBus({ servers: correlator.nats.url, name: "faro-replay" });
      } catch (err) {
        throw new CommandError(`cannot connect to NATS at ${correlator.nats.url}: ${(err as Error).message}`, "replay", { cause: err });
      }
      const started = Date.now();
      const r = await replay({
        bus,
        redis,
        keyPrefix,
        correlator,
        cluster,
        from,
        dir,
        limits: { maxLogLines: writer.limits.maxLogLines, maxBytes: writer.limits.maxBytes },
        concurrency: correlator.consumer.concurrency,
        logger,
        onProgress: (done, total) => io.err(`replayed ${done}/${total} messages`),
      });
      for (const bad of r.invalid) io.err(`invalid story file not written: ${bad.file}: ${bad.errors.join("; ")}`);
      io.out(
        `replayed ${r.messages} FARO_CLEAN message(s) of cluster ${cluster} (seq ${r.firstSeq}..${r.lastSeq}) in ${((Date.now() - started) / 1000).toFixed(1)}s: ` +
          `${r.entries} story entries, ${r.incidents} incident revisions, ${r.files.length} file(s) in ${dir}, state under "${keyPrefix}"` +
          (r.malformed ? `, ${r.malformed} malformed message(s) skipped` : ""),
      );
      return r.invalid.length ? 1 : 0;
    } catch (err) {
      if (err instanceof ReplayHorizonError) {
        io.err(`faro replay: ${err.message}`);
        return REPLAY_EXIT.horizon;
      }
      throw err instanceof CommandError ? err : new CommandError(`replay failed: ${(err as Error).message}`, "replay", { cause: err });
    } finally {
      await bus?.close();
      redis.disconnect();
    }
  },
};
