// Redis bookkeeping shared by the replicas: the wanted streams, the leases on them and each container
// instance's checkpoint (next seq, position, pending batch), every multi-key transition in one Lua script.
import type { Redis } from "ioredis";
import { LeaseLostError, StateError } from "./errors.js";
import { START, type Position } from "./lines.js";
import type { WantedInstance } from "./instances.js";
import type { LogSource, UnreadReason } from "@faro/contracts";

/** A batch written down before it is published, so whoever resumes the stream re-publishes exactly it. */
export interface PendingBatch {
  seqStart: number;
  count: number;
  source: LogSource;
  eos: boolean;
  /** On an end marker of an instance whose lines could not be read: why (see LogBatch.unreadReason). */
  unread?: UnreadReason;
}

export interface Checkpoint {
  /** Seq of the next line to publish (= lines published so far). */
  seq: number;
  /** Position after the last published line. */
  pos: Position;
  pend: PendingBatch | undefined;
  done: boolean;
  /** Replica that wrote last ("" when none). */
  owner: string;
  /** No checkpoint existed in Redis (a new instance, or one whose checkpoint was lost with Redis' state). */
  fresh: boolean;
  /** The epoch of the Redis state this checkpoint was read from ("" unknown; see `epochInfo`). */
  epoch: string;
}

export const EMPTY_CHECKPOINT: Checkpoint = Object.freeze({ seq: 0, pos: START, pend: undefined, done: false, owner: "", fresh: true, epoch: "" });

// The state's epoch: created by the first script that finds it missing (an empty Redis: the first start, or the
// state was lost — FLUSHALL, a restart without persistence, a failover to an empty replica). A caller that knew
// another epoch proves the loss: then leases of instances without a checkpoint are held back for a grace period
// (the recovering key), so the replicas still following those streams reclaim them with their checkpoints from
// memory before anyone restarts them. ARGV of the caller: known epoch, new epoch value, grace ms.
const EPOCH_FN = `
local function epoch(ek, rk, known, fresh, grace)
  local e = redis.call('GET', ek)
  if e then return e end
  redis.call('SET', ek, fresh)
  if known ~= '' then redis.call('SET', rk, '1', 'PX', grace) end
  return fresh
end
`;

// KEYS[1] wanted hash. ARGV: cpPrefix, ttlMs, overwrite ('1': the recovery's entries replace a pod change's), then
// key/json pairs. Instances already finished only get their checkpoint's TTL refreshed (a pod that keeps changing
// keeps its done markers alive).
const REGISTER = `
local added = 0
for i = 4, #ARGV, 2 do
  local key = ARGV[i]
  local cp = ARGV[1] .. key
  if redis.call('HGET', cp, 'done') == '1' then
    redis.call('PEXPIRE', cp, ARGV[2])
  else
    if ARGV[3] == '1' then
      added = added + redis.call('HSET', KEYS[1], key, ARGV[i + 1])
    else
      added = added + redis.call('HSETNX', KEYS[1], key, ARGV[i + 1])
    end
    if redis.call('EXISTS', cp) == 1 then redis.call('PEXPIRE', cp, ARGV[2]) end
  end
end
return added`;

