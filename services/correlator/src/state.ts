// The correlator's Redis state: ownership graph, story windows, object versions, log buffers, debounce.
import type { Redis } from "ioredis";
import { StateError } from "./errors.js";
import { APPLY_LUA, DEBOUNCE_LUA, LEASE_LUA, PROMOTE_LUA, RECORD_CHANGE_LUA } from "./scripts.js";

export interface StoryRoot {
  storyId: string;
  tenant: string;
  cluster: string;
  namespace: string;
  rootKind: string;
  rootName: string;
  rootApiVersion: string;
  /** "" when the root's uid is not known (a root guessed from a name). */
  rootUid: string;
}

export interface ApplyRequest {
  inputId: string;
  story: StoryRoot;
  /** Source (Kubernetes clock) time of the input, epoch ms. */
  tsMs: number;
  /** tsMs is a Kubernetes timestamp (not a wall-clock fallback): it may advance the cluster's clock. */
  sourceTime: boolean;
  /** Raise tsMs to the cluster's clock (an object change whose newest timestamp is older than now). */
  floorToClock?: boolean;
  wallMs: number;
  /** How many story entries this input adds (for the maximum window length). */
  n: number;
  maxEntries: number;
  root?: "deleted" | "alive";
  graceMs: number;
  obj?: {
    uid: string;
    rv: string;
    kind: string;
    name: string;
    json: string;
    deleted: boolean;
    /** Pod only: terminating or deleted, so a later pod may replace it. */
    gone?: boolean;
    pendingSinceMs?: number;
    terminatingSinceMs?: number;
  };
  log?: { key: string; lines: string[]; limit: number; ttlMs: number; endOfStream: boolean };
  event?: { uid: string; json: string; scoreMs: number; keep: number };
  objTtlMs: number;
  deletedTtlMs: number;
  /** Versions kept per object so an input handled out of order still finds its predecessor, and for how long. */
  historyKeep: number;
  historyTtlMs: number;
  markerTtlMs: number;
  replaceWindowMs: number;
}

export interface ApplyResult {
  window: number;
  /** The input's time after floorToClock. */
  tsMs: number;
  opened: boolean;
  /** The window this one continues; -1 for a story's first window. */
  prevWindow: number;
  /** Window closed by this input because it reached the maximum length; -1 otherwise. */
  rolledFrom: number;
  /** The version before this input's (the newest older one known). */
  prevJson?: string;
  /** The latest stored version before this input was applied (absent: the object is new). */
  prevRv?: string;
  /** The input is older than the stored version of its object. */
  stale: boolean;
  replaces?: { uid: string; name: string };
  /** The input was applied before (redelivery): this is the first outcome. */
  dup: boolean;
}

export interface DebounceRequest {
  storyId: string;
  cluster: string;
  container: string;
  reason: string;
  occurrenceId: string;
  /** Incident id used when this occurrence opens a new episode. */
  incidentId: string;
  tsMs: number;
  wallMs: number;
  windowMs: number;
  ttlMs: number;
  /** The detection as JSON (kept as first/last occurrence of the episode). */
  detection: string;
  /** What an update needs to rebuild the incident (story root, owner chain…) as JSON. */
  context: string;
}

export interface DebounceResult {
  kind: "new" | "repeat";
  incidentId: string;
  count: number;
  dup: boolean;
}

export interface IncidentRecord {
  incidentId: string;
  count: number;
  firstMs: number;
  lastMs: number;
  first: string;
  last: string;
  storyId: string;
  cluster: string;
  context: string;
  /** The highest repeat count already published (0: not yet): no revision is published twice. */
  publishedCount: number;
}

export type OutboxItem =
  | { type: "update"; incidentId: string; count: number }
  | {
      type: "close";
      storyId: string;
      window: number;
      /** Set by PROMOTE_LUA: "root-deleted" (closing) or "idle". */
      why: "idle" | "root-deleted";
      tenant: string;
      cluster: string;
      namespace: string;
      rootKind: string;
      rootName: string;
      rootApiVersion: string;
      rootUid: string;
      lastMs: number;
    };

export interface OwnerRecord {
  apiVersion: string;
  kind: string;
  namespace: string;
  name: string;
  ownerUid: string;
  ownerKind: string;
  ownerName: string;
  ownerApiVersion: string;
}

type ScriptFn = (prefix: string, req: string, ...args: string[]) => Promise<unknown>;

/** Typed access to the Redis state; all keys start with `prefix` (default "faro:"). */
export class CorrelatorState {
  private readonly scripts: Record<string, ScriptFn>;

