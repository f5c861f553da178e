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
}

export const EMPTY_CHECKPOINT: Checkpoint = Object.freeze({ seq: 0, pos: START, pend: undefined, done: false, owner: "" });

// KEYS[1] wanted hash. ARGV: cpPrefix, ttlMs, then key/json pairs. Instances already finished only get
// their checkpoint's TTL refreshed (a pod that keeps changing keeps its done markers alive).
const REGISTER = `
local added = 0
for i = 3, #ARGV, 2 do
  local key = ARGV[i]
  local cp = ARGV[1] .. key
  if redis.call('HGET', cp, 'done') == '1' then
    redis.call('PEXPIRE', cp, ARGV[2])
  else
    added = added + redis.call('HSETNX', KEYS[1], key, ARGV[i + 1])
    if redis.call('EXISTS', cp) == 1 then redis.call('PEXPIRE', cp, ARGV[2]) end
  end
end
return added`;

// KEYS[1] wanted hash. ARGV: cpPrefix, ttlMs, leasePrefix, replica, leaseTtlMs, claim limit, then key/json
// pairs. REGISTER, and up to `limit` of the newly wanted instances are leased to the caller at once, so a new
// container's stream starts in this round trip instead of waiting for a scan (a container that lives a few
// hundred milliseconds is gone with its pod otherwise). Returns {added, {key, checkpoint fields}, ...}.
const REGISTER_CLAIM = `
local added = 0
local limit = tonumber(ARGV[6])
local out = {0}
for i = 7, #ARGV, 2 do
  local key = ARGV[i]
  local cp = ARGV[1] .. key
  if redis.call('HGET', cp, 'done') == '1' then
    redis.call('PEXPIRE', cp, ARGV[2])
  else
    local new = redis.call('HSETNX', KEYS[1], key, ARGV[i + 1])
    added = added + new
    if redis.call('EXISTS', cp) == 1 then redis.call('PEXPIRE', cp, ARGV[2]) end
    if new == 1 and #out - 1 < limit and redis.call('SET', ARGV[3] .. key, ARGV[4], 'PX', ARGV[5], 'NX') then
      table.insert(out, {key, redis.call('HGETALL', cp)})
    end
  end
end
out[1] = added
return out`;

// KEYS[1] lease, KEYS[2] checkpoint. ARGV: replica, leaseTtlMs. Returns the checkpoint fields, or false when leased by another.
const ACQUIRE = `
local cur = redis.call('GET', KEYS[1])
if cur and cur ~= ARGV[1] then return false end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
local cp = redis.call('HGETALL', KEYS[2])
table.insert(cp, '_')
return cp`;

// ARGV: replica, ttlMs, lease keys... Returns the indexes (1-based) of leases no longer ours.
const RENEW = `
local lost = {}
for i = 3, #ARGV do
  if redis.call('GET', ARGV[i]) == ARGV[1] then
    redis.call('PEXPIRE', ARGV[i], ARGV[2])
  else
    table.insert(lost, i - 2)
  end
end
return lost`;

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
  lsRegister(wanted: string, cpPrefix: string, ttl: number, ...kv: string[]): Promise<number>;
  lsRegisterClaim(wanted: string, cpPrefix: string, ttl: number, leasePrefix: string, replica: string, leaseTtl: number, limit: number, ...kv: string[]): Promise<[number, ...[string, string[]][]]>;
  lsAcquire(lease: string, cp: string, replica: string, ttl: number): Promise<string[] | null>;
  lsRenew(replica: string, ttl: number, ...leases: string[]): Promise<number[]>;
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

  constructor(private readonly opts: StateOptions) {
    this.replica = opts.replica;
    this.wanted = `${opts.prefix}:wanted`;
    this.leasePrefix = `${opts.prefix}:lease:`;
    this.cpPrefix = `${opts.prefix}:cp:`;
    const r = opts.redis as Scripted;
    if (typeof r.lsRegister !== "function") {
      r.defineCommand("lsRegister", { numberOfKeys: 1, lua: REGISTER });
      r.defineCommand("lsRegisterClaim", { numberOfKeys: 1, lua: REGISTER_CLAIM });
      r.defineCommand("lsAcquire", { numberOfKeys: 2, lua: ACQUIRE });
      r.defineCommand("lsRenew", { numberOfKeys: 0, lua: RENEW });
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

  /** Records instances as wanted unless already finished; returns how many were new. */
  async register(instances: WantedInstance[], keyOf: (i: WantedInstance) => string): Promise<number> {
    if (instances.length === 0) return 0;
    const kv: string[] = [];
    for (const i of instances) kv.push(keyOf(i), JSON.stringify(i));
    try {
      return await this.r.lsRegister(this.wanted, this.cpPrefix, this.opts.checkpointTtlMs, ...kv);
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
    let res: [number, ...[string, string[]][]];
    try {
      res = await this.r.lsRegisterClaim(this.wanted, this.cpPrefix, this.opts.checkpointTtlMs, this.leasePrefix, this.replica, this.opts.leaseTtlMs, Math.max(0, claim), ...kv);
    } catch (err) {
      throw new StateError("register", this.wanted, { cause: err });
    }
    const [added, ...pairs] = res;
    const claimed: { info: WantedInstance; cp: Checkpoint }[] = [];
    for (const [key, fields] of pairs) {
      const info = byKey.get(key);
      if (info) claimed.push({ info, cp: parseCheckpoint(fields) });
    }
    return { added, claimed };
  }

  /** Takes (or keeps) the lease of a stream; returns its checkpoint, or undefined when another replica holds it. */
  async acquire(key: string): Promise<Checkpoint | undefined> {
    let fields: string[] | null;
    try {
      fields = await this.r.lsAcquire(this.leaseKey(key), this.cpPrefix + key, this.replica, this.opts.leaseTtlMs);
    } catch (err) {
      throw new StateError("acquire", this.leaseKey(key), { cause: err });
    }
    if (!fields) return undefined;
    return parseCheckpoint(fields.slice(0, -1));
  }

  /** Reads a checkpoint without any lease (tests, tools). */
  async read(key: string): Promise<Checkpoint> {
    const f = await this.r.hgetall(this.cpPrefix + key);
    return parseCheckpoint(Object.entries(f).flat());
  }

  /** Renews leases; returns the keys whose lease is no longer ours. */
  async renew(keys: string[]): Promise<string[]> {
    if (keys.length === 0) return [];
    let lost: number[];
    try {
      lost = await this.r.lsRenew(this.replica, this.opts.leaseTtlMs, ...keys.map((k) => this.leaseKey(k)));
    } catch (err) {
      throw new StateError("renew", `${keys.length} leases`, { cause: err });
    }
    return lost.map((i) => keys[i - 1]!);
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

function parseCheckpoint(flat: string[]): Checkpoint {
  const f = new Map<string, string>();
  for (let i = 0; i + 1 < flat.length; i += 2) f.set(flat[i]!, flat[i + 1]!);
  const pend = f.get("pend");
  return {
    seq: Number(f.get("seq") ?? 0),
    pos: { ts: f.get("ts") ?? "", atTs: Number(f.get("atTs") ?? 0) },
    pend: pend ? (JSON.parse(pend) as PendingBatch) : undefined,
    done: f.get("done") === "1",
    owner: f.get("owner") ?? "",
  };
}