// KEYS[1] wanted hash, KEYS[2] epoch, KEYS[3] recovering. ARGV: cpPrefix, ttlMs, leasePrefix, replica, leaseTtlMs,
// claim limit, known epoch, new epoch, grace ms, then key/json pairs. REGISTER, and up to `limit` of the newly wanted
// instances are leased to the caller at once, so a new container's stream starts in this round trip instead of
// waiting for a scan (a container that lives a few hundred milliseconds is gone with its pod otherwise). While
// recovering, instances without a checkpoint are not leased. Returns {added, epoch, {key, checkpoint fields}, ...}.
const REGISTER_CLAIM = EPOCH_FN + `
local e = epoch(KEYS[2], KEYS[3], ARGV[7], ARGV[8], ARGV[9])
local recovering = redis.call('EXISTS', KEYS[3]) == 1
local added = 0
local limit = tonumber(ARGV[6])
local out = {0, e}
for i = 10, #ARGV, 2 do
  local key = ARGV[i]
  local cp = ARGV[1] .. key
  if redis.call('HGET', cp, 'done') == '1' then
    redis.call('PEXPIRE', cp, ARGV[2])
  else
    local new = redis.call('HSETNX', KEYS[1], key, ARGV[i + 1])
    added = added + new
    local has = redis.call('EXISTS', cp) == 1
    if has then redis.call('PEXPIRE', cp, ARGV[2]) end
    if new == 1 and #out - 2 < limit and (has or not recovering) and redis.call('SET', ARGV[3] .. key, ARGV[4], 'PX', ARGV[5], 'NX') then
      table.insert(out, {key, redis.call('HGETALL', cp)})
    end
  end
end
out[1] = added
return out`;

// KEYS[1] lease, KEYS[2] checkpoint, KEYS[3] epoch, KEYS[4] recovering. ARGV: replica, leaseTtlMs, known epoch, new
// epoch, grace ms. Returns {epoch, 'ok', checkpoint fields...}, or {epoch, 'taken'} when leased by another (or, while
// recovering, when the instance has no checkpoint and no lease: its follower may still reclaim it).
const ACQUIRE = EPOCH_FN + `
local e = epoch(KEYS[3], KEYS[4], ARGV[3], ARGV[4], ARGV[5])
local cur = redis.call('GET', KEYS[1])
if cur and cur ~= ARGV[1] then return {e, 'taken'} end
if not cur and redis.call('EXISTS', KEYS[4]) == 1 and redis.call('EXISTS', KEYS[2]) == 0 then return {e, 'taken'} end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
local cp = redis.call('HGETALL', KEYS[2])
table.insert(cp, 1, 'ok')
table.insert(cp, 1, e)
return cp`;

// KEYS[1] epoch, KEYS[2] recovering. ARGV: replica, ttlMs, known epoch, new epoch, grace ms, lease keys... Returns
// {epoch, {indexes (1-based) of leases another replica holds}, {indexes of leases nobody holds}}. Runs on every
// renewal tick, leases or not: it is how a replica notices that the state was lost.
const RENEW = EPOCH_FN + `
local e = epoch(KEYS[1], KEYS[2], ARGV[3], ARGV[4], ARGV[5])
local taken = {}
local gone = {}
for i = 6, #ARGV do
  local cur = redis.call('GET', ARGV[i])
  if cur == ARGV[1] then
    redis.call('PEXPIRE', ARGV[i], ARGV[2])
  elseif cur then
    table.insert(taken, i - 5)
  else
    table.insert(gone, i - 5)
  end
end
return {e, taken, gone}`;

// KEYS[1] lease, KEYS[2] checkpoint, KEYS[3] wanted. ARGV: replica, leaseTtlMs, cpTtlMs, instance key, wanted json,
// field/value pairs. A follower takes its lease back after it expired or vanished with the state, and writes its
// checkpoint from memory, unless another replica holds the lease or wrote the checkpoint (or ended the instance)
// meanwhile. 1 when the lease is the caller's again, 2 when it still was (nothing written), 0 when it is not.
const RECLAIM = `
local cur = redis.call('GET', KEYS[1])
if cur == ARGV[1] then return 2 end
if cur then return 0 end
if not cur and redis.call('EXISTS', KEYS[2]) == 1 then
  if redis.call('HGET', KEYS[2], 'owner') ~= ARGV[1] or redis.call('HGET', KEYS[2], 'done') == '1' then return 0 end
end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
for i = 6, #ARGV, 2 do redis.call('HSET', KEYS[2], ARGV[i], ARGV[i + 1]) end
redis.call('HSET', KEYS[2], 'owner', ARGV[1])
redis.call('PEXPIRE', KEYS[2], ARGV[3])
redis.call('HSETNX', KEYS[3], ARGV[4], ARGV[5])
return 1`;