  constructor(
    readonly redis: Redis,
    readonly prefix = "faro:",
  ) {
    const defs = { faroApply: APPLY_LUA, faroRecordChange: RECORD_CHANGE_LUA, faroDebounce: DEBOUNCE_LUA, faroPromote: PROMOTE_LUA, faroLease: LEASE_LUA };
    const r = redis as unknown as Record<string, ScriptFn | undefined>;
    this.scripts = {};
    for (const [name, lua] of Object.entries(defs)) {
      if (!r[name]) redis.defineCommand(name, { numberOfKeys: 0, lua });
      const fn = (redis as unknown as Record<string, ScriptFn>)[name]!;
      this.scripts[name] = fn.bind(redis);
    }
  }

  private async run(name: string, req: unknown, args: readonly string[] = []): Promise<unknown> {
    try {
      return await this.scripts[name]!(this.prefix, JSON.stringify(req), ...args);
    } catch (err) {
      throw new StateError(name, { cause: err });
    }
  }

  async apply(req: ApplyRequest): Promise<ApplyResult> {
    // Log lines travel as plain script arguments (not inside the JSON request, which would escape them a
    // second time and make Lua decode them), and only the newest `limit`: the buffer keeps no more.
    let lines: readonly string[] = [];
    if (req.log) {
      lines = req.log.lines.length > req.log.limit ? req.log.lines.slice(-req.log.limit) : req.log.lines;
      req = { ...req, log: { ...req.log, lines: [] } };
    }
    const raw = (await this.run("faroApply", req, lines)) as string;
    const r = JSON.parse(raw) as ApplyResult & { replaces?: ApplyResult["replaces"] | unknown[] };
    // cjson encodes an empty table as {}; normalise optional fields.
    if (r.replaces && !("uid" in (r.replaces as object))) delete r.replaces;
    return r as ApplyResult;
  }

  async recordChange(storyId: string, inputId: string, tsMs: number, json: string, keep: number, ttlMs: number): Promise<void> {
    await this.run("faroRecordChange", { storyId, inputId, tsMs, json, keep, ttlMs });
  }

  async debounce(req: DebounceRequest): Promise<DebounceResult> {
    return JSON.parse((await this.run("faroDebounce", req)) as string) as DebounceResult;
  }

  /** Moves due debounce windows and story closes into the outbox; returns how many items it added. */
  async promote(wallMs: number, idleMs: number, limit = 100): Promise<number> {
    return Number(await this.run("faroPromote", { wallMs, idleMs, limit }));
  }

  /** Leases outbox items for `leaseMs`; call `done(item)` after publishing it. */
  async lease(wallMs: number, leaseMs: number, limit = 100): Promise<{ raw: string; item: OutboxItem }[]> {
    const items = (await this.run("faroLease", { wallMs, leaseMs, limit })) as string[];
    return items.map((raw) => ({ raw, item: JSON.parse(raw) as OutboxItem }));
  }

  async done(raw: string): Promise<void> {
    await this.redis.zrem(`${this.prefix}outbox`, raw);
  }

  async incident(incidentId: string): Promise<IncidentRecord | undefined> {
    const h = await this.redis.hgetall(`${this.prefix}inc:${incidentId}`);
    if (!h["count"]) return undefined;
    return {
      incidentId,
      count: Number(h["count"]),
      firstMs: Number(h["firstMs"]),
      lastMs: Number(h["lastMs"]),
      first: h["first"] ?? "{}",
      last: h["last"] ?? "{}",
      storyId: h["storyId"] ?? "",
      cluster: h["cluster"] ?? "",
      context: h["context"] ?? "{}",
      publishedCount: Number(h["pubCount"] ?? 0),
    };
  }

  /** True once a stuck pod was reported for `reason` (StuckPending, StuckTerminating). */
  async stuckReported(cluster: string, uid: string, reason: string): Promise<boolean> {
    return (await this.redis.exists(`${this.prefix}stuckrep:${cluster}:${uid}:${reason}`)) === 1;
  }

  /** Remembers (for `ttlMs`, the object's state lifetime) that a stuck pod was reported. */
  async markStuckReported(cluster: string, uid: string, reason: string, ttlMs: number): Promise<void> {
    await this.redis.set(`${this.prefix}stuckrep:${cluster}:${uid}:${reason}`, "1", "PX", ttlMs);
  }

