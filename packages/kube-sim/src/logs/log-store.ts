// Per-container-instance log store fed by the kubelet; serves GET .../pods/{pod}/log (LogProvider)
// with follow, previous, timestamps, since*, tailLines and limitBytes like the kubelet does.
import type { ServerResponse } from "node:http";
import type { KubeObject, LogProvider, LogQuery, LogRecord, SimClock, Store } from "../types.js";
import { formatNanos, normalizeRfc3339, formatMs } from "./timestamp.js";

export interface LogStoreOptions {
  store: Store;
  clock: SimClock;
  /** Lines kept per container instance; older lines are rotated away like kubelet log files (default 10,000). */
  maxLinesPerInstance?: number;
  /** Instances kept per container (current + previous are what the API serves; default 3). */
  maxInstancesPerContainer?: number;
  /** Called with every batch of lines as written (the ground truth subscribes here). */
  onLines?: (records: LogRecord[]) => void;
}

interface Follower {
  res: ServerResponse;
  cursor: number;
  timestamps: boolean;
  bytesLeft: number;
  paused: boolean;
  done: boolean;
  close: () => void;
}

interface Instance {
  namespace: string;
  pod: string;
  podUid: string;
  container: string;
  restartCount: number;
  running: boolean;
  /** absolute sequence number of texts[0] */
  base: number;
  texts: string[];
  stamps: string[];
  lastSec: number;
  lastNs: number;
  secCache: [number, string];
  followers: Set<Follower>;
  /** last chunk built for followers: many followers at the same cursor share one string */
  chunkKey: string;
  chunk: string;
}

interface ContainerRecord {
  instances: Instance[];
  /** the latest instance terminated and the kubelet will start another (CrashLoopBackOff) */
  restarting: boolean;
}

export interface LogStore extends LogProvider {
  /** Opens a new instance (the container started); `restartCount` identifies it. */
  startInstance(pod: KubeObject, container: string, restartCount: number): void;
  /**
   * Appends lines to the container's current instance. `atMs` gives each line's simulated time
   * (defaults to now); timestamps are made strictly increasing by nanosecond steps.
   */
  write(podUid: string, container: string, lines: string[], atMs?: number[]): void;
  /** The current instance ended; `restarting` when the kubelet will start another one. */
  terminateInstance(podUid: string, container: string, restarting: boolean): void;
  /** The pod is gone: end follow streams and forget its logs. */
  podDeleted(podUid: string): void;
  /** Lines currently retained for an instance (tests, ground-truth comparisons). */
  lines(podUid: string, container: string, restartCount?: number): { timestamp: string; line: string }[];
  /** Number of open follow streams. */
  followers(): number;
  stop(): void;
}

class LogError extends Error {
  constructor(
    readonly code: number,
    message: string,
    readonly reason: string,
  ) {
    super(message);
    this.name = "LogError";
  }
}

