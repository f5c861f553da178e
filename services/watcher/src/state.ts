// Restart without replay: the last published (acked) resourceVersion of every object, one Redis hash per
// resource type, written in watch order and pipelined, read back to seed the watches after a restart.
import type { Redis } from "ioredis";
import type { KnownObject } from "@faro/kube";
import { StateStoreError } from "./errors.js";

/**
 * What is remembered per uid: the watch's KnownObject plus, for Events, the involved object's kind/name,
 * and for objects their labels (so a restart can attach them to Events without a change to relearn them).
 */
export interface RememberedObject extends KnownObject {
  resourceVersion: string;
  name: string;
  namespace: string;
  /** Extra identity tokens (Events: involved kind and name), kept so a stub DELETED can be routed. */
  extra?: [string, string];
  /** Objects: the labels as JSON (labelsJson), absent when none. Never together with `extra`. */
  labels?: string;
}

// Names, namespaces and kinds never contain "/", and resourceVersions are etcd revisions: "/" separates
// safely. Labels JSON (which may contain "/") comes last and starts with "{", which no kind does; a reader
// that predates it takes it for the Event tokens, which it ignores for objects.
export function encodeRemembered(o: RememberedObject): string {
  const base = `${o.resourceVersion}/${o.namespace}/${o.name}`;
  if (o.extra) return `${base}/${o.extra[0]}/${o.extra[1]}`;
  return o.labels ? `${base}/${o.labels}` : base;
}

export function decodeRemembered(value: string): RememberedObject {
  const a = value.indexOf("/");
  const b = a < 0 ? -1 : value.indexOf("/", a + 1);
  const c = b < 0 ? -1 : value.indexOf("/", b + 1);
  const rv = a < 0 ? value : value.slice(0, a);
  const namespace = a < 0 ? "" : value.slice(a + 1, b < 0 ? undefined : b);
  const name = b < 0 ? "" : value.slice(b + 1, c < 0 ? undefined : c);
  const out: RememberedObject = { resourceVersion: rv, namespace, name };
  if (c < 0) return out;
  const rest = value.slice(c + 1);
  if (rest.startsWith("{")) {
    out.labels = rest;
    return out;
  }
  const d = rest.indexOf("/");
  out.extra = d < 0 ? [rest, ""] : [rest.slice(0, d), rest.slice(d + 1)];
  return out;
}

/**
 * Applies (uid, rv, value) triples; an empty value deletes. Newer wins: a write whose numeric rv is older
 * than the stored one is ignored, so two active replicas flushing in any interleaving never move an
 * object's remembered state backwards.
 */
const APPLY_SCRIPT = `
local key = KEYS[1]
local n = tonumber(ARGV[1])
for i = 0, n - 1 do
  local uid = ARGV[2 + i * 3]
  local rv = tonumber(ARGV[3 + i * 3])
  local val = ARGV[4 + i * 3]
  local ok = true
  if rv then
    local cur = redis.call('HGET', key, uid)
    if cur then
      local crv = tonumber(string.match(cur, '^[^/]*'))
      if crv and crv > rv then ok = false end
    end
  end
  if ok then
    if val == '' then redis.call('HDEL', key, uid) else redis.call('HSET', key, uid, val) end
  end
end
return n
`;

const CHUNK = 500;