// KEYS[1] lease, KEYS[2] checkpoint. ARGV: replica, cpTtlMs, field/value pairs. 0 when the lease is not ours.
const WRITE = `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
for i = 3, #ARGV, 2 do redis.call('HSET', KEYS[2], ARGV[i], ARGV[i + 1]) end
redis.call('HSET', KEYS[2], 'owner', ARGV[1])
redis.call('PEXPIRE', KEYS[2], ARGV[2])
return 1`;

// KEYS[1] lease, KEYS[2] checkpoint, KEYS[3] wanted. ARGV: replica, cpTtlMs, instance key, field/value pairs.
const FINISH = `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
for i = 4, #ARGV, 2 do redis.call('HSET', KEYS[2], ARGV[i], ARGV[i + 1]) end
redis.call('HSET', KEYS[2], 'done', '1', 'pend', '', 'owner', ARGV[1])
redis.call('PEXPIRE', KEYS[2], ARGV[2])
redis.call('HDEL', KEYS[3], ARGV[3])
redis.call('DEL', KEYS[1])
return 1`;

// KEYS[1] lease. ARGV: replica.
const RELEASE = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`;

// KEYS[1] wanted. ARGV: leasePrefix, limit. Returns {unleased count, key, json, key, json, ...} (at most limit pairs).
const SCAN = `
local all = redis.call('HGETALL', KEYS[1])
local out = {0}
local n = 0
for i = 1, #all, 2 do
  if redis.call('EXISTS', ARGV[1] .. all[i]) == 0 then
    out[1] = out[1] + 1
    if n < tonumber(ARGV[2]) then
      table.insert(out, all[i])
      table.insert(out, all[i + 1])
      n = n + 1
    end
  end