export function createLogStore(opts: LogStoreOptions): LogStore {
  const { store, clock } = opts;
  const maxLines = opts.maxLinesPerInstance ?? 10_000;
  const maxInstances = opts.maxInstancesPerContainer ?? 3;
  const containers = new Map<string, ContainerRecord>(); // podUid/container
  const byPod = new Map<string, Set<string>>(); // podUid → keys
  let stopped = false;

  const recKey = (uid: string, c: string) => `${uid}/${c}`;

  function stampFor(inst: Instance, ms: number): string {
    let sec = Math.floor(ms / 1000);
    let ns = Math.min(999_999_999, Math.floor((ms - sec * 1000) * 1e6));
    if (sec < inst.lastSec || (sec === inst.lastSec && ns <= inst.lastNs)) {
      sec = inst.lastSec;
      ns = inst.lastNs + 1;
      if (ns > 999_999_999) {
        sec += 1;
        ns = 0;
      }
    }
    inst.lastSec = sec;
    inst.lastNs = ns;
    if (inst.secCache[0] !== sec) inst.secCache = [sec, formatNanos(sec, 0).slice(0, 19)];
    return `${inst.secCache[1]}.${String(ns).padStart(9, "0")}Z`;
  }

  function endFollower(f: Follower) {
    if (f.done) return;
    f.done = true;
    f.close();
    if (!f.res.writableEnded) f.res.end();
  }

  function pump(inst: Instance, f: Follower) {
    if (f.done || f.paused) return;
    const end = inst.base + inst.texts.length;
    while (f.cursor < end && !f.done) {
      const from = Math.max(f.cursor, inst.base);
      const to = Math.min(end, from + 2000);
      const k = `${from}:${to}:${f.timestamps}`;
      let chunk: string;
      if (inst.chunkKey === k) chunk = inst.chunk;
      else {
        chunk = render(inst, from - inst.base, to - inst.base, f.timestamps);
        inst.chunkKey = k;
        inst.chunk = chunk;
      }
      f.cursor = to;
      if (f.bytesLeft !== Infinity) {
        const buf = Buffer.from(chunk);
        if (buf.length >= f.bytesLeft) {
          f.res.write(buf.subarray(0, f.bytesLeft));
          f.bytesLeft = 0;
          endFollower(f);
          return;
        }
        f.bytesLeft -= buf.length;
      }
      if (!f.res.write(chunk)) {
        f.paused = true;
        f.res.once("drain", () => {
          f.paused = false;
          pump(inst, f);
        });
        return;
      }
    }
    if (!inst.running && f.cursor >= inst.base + inst.texts.length) endFollower(f);
  }

  function render(inst: Instance, i0: number, i1: number, timestamps: boolean): string {
    let s = "";
    if (timestamps) for (let i = i0; i < i1; i++) s += `${inst.stamps[i]} ${inst.texts[i]}\n`;
    else for (let i = i0; i < i1; i++) s += `${inst.texts[i]}\n`;
    return s;
  }

  function sendError(res: ServerResponse, e: LogError) {
    const body = JSON.stringify({ kind: "Status", apiVersion: "v1", metadata: {}, status: "Failure", message: e.message, reason: e.reason, code: e.code });
    res.writeHead(e.code, { "Content-Type": "application/json" });
    res.end(body);
  }

  function pickInstance(ns: string, podName: string, q: LogQuery): Instance {
    const podType = store.typeFor("", "pods");
    const pod = podType ? store.get(podType, ns, podName) : undefined;
    if (!pod) throw new LogError(404, `pods "${podName}" not found`, "NotFound");
    const spec = (pod.spec ?? {}) as { containers?: { name: string }[]; initContainers?: { name: string }[]; ephemeralContainers?: { name: string }[] };
    const main = (spec.containers ?? []).map((c) => c.name);
    const all = [...main, ...(spec.initContainers ?? []).map((c) => c.name), ...(spec.ephemeralContainers ?? []).map((c) => c.name)];
    let c = q.container;
    if (!c) {
      const ann = pod.metadata.annotations?.["kubectl.kubernetes.io/default-container"];
      if (ann && all.includes(ann)) c = ann;
      else if (main.length === 1) c = main[0];
      else
        throw new LogError(
          400,
          `a container name must be specified for pod ${podName}, choose one of: [${main.join(" ")}]` +
            (spec.initContainers?.length ? ` or one of the init containers: [${spec.initContainers.map((x) => x.name).join(" ")}]` : ""),
          "BadRequest",
        );
    }
    if (!all.includes(c!)) throw new LogError(400, `container ${c} is not valid for pod ${podName}`, "BadRequest");
    const rec = containers.get(recKey(pod.metadata.uid, c!));
    const insts = rec?.instances ?? [];
    const latest = insts[insts.length - 1];
    if (q.previous) {
      const prev = latest && !latest.running && rec!.restarting ? latest : insts[insts.length - 2];
      if (!prev) throw new LogError(400, `previous terminated container "${c}" in pod "${podName}" not found`, "BadRequest");
      return prev;
    }
    if (latest) return latest;
    const st = (pod.status ?? {}) as { containerStatuses?: ContainerStatusLike[]; initContainerStatuses?: ContainerStatusLike[] };
    const cs = [...(st.containerStatuses ?? []), ...(st.initContainerStatuses ?? [])].find((x) => x.name === c);
    const reason = cs?.state?.waiting?.reason ?? "ContainerCreating";
    const why = reason === "ErrImagePull" || reason === "ImagePullBackOff" ? "trying and failing to pull image" : reason;
    throw new LogError(400, `container "${c}" in pod "${podName}" is waiting to start: ${why}`, "BadRequest");
  }

  const self: LogStore = {
    serveLogs(namespace: string, pod: string, q: LogQuery, res: ServerResponse, signal: AbortSignal) {
      let inst: Instance;
      try {
        if (stopped) throw new LogError(503, "log store stopped", "ServiceUnavailable");
        inst = pickInstance(namespace, pod, q);
      } catch (err) {
        if (err instanceof LogError) return sendError(res, err);
        throw err;
      }
      let since: string | undefined;
      if (q.sinceTime) {
        since = normalizeRfc3339(q.sinceTime);
        if (!since) return sendError(res, new LogError(400, `invalid sinceTime "${q.sinceTime}"`, "BadRequest"));
      } else if (q.sinceSeconds !== undefined) since = formatMs(clock.now() - q.sinceSeconds * 1000);
      // kubelet order: tail first, then drop lines older than since
      let i0 = 0;
      const n = inst.texts.length;
      if (q.tailLines !== undefined && q.tailLines >= 0) i0 = Math.max(0, n - q.tailLines);
      if (since !== undefined) while (i0 < n && inst.stamps[i0]! < since) i0++;
      res.writeHead(200, { "Content-Type": "text/plain", "Cache-Control": "no-cache, private" });
      let body = render(inst, i0, n, q.timestamps);
      let bytesLeft = q.limitBytes !== undefined && q.limitBytes > 0 ? q.limitBytes : Infinity;
      if (bytesLeft !== Infinity) {
        const buf = Buffer.from(body);
        if (buf.length >= bytesLeft) {
          res.end(buf.subarray(0, bytesLeft));
          return;
        }
        bytesLeft -= buf.length;
      }
      const pending = containers.get(recKey(inst.podUid, inst.container));
      if (!q.follow || !inst.running || !pending) {
        res.end(body);
        return;
      }
      if (body) res.write(body);
      else res.flushHeaders();
      body = "";
      const onAbort = () => endFollower(f);
      const f: Follower = {
        res,
        cursor: inst.base + n,
        timestamps: q.timestamps,
        bytesLeft,
        paused: false,
        done: false,
        close: () => {
          inst.followers.delete(f);
          signal.removeEventListener("abort", onAbort);
        },
      };
      inst.followers.add(f);
      signal.addEventListener("abort", onAbort);
      res.on("close", onAbort);
      if (signal.aborted) endFollower(f);
    },

    startInstance(pod, container, restartCount) {
      const k = recKey(pod.metadata.uid, container);
      let rec = containers.get(k);
      if (!rec) {
        rec = { instances: [], restarting: false };
        containers.set(k, rec);
        let set = byPod.get(pod.metadata.uid);
        if (!set) byPod.set(pod.metadata.uid, (set = new Set()));
        set.add(k);
      }
      const prev = rec.instances[rec.instances.length - 1];
      if (prev?.running) self.terminateInstance(pod.metadata.uid, container, false);
      rec.restarting = false;
      rec.instances.push({
        namespace: pod.metadata.namespace ?? "default",
        pod: pod.metadata.name,
        podUid: pod.metadata.uid,
        container,
        restartCount,
        running: true,
        base: 0,
        texts: [],
        stamps: [],
        lastSec: 0,
        lastNs: -1,
        secCache: [-1, ""],
        followers: new Set(),
        chunkKey: "",
        chunk: "",
      });
      while (rec.instances.length > maxInstances) rec.instances.shift();
    },

    write(podUid, container, lines, atMs) {
      const rec = containers.get(recKey(podUid, container));
      const inst = rec?.instances[rec.instances.length - 1];
      if (!inst || !inst.running || lines.length === 0) return;
      const now = clock.now();
      const recs: LogRecord[] | undefined = opts.onLines ? [] : undefined;
      for (let i = 0; i < lines.length; i++) {
        const ts = stampFor(inst, atMs?.[i] ?? now);
        inst.texts.push(lines[i]!);
        inst.stamps.push(ts);
        recs?.push({ namespace: inst.namespace, pod: inst.pod, podUid, container, restartCount: inst.restartCount, timestamp: ts, line: lines[i]! });
      }
      if (inst.texts.length > maxLines * 1.25) {
        const drop = inst.texts.length - maxLines;
        inst.texts.splice(0, drop);
        inst.stamps.splice(0, drop);
        inst.base += drop;
        inst.chunkKey = "";
      }
      if (recs) opts.onLines!(recs);
      for (const f of inst.followers) pump(inst, f);
    },

    terminateInstance(podUid, container, restarting) {
      const rec = containers.get(recKey(podUid, container));
      const inst = rec?.instances[rec.instances.length - 1];
      if (!rec || !inst) return;
      rec.restarting = restarting;
      if (!inst.running) return;
      inst.running = false;
      for (const f of [...inst.followers]) pump(inst, f);
    },

    podDeleted(podUid) {
      for (const k of byPod.get(podUid) ?? []) {
        const rec = containers.get(k);
        for (const inst of rec?.instances ?? []) {
          inst.running = false;
          for (const f of [...inst.followers]) pump(inst, f);
          // a paused (slow) follower still ends: the pod is gone
          for (const f of [...inst.followers]) endFollower(f);
        }
        containers.delete(k);
      }
      byPod.delete(podUid);
    },

    lines(podUid, container, restartCount) {
      const rec = containers.get(recKey(podUid, container));
      const inst = restartCount === undefined ? rec?.instances[rec.instances.length - 1] : rec?.instances.find((i) => i.restartCount === restartCount);
      return inst ? inst.texts.map((line, i) => ({ timestamp: inst.stamps[i]!, line })) : [];
    },

    followers() {
      let n = 0;
      for (const rec of containers.values()) for (const i of rec.instances) n += i.followers.size;
      return n;
    },

    stop() {
      if (stopped) return;
      stopped = true;
      for (const uid of [...byPod.keys()]) self.podDeleted(uid);
    },
  };
  return self;
}

interface ContainerStatusLike {
  name: string;
  state?: { waiting?: { reason?: string } };
}
