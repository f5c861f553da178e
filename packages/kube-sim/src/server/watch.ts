// Watch streams: history replay, live fan-out with one serialization per event, bookmarks, timeouts, forced close.
import type { ServerResponse } from "node:http";
import type { KubeObject, ResourceType, StoreEvent } from "../types.js";
import type { Matcher } from "./selectors.js";

/** A client's open watch. `render` turns an event into its JSON line (shared cache when plain JSON). */
export interface Watcher {
  typeKey: string;
  namespace: string | undefined;
  match: Matcher | undefined;
  res: ServerResponse;
  render: (type: string, obj: KubeObject, ev?: StoreEvent) => string;
  timers: NodeJS.Timeout[];
  lastRv: number;
  closed: boolean;
  /** Lines written in this tick, sent in one chunk when the tick ends. */
  pending?: string[];
}

/** Writes beyond this many buffered bytes end the watch: the client re-watches from its last RV. */
const MAX_BUFFERED = 16 * 1024 * 1024;

export class WatchHub {
  private readonly byType = new Map<string, Set<Watcher>>();
  private readonly lineCache = new WeakMap<StoreEvent, string>();

  /** `previousOf` gives the object before a MODIFIED event, when the store knows it. */
  constructor(private readonly previousOf: (ev: StoreEvent) => KubeObject | undefined = () => undefined) {}

  /** The plain JSON line of an event; serialized once however many watchers receive it. */
  plainLine(ev: StoreEvent): string {
    let line = this.lineCache.get(ev);
    if (line === undefined) {
      line = `{"type":"${ev.type}","object":${JSON.stringify(ev.object)}}\n`;
      this.lineCache.set(ev, line);
    }
    return line;
  }

  add(w: Watcher): void {
    let set = this.byType.get(w.typeKey);
    if (!set) this.byType.set(w.typeKey, (set = new Set()));
    set.add(w);
  }

  count(): number {
    let n = 0;
    for (const s of this.byType.values()) n += s.size;
    return n;
  }

  /**
   * The event type this watcher sees, or undefined when it sees nothing. With a selector, an object that
   * starts matching arrives as ADDED and one that stops matching as DELETED, like the real API server.
   */
  seen(w: Watcher, ev: StoreEvent): string | undefined {
    if (w.namespace !== undefined && ev.object.metadata.namespace !== w.namespace) return undefined;
    if (!w.match) return ev.type;
    const now = w.match(ev.object);
    if (ev.type !== "MODIFIED") return now ? ev.type : undefined;
    const old = this.previousOf(ev);
    const before = old ? w.match(old) : now;
    if (now) return before ? "MODIFIED" : "ADDED";
    return before ? "DELETED" : undefined;
  }

  private readonly dirty = new Set<Watcher>();
  private flushScheduled = false;

  /**
   * Queues a line; everything queued in one tick goes out as one chunk at the end of the tick, so a burst
   * of changes costs one write per watcher instead of one per event (events still leave without delay).
   */
  write(w: Watcher, line: string): void {
    if (w.closed) return;
    (w.pending ??= []).push(line);
    this.dirty.add(w);
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      queueMicrotask(() => this.flush());
    }
  }

  private flushOne(w: Watcher): void {
    this.dirty.delete(w);
    const lines = w.pending;
    w.pending = undefined;
    if (!lines?.length || w.res.writableEnded || w.res.destroyed) return;
    w.res.write(lines.length === 1 ? lines[0]! : lines.join(""));
    if (w.res.writableLength > MAX_BUFFERED) this.end(w);
  }

  flush(): void {
    this.flushScheduled = false;
    for (const w of [...this.dirty]) this.flushOne(w);
  }

  dispatch(ev: StoreEvent): void {
    const set = this.byType.get(`${ev.resource.group}/${ev.resource.resource}`);
    if (!set) return;
    for (const w of set) {
      const type = this.seen(w, ev);
      if (!type) continue;
      w.lastRv = ev.rv;
      this.write(w, w.render(type, ev.object, type === ev.type ? ev : undefined));
    }
  }

  end(w: Watcher): void {
    if (w.closed) return;
    this.flushOne(w);
    w.closed = true;
    for (const t of w.timers) clearTimeout(t), clearInterval(t);
    this.byType.get(w.typeKey)?.delete(w);
    if (!w.res.writableEnded) w.res.end();
  }

  endAll(): void {
    for (const set of [...this.byType.values()]) for (const w of [...set]) this.end(w);
  }

  /** Watches of a type that no longer exists (CRD deleted) end. */
  endType(typeKey: string): void {
    for (const w of [...(this.byType.get(typeKey) ?? [])]) this.end(w);
  }
}

export function bookmarkObject(type: ResourceType, rv: number, initialEventsEnd = false): KubeObject {
  return {
    kind: type.kind,
    apiVersion: type.group ? `${type.group}/${type.version}` : type.version,
    metadata: {
      resourceVersion: String(rv),
      ...(initialEventsEnd ? { annotations: { "k8s.io/initial-events-end": "true" } } : {}),
    } as KubeObject["metadata"],
  };
}