end
return out`;

type Scripted = Redis & {
  lsRegister(wanted: string, cpPrefix: string, ttl: number, overwrite: string, ...kv: string[]): Promise<number>;
  lsRegisterClaim(wanted: string, epoch: string, recovering: string, cpPrefix: string, ttl: number, leasePrefix: string, replica: string, leaseTtl: number, limit: number, known: string, fresh: string, grace: number, ...kv: string[]): Promise<[number, string, ...[string, string[]][]]>;
  lsAcquire(lease: string, cp: string, epoch: string, recovering: string, replica: string, ttl: number, known: string, fresh: string, grace: number): Promise<string[]>;
  lsRenew(epoch: string, recovering: string, replica: string, ttl: number, known: string, fresh: string, grace: number, ...leases: string[]): Promise<[string, number[], number[]]>;
  lsReclaim(lease: string, cp: string, wanted: string, replica: string, leaseTtl: number, cpTtl: number, key: string, json: string, ...kv: string[]): Promise<number>;
  lsWrite(lease: string, cp: string, replica: string, ttl: number, ...kv: string[]): Promise<number>;
  lsFinish(lease: string, cp: string, wanted: string, replica: string, ttl: number, key: string, ...kv: string[]): Promise<number>;
  lsRelease(lease: string, replica: string): Promise<number>;
  lsScan(wanted: string, leasePrefix: string, limit: number): Promise<(string | number)[]>;
};

export interface StateOptions {
  redis: Redis;
  prefix: string;
  replica: string;
  leaseTtlMs: number;
  checkpointTtlMs: number;
  /**
   * After a state loss, instances without a checkpoint are not leased for this long (their followers reclaim them
   * first: at their next checkpoint write, or their next renewal at the latest). Default: leaseTtlMs.
   */
  recoveryGraceMs?: number;
  /**
   * Told when the state's epoch is not the one this replica knew: the state was lost (FLUSHALL, Redis restarted
   * empty). `previous` is the epoch known before ("" on the first contact, which is no loss).
   */
  onEpoch?: (epoch: string, previous: string) => void;
}

/** What a renewal found: leases another replica holds, and leases nobody holds (expired, or lost with the state). */
export interface RenewResult {
  taken: string[];
  gone: string[];
}

/** What a scan found: how many wanted streams have no live lease, and some of them to take. */
export interface ScanResult {
  unleased: number;
  candidates: { key: string; info: WantedInstance }[];
}

export class StreamState {
  readonly replica: string;
  private readonly r: Scripted;
  private readonly wanted: string;
  private readonly leasePrefix: string;
  private readonly cpPrefix: string;
  private readonly epochKey: string;
  private readonly recoveringKey: string;
  /** The epoch of the state as this replica last saw it ("" before the first contact). */
  private known = "";

  constructor(private readonly opts: StateOptions) {
    this.replica = opts.replica;
    this.wanted = `${opts.prefix}:wanted`;
    this.epochKey = `${opts.prefix}:epoch`;
    this.recoveringKey = `${opts.prefix}:recovering`;
    this.leasePrefix = `${opts.prefix}:lease:`;
    this.cpPrefix = `${opts.prefix}:cp:`;
    const r = opts.redis as Scripted;
    if (typeof r.lsRegister !== "function") {
      r.defineCommand("lsRegister", { numberOfKeys: 1, lua: REGISTER });
      r.defineCommand("lsRegisterClaim", { numberOfKeys: 3, lua: REGISTER_CLAIM });
      r.defineCommand("lsReclaim", { numberOfKeys: 3, lua: RECLAIM });
      r.defineCommand("lsAcquire", { numberOfKeys: 4, lua: ACQUIRE });
      r.defineCommand("lsRenew", { numberOfKeys: 2, lua: RENEW });
      r.defineCommand("lsWrite", { numberOfKeys: 2, lua: WRITE });
      r.defineCommand("lsFinish", { numberOfKeys: 3, lua: FINISH });
      r.defineCommand("lsRelease", { numberOfKeys: 1, lua: RELEASE });
      r.defineCommand("lsScan", { numberOfKeys: 1, lua: SCAN });
    }
    this.r = r;
  }

  leaseKey(key: string): string {
    return this.leasePrefix + key;
  }

  /** The epoch this replica knows ("" before its first contact with Redis). */
  get epoch(): string {
    return this.known;
  }

  /** The epoch arguments of a script: the known one, a value for a new one, the recovery grace. */
  private epochArgs(): [string, string, number] {
    return [this.known, `${Date.now()}.${Math.random().toString(36).slice(2, 8)}.${this.known ? "L" : "F"}`, this.opts.recoveryGraceMs ?? this.opts.leaseTtlMs];
  }

  /** Notes the epoch a script returned; a change from a known one means the state was lost. */
  private see(epoch: string): void {
    if (!epoch || epoch === this.known) return;
    const previous = this.known;
    this.known = epoch;
    this.opts.onEpoch?.(epoch, previous);
  }

  /**
   * Records instances as wanted unless already finished; returns how many were new. `overwrite` replaces entries
   * already there (the recovery's, flagged `recovered`, over those a pod change wrote meanwhile).
   */
  async register(instances: WantedInstance[], keyOf: (i: WantedInstance) => string, overwrite = false): Promise<number> {
    if (instances.length === 0) return 0;
    const kv: string[] = [];
    for (const i of instances) kv.push(keyOf(i), JSON.stringify(i));
    try {
      return await this.r.lsRegister(this.wanted, this.cpPrefix, this.opts.checkpointTtlMs, overwrite ? "1" : "0", ...kv);
    } catch (err) {
      throw new StateError("register", this.wanted, { cause: err });
    }
  }

  /**
   * Records instances as wanted unless already finished (as `register`) and leases up to `claim` of the newly
   * wanted ones to this replica in the same round trip; returns how many were new and the claimed ones' checkpoints.
   */
  async registerAndClaim(instances: WantedInstance[], keyOf: (i: WantedInstance) => string, claim: number): Promise<{ added: number; claimed: { info: WantedInstance; cp: Checkpoint }[] }> {
    if (instances.length === 0) return { added: 0, claimed: [] };
    const byKey = new Map<string, WantedInstance>();
    const kv: string[] = [];
    for (const i of instances) {
      const k = keyOf(i);
      byKey.set(k, i);
      kv.push(k, JSON.stringify(i));
    }
    let res: [number, string, ...[string, string[]][]];
    try {
      res = await this.r.lsRegisterClaim(this.wanted, this.epochKey, this.recoveringKey, this.cpPrefix, this.opts.checkpointTtlMs, this.leasePrefix, this.replica, this.opts.leaseTtlMs, Math.max(0, claim), ...this.epochArgs(), ...kv);
    } catch (err) {
      throw new StateError("register", this.wanted, { cause: err });
    }
    const [added, epoch, ...pairs] = res;
    this.see(epoch);
    const claimed: { info: WantedInstance; cp: Checkpoint }[] = [];
    for (const [key, fields] of pairs) {
      const info = byKey.get(key);
      if (info) claimed.push({ info, cp: parseCheckpoint(fields, epoch) });
    }
    return { added, claimed };
  }

  /** Takes (or keeps) the lease of a stream; returns its checkpoint, or undefined when another replica holds it. */
  async acquire(key: string): Promise<Checkpoint | undefined> {
    let res: string[];
    try {
      res = await this.r.lsAcquire(this.leaseKey(key), this.cpPrefix + key, this.epochKey, this.recoveringKey, this.replica, this.opts.leaseTtlMs, ...this.epochArgs());
    } catch (err) {
      throw new StateError("acquire", this.leaseKey(key), { cause: err });
    }
    const [epoch, status, ...fields] = res;
    this.see(epoch ?? "");
    if (status !== "ok") return undefined;
    return parseCheckpoint(fields, epoch ?? "");
  }

  /**
   * Takes the lease of a stream this replica follows back after it expired or vanished with the state, and writes
   * the checkpoint it holds in memory (and the instance as wanted). False when another replica holds the lease, wrote
   * the checkpoint or ended the instance meanwhile: then this replica must stop following it.
   */
  async reclaim(info: WantedInstance, key: string, cp: { seq: number; pos: Position; pend: PendingBatch | undefined }): Promise<"reclaimed" | "held" | "lost"> {
    let ok: number;
    try {
      ok = await this.r.lsReclaim(this.leaseKey(key), this.cpPrefix + key, this.wanted, this.replica, this.opts.leaseTtlMs, this.opts.checkpointTtlMs, key, JSON.stringify(info), ...checkpointFields(cp));
    } catch (err) {
      throw new StateError("reclaim", this.leaseKey(key), { cause: err });
    }
    return ok === 1 ? "reclaimed" : ok === 2 ? "held" : "lost";
  }

  /** Reads a checkpoint without any lease (tests, tools). */
  async read(key: string): Promise<Checkpoint> {
    const f = await this.r.hgetall(this.cpPrefix + key);
    return parseCheckpoint(Object.entries(f).flat());
  }

  /**
   * Renews leases and checks the state's epoch (also with no lease: it is how a replica notices lost state); returns
   * the keys whose lease another replica holds and those whose lease nobody holds.
   */
  async renew(keys: string[]): Promise<RenewResult> {
    let res: [string, number[], number[]];
    try {
      res = await this.r.lsRenew(this.epochKey, this.recoveringKey, this.replica, this.opts.leaseTtlMs, ...this.epochArgs(), ...keys.map((k) => this.leaseKey(k)));
    } catch (err) {
      throw new StateError("renew", `${keys.length} leases`, { cause: err });
    }
    const [epoch, taken, gone] = res;
    this.see(epoch);
    return { taken: taken.map((i) => keys[i - 1]!), gone: gone.map((i) => keys[i - 1]!) };
  }

  /** Whether instances without a checkpoint are held back for their followers to reclaim (after a state loss). */
  async recovering(): Promise<boolean> {
    try {
      return (await this.r.exists(this.recoveringKey)) === 1;
    } catch (err) {
      throw new StateError("exists", this.recoveringKey, { cause: err });
    }
  }

  /** Writes checkpoint fields if the lease is still ours; throws LeaseLostError otherwise. */
  async write(key: string, cp: { seq: number; pos: Position; pend: PendingBatch | undefined }): Promise<void> {
    let ok: number;
    try {
      ok = await this.r.lsWrite(this.leaseKey(key), this.cpPrefix + key, this.replica, this.opts.checkpointTtlMs, ...checkpointFields(cp));
    } catch (err) {
      throw new StateError("checkpoint", this.cpPrefix + key, { cause: err });
    }
    if (ok !== 1) throw new LeaseLostError(key, this.replica);
  }

  /** Marks the instance finished, forgets it as wanted and drops the lease (only while the lease is ours). */
  async finish(key: string, cp: { seq: number; pos: Position }): Promise<void> {
    let ok: number;
    try {
      ok = await this.r.lsFinish(
        this.leaseKey(key),
        this.cpPrefix + key,
        this.wanted,
        this.replica,
        this.opts.checkpointTtlMs,
        key,
        ...checkpointFields({ ...cp, pend: undefined }),
      );
    } catch (err) {
      throw new StateError("finish", this.cpPrefix + key, { cause: err });
    }
    if (ok !== 1) throw new LeaseLostError(key, this.replica);
  }

  /** Gives a lease back early (on stop) so another replica can resume at once. */
  async release(key: string): Promise<void> {
    try {
      await this.r.lsRelease(this.leaseKey(key), this.replica);
    } catch (err) {
      throw new StateError("release", this.leaseKey(key), { cause: err });
    }
  }

  async scan(limit: number): Promise<ScanResult> {
    let raw: (string | number)[];
    try {
      raw = await this.r.lsScan(this.wanted, this.leasePrefix, limit);
    } catch (err) {
      throw new StateError("scan", this.wanted, { cause: err });
    }
    const candidates: ScanResult["candidates"] = [];
    for (let i = 1; i + 1 < raw.length; i += 2) {
      candidates.push({ key: String(raw[i]), info: JSON.parse(String(raw[i + 1])) as WantedInstance });
    }
    return { unleased: Number(raw[0]), candidates };
  }

  /** Number of wanted streams (tests, tools). */
  async wantedCount(): Promise<number> {
    return await this.r.hlen(this.wanted);
  }
}

function checkpointFields(cp: { seq: number; pos: Position; pend: PendingBatch | undefined }): string[] {
  return ["seq", String(cp.seq), "ts", cp.pos.ts, "atTs", String(cp.pos.atTs), "pend", cp.pend ? JSON.stringify(cp.pend) : ""];
}

/**
 * What an epoch value (`<ms>.<random>.<L|F>`) says: when it began (0 unknown) and whether it was created by a replica
 * that knew an earlier one (`afterLoss`: the state was lost) rather than on a first start against an empty Redis.
 */
export function epochInfo(epoch: string): { startedMs: number; afterLoss: boolean } {
  const ms = Number.parseInt(epoch, 10);
  return { startedMs: Number.isFinite(ms) ? ms : 0, afterLoss: epoch.endsWith(".L") };
}

function parseCheckpoint(flat: string[], epoch = ""): Checkpoint {
  const f = new Map<string, string>();
  for (let i = 0; i + 1 < flat.length; i += 2) f.set(flat[i]!, flat[i + 1]!);
  const pend = f.get("pend");
  return {
    seq: Number(f.get("seq") ?? 0),
    pos: { ts: f.get("ts") ?? "", atTs: Number(f.get("atTs") ?? 0) },
    pend: pend ? (JSON.parse(pend) as PendingBatch) : undefined,
    done: f.get("done") === "1",
    owner: f.get("owner") ?? "",
    fresh: flat.length === 0,
    epoch,
  };
}