  /**
   * Records that revision `count` of an incident was published (and, for a repeat about another pod, the
   * scope later updates are built from). Returns false when that revision or a later one already was:
   * the caller then publishes nothing.
   */
  async markPublished(incidentId: string, count: number, context?: string): Promise<boolean> {
    const key = `${this.prefix}inc:${incidentId}`;
    const res = (await this.redis.eval(
      `if redis.call('EXISTS', KEYS[1]) == 0 then return 1 end
       local cur = tonumber(redis.call('HGET', KEYS[1], 'pubCount') or '0')
       if cur >= tonumber(ARGV[1]) then return 0 end
       redis.call('HSET', KEYS[1], 'pubCount', ARGV[1])
       if ARGV[2] ~= '' then redis.call('HSET', KEYS[1], 'context', ARGV[2]) end
       return 1`,
      1,
      key,
      String(count),
      context ?? "",
    )) as number;
    return res === 1;
  }

  async putOwner(cluster: string, uid: string, rec: OwnerRecord, ttlMs: number): Promise<void> {
    const key = `${this.prefix}own:${cluster}:${uid}`;
    await this.redis.multi().hset(key, rec as unknown as Record<string, string>).pexpire(key, ttlMs).exec();
  }

  async getOwner(cluster: string, uid: string): Promise<OwnerRecord | undefined> {
    const h = await this.redis.hgetall(`${this.prefix}own:${cluster}:${uid}`);
    if (!h["kind"]) return undefined;
    return h as unknown as OwnerRecord;
  }

  /** The latest stored JSON of an object (kept for a while after deletion), with its kind. */
  async getObject(cluster: string, uid: string): Promise<{ json: string; kind: string; name: string; deleted: boolean } | undefined> {
    const h = await this.redis.hgetall(`${this.prefix}obj:${cluster}:${uid}`);
    if (!h["json"]) return undefined;
    return { json: h["json"], kind: h["kind"] ?? "", name: h["name"] ?? "", deleted: h["deleted"] === "1" };
  }

  /** True once the instance's last batch (endOfStream) was stored: all its lines are in the buffer. */
  async logComplete(cluster: string, key: string): Promise<boolean> {
    return (await this.redis.exists(`${this.prefix}log:${cluster}:${key}:eos`)) === 1;
  }

  /** Newest first, at most `limit` lines (as stored JSON strings). */
  async logLines(cluster: string, key: string, limit: number): Promise<string[]> {
    return await this.redis.lrange(`${this.prefix}log:${cluster}:${key}`, 0, limit - 1);
  }

  async recentEvents(storyId: string, limit: number): Promise<string[]> {
    const uids = await this.redis.zrevrange(`${this.prefix}evz:${storyId}`, 0, limit - 1);
    if (uids.length === 0) return [];
    const vals = await this.redis.hmget(`${this.prefix}evh:${storyId}`, ...uids);
    return vals.filter((v): v is string => v !== null);
  }

  async recentChanges(storyId: string, limit: number): Promise<string[]> {
    const ids = await this.redis.zrevrange(`${this.prefix}chgz:${storyId}`, 0, limit - 1);
    if (ids.length === 0) return [];
    const vals = await this.redis.hmget(`${this.prefix}chgh:${storyId}`, ...ids);
    return vals.filter((v): v is string => v !== null);
  }

  /** Source clock of a cluster, advanced by wall time while the cluster is quiet. */
  async clock(cluster: string, wallMs: number): Promise<number> {
    const [src, wall] = await this.redis.hmget(`${this.prefix}clock:${cluster}`, "src", "wall");
    const s = Number(src ?? 0);
    const w = Number(wall ?? 0);
    return w > 0 && wallMs > w ? s + (wallMs - w) : s;
  }

  async clusters(): Promise<string[]> {
    return await this.redis.smembers(`${this.prefix}clusters`);
  }

  /** Pods (as "storyId|uid") pending or terminating since before `beforeMs`. */
  async stuckCandidates(cluster: string, which: "pending" | "terminating", beforeMs: number, limit: number): Promise<string[]> {
    return await this.redis.zrangebyscore(`${this.prefix}${which}:${cluster}`, "-inf", beforeMs, "LIMIT", 0, limit);
  }

  /** Story windows open across all clusters (each open story is in its cluster's idle index). */
  async openStories(): Promise<number> {
    const clusters = await this.clusters();
    const counts = await Promise.all(clusters.map((c) => this.redis.zcard(`${this.prefix}idle:${c}`)));
    return counts.reduce((a, b) => a + b, 0);
  }

  async storyInfo(storyId: string): Promise<Record<string, string>> {
    return await this.redis.hgetall(`${this.prefix}story:${storyId}`);
  }
}
