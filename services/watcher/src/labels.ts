// Labels of the objects the watcher publishes, by uid, so an Event can carry its involved object's labels
// (KubeEvent.involvedLabels) for tenant rules on labels. Bounded; identical label sets are stored once.

/** One distinct label set, as its JSON, shared by every object that has it (pods of one ReplicaSet). */
interface Interned {
  readonly json: string;
  refs: number;
}

/**
 * The labels JSON of an object's `metadata.labels`, or "" when it has none. Kubernetes serialises maps
 * with sorted keys, so objects with the same labels give the same string and share one entry.
 */
export function labelsJson(labels: unknown): string {
  if (labels === null || typeof labels !== "object") return "";
  const entries = Object.entries(labels as Record<string, unknown>);
  if (entries.length === 0) return "";
  if (entries.every(([, v]) => typeof v === "string")) return JSON.stringify(labels);
  return JSON.stringify(Object.fromEntries(entries.map(([k, v]) => [k, v === null || v === undefined ? "" : String(v)])));
}

/**
 * uid → labels, at most `capacity` objects: a new object past the bound evicts the one remembered
 * longest ago (counted through `onEvict`). Only objects with labels take an entry. Capacity 0 remembers
 * nothing. Per object the cost is one map entry pointing at a shared string.
 */
export class LabelMemory {
  private readonly byUid = new Map<string, Interned>();
  private readonly pool = new Map<string, Interned>();

  constructor(
    readonly capacity: number,
    private readonly onEvict: () => void = () => {},
  ) {}

  /** Objects remembered. */
  get size(): number {
    return this.byUid.size;
  }

  /** Distinct label sets held. */
  get distinct(): number {
    return this.pool.size;
  }

  /**
   * Remembers an object's labels (a `labelsJson` string; "" forgets it). Returns the stored string — the
   * shared instance, which a caller keeping the labels elsewhere should hold instead of its own copy.
   */
  remember(uid: string, json: string): string {
    if (json === "" || this.capacity <= 0) {
      this.forget(uid);
      return json;
    }
    const cur = this.byUid.get(uid);
    if (cur !== undefined && cur.json === json) return cur.json;
    const next = this.intern(json);
    if (cur !== undefined) this.release(cur);
    else if (this.byUid.size >= this.capacity) this.evictOldest();
    // Setting an existing key keeps its place: an object's age counts from when it was first seen.
    this.byUid.set(uid, next);
    return next.json;
  }

  /** Like remember, but only for an object not known yet (state read back from Redis is older than ours). */
  seed(uid: string, json: string): void {
    if (!this.byUid.has(uid)) this.remember(uid, json);
  }

  forget(uid: string): void {
    const cur = this.byUid.get(uid);
    if (cur === undefined) return;
    this.byUid.delete(uid);
    this.release(cur);
  }

  /** The object's labels as a fresh object, or undefined when it is unknown or has none. */
  labelsOf(uid: string): Record<string, string> | undefined {
    if (uid === "") return undefined;
    const cur = this.byUid.get(uid);
    return cur === undefined ? undefined : (JSON.parse(cur.json) as Record<string, string>);
  }

  clear(): void {
    this.byUid.clear();
    this.pool.clear();
  }

  private intern(json: string): Interned {
    let e = this.pool.get(json);
    if (e === undefined) {
      e = { json, refs: 0 };
      this.pool.set(json, e);
    }
    e.refs++;
    return e;
  }

  private release(e: Interned): void {
    if (--e.refs === 0) this.pool.delete(e.json);
  }

  private evictOldest(): void {
    const oldest = this.byUid.keys().next();
    if (oldest.done) return;
    this.forget(oldest.value);
    this.onEvict();
  }
}