export class StateStore {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    private readonly cluster: string,
  ) {
    if (!(redis as unknown as { watcherApplyState?: unknown }).watcherApplyState) {
      redis.defineCommand("watcherApplyState", { numberOfKeys: 1, lua: APPLY_SCRIPT });
    }
  }

  /** Hash key of a resource type, by its version-free name (`pods`, `deployments.apps`) so a version change keeps the state. */
  key(resourceName: string): string {
    return `${this.prefix}:${this.cluster}:rv:${resourceName}`;
  }

  async load(resourceName: string): Promise<Map<string, RememberedObject>> {
    const key = this.key(resourceName);
    const out = new Map<string, RememberedObject>();
    try {
      // HSCAN rather than HGETALL: one huge reply would block Redis and double the memory spike here.
      let cursor = "0";
      do {
        const [next, flat] = await this.redis.hscan(key, cursor, "COUNT", 1000);
        for (let i = 0; i + 1 < flat.length; i += 2) out.set(flat[i]!, decodeRemembered(flat[i + 1]!));
        cursor = next;
      } while (cursor !== "0");
    } catch (err) {
      throw new StateStoreError(key, "load", (err as Error).message, { cause: err });
    }
    return out;
  }

  /** Writes uid → remembered (value null = forget) in chunks, newer-wins. */
  async apply(resourceName: string, updates: ReadonlyMap<string, StateUpdate>): Promise<void> {
    if (updates.size === 0) return;
    const key = this.key(resourceName);
    const entries = [...updates];
    try {
      const pipe = this.redis.pipeline();
      for (let i = 0; i < entries.length; i += CHUNK) {
        const chunk = entries.slice(i, i + CHUNK);
        const args: string[] = [String(chunk.length)];
        for (const [uid, u] of chunk) args.push(uid, u.rv, u.value ? encodeRemembered(u.value) : "");
        (pipe as unknown as { watcherApplyState(key: string, ...args: string[]): void }).watcherApplyState(key, ...args);
      }
      const results = await pipe.exec();
      const failed = results?.find(([e]) => e);
      if (failed) throw failed[0];
    } catch (err) {
      throw new StateStoreError(key, "apply", (err as Error).message, { cause: err });
    }
  }
}

/** One pending write: the state to remember (null = the object is gone) and the rv that decides who wins. */
export interface StateUpdate {
  rv: string;
  value: RememberedObject | null;
}

interface CommitEntry {
  uid: string;
  /** null = the object is gone (DELETED). */
  value: RememberedObject | null;
  /** rv of the change (of a deletion too), so a lagging replica's older write cannot win. */
  rv: string;
  done: boolean;
}

/**
 * Commits in watch order: an ack that overtakes an earlier, still pending publish (a retry) waits, so
 * Redis never remembers a state whose predecessors are not on the bus yet. Committed entries collect in
 * `pending` until the flusher writes them.
 */
export class CommitLog {
  private queue: CommitEntry[] = [];
  private head = 0;
  readonly pending = new Map<string, StateUpdate>();
  private blocked = false;

  /** Appends an entry in watch order; call done() on it once its publish was acked (or needs none). */
  push(uid: string, value: RememberedObject | null, rv: string): CommitEntry {
    const e: CommitEntry = { uid, value, rv, done: false };
    this.queue.push(e);
    return e;
  }

  done(entry: CommitEntry): void {
    entry.done = true;
    this.advance();
  }

  /** A publish failed for good: nothing from here on is committed (the watch restarts from Redis). */
  block(): void {
    this.blocked = true;
  }

  get size(): number {
    return this.queue.length - this.head;
  }

  /** Moves the committed prefix to `pending`. */
  private advance(): void {
    if (this.blocked) return;
    while (this.head < this.queue.length && this.queue[this.head]!.done) {
      const e = this.queue[this.head]!;
      this.queue[this.head] = undefined as unknown as CommitEntry;
      this.head++;
      this.pending.set(e.uid, { rv: e.rv, value: e.value });
    }
    // Compact now and then so the array does not grow with every event ever seen.
    if (this.head > 1024 && this.head * 2 > this.queue.length) {
      this.queue = this.queue.slice(this.head);
      this.head = 0;
    }
  }

  /** Takes what is committed and not yet written. */
  drain(): Map<string, StateUpdate> {
    const out = new Map(this.pending);
    this.pending.clear();
    return out;
  }

  /** Puts back a batch whose write failed, without overwriting newer commits made meanwhile. */
  restore(batch: Map<string, StateUpdate>): void {
    for (const [uid, v] of batch) if (!this.pending.has(uid)) this.pending.set(uid, v);
  }
}
