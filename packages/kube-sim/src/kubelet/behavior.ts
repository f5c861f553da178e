// Container behaviour of the simulation (log script, crashes, OOM kills, bad images, probe failures):
// declared by scenarios (rules keyed by workload/container) or by pod-template annotations.
import { parseDuration } from "../clock.js";

export interface LogScript {
  /** Lines cycled through; `{n}` is the line number (1-based), `{pod}` and `{container}` are substituted. */
  lines?: string[];
  /** Lines per simulated second after start (0 = only startup lines). */
  rate?: number;
  /** Lines written once at start. */
  startup?: string[];
  /** Every `everyMs`, `lines` extra lines written at once. */
  burst?: { everyMs: number; lines: number };
}

export interface ContainerBehavior {
  logs?: LogScript;
  /** Exit with `exitCode` (default 1) this long after each start. */
  crashAfterMs?: number;
  exitCode?: number;
  /** Line written just before a crash or OOM kill. */
  lastWords?: string;
  /** OOM-killed (exit 137, reason OOMKilled) this long after each start. */
  oomAfterMs?: number;
  /** Memory (bytes) the container needs: with a memory limit at least this high, `oomAfterMs` never fires. */
  memoryNeedBytes?: number;
  /** Exit 0 this long after start (Job pods and init containers default to 1s). */
  completeAfterMs?: number;
  /** Every pull of the image fails (ErrImagePull → ImagePullBackOff). */
  badImage?: boolean;
  /** Probe starts failing this long after each start. */
  probe?: { type: "readiness" | "liveness"; failAfterMs: number; periodMs?: number; failureThreshold?: number };
  /** Simulated image pull time (default 1s). */
  pullMs?: number;
  /** Time a container takes to stop on SIGTERM (default 1s, capped by the grace period). */
  stopMs?: number;
  /** The pod's sandbox cannot be created (FailedCreatePodSandBox with this message, retried). */
  sandboxError?: string;
  /** Creating the container fails with this waiting reason (PreStartHookError, ImageInspectError…), retried. */
  waitingError?: { reason: string; message?: string };
}

export interface BehaviorRule {
  namespace?: string;
  /** Name of the pod or of any owner up its chain (Deployment, ReplicaSet, StatefulSet, Job, CronJob…). */
  workload?: string;
  container?: string;
  behavior: ContainerBehavior;
}

export interface BehaviorTarget {
  namespace: string;
  /** the pod name followed by its owners' names, nearest first */
  names: string[];
  container: string;
  image: string;
  annotations: Record<string, string>;
}

export interface BehaviorRegistry {
  add(rule: BehaviorRule): void;
  /** Merges `behavior` into the rule with the same match, or adds it. */
  update(rule: BehaviorRule): void;
  markBadImage(image: string, bad?: boolean): void;
  isBadImage(image: string): boolean;
  resolve(t: BehaviorTarget): ContainerBehavior;
  rules(): BehaviorRule[];
}

export const ANNOTATION_PREFIX = "sim.faro.dev/";

export function createBehaviorRegistry(): BehaviorRegistry {
  const rules: BehaviorRule[] = [];
  const badImages = new Set<string>();
  const same = (a: BehaviorRule, b: BehaviorRule) => a.namespace === b.namespace && a.workload === b.workload && a.container === b.container;
  const self: BehaviorRegistry = {
    add: (r) => void rules.push(r),
    update(r) {
      const cur = rules.find((x) => same(x, r));
      if (cur) cur.behavior = { ...cur.behavior, ...r.behavior };
      else rules.push(r);
    },
    markBadImage: (img, bad = true) => void (bad ? badImages.add(img) : badImages.delete(img)),
    isBadImage: (img) => badImages.has(img) || /:bad$/.test(img) || img.includes("does-not-exist"),
    resolve(t) {
      let b: ContainerBehavior = {};
      for (const r of rules) {
        if (r.namespace !== undefined && r.namespace !== t.namespace) continue;
        if (r.workload !== undefined && !t.names.includes(r.workload)) continue;
        if (r.container !== undefined && r.container !== t.container) continue;
        b = { ...b, ...r.behavior };
      }
      b = { ...b, ...fromAnnotations(t.annotations, t.container) };
      if (self.isBadImage(t.image)) b.badImage = true;
      return b;
    },
    rules: () => rules,
  };
  return self;
}

/**
 * Reads `sim.faro.dev/<key>` (all containers) and `sim.faro.dev/<container>.<key>` (one container)
 * annotations: crash-after, exit-code, oom-after, complete-after, last-words, log-lines (newline
 * separated), log-rate, bad-image, probe (readiness|liveness), probe-fail-after.
 */
export function fromAnnotations(ann: Record<string, string>, container: string): ContainerBehavior {
  const get = (k: string) => ann[`${ANNOTATION_PREFIX}${container}.${k}`] ?? ann[`${ANNOTATION_PREFIX}${k}`];
  const b: ContainerBehavior = {};
  const dur = (k: string) => {
    const v = get(k);
    return v === undefined ? undefined : parseDuration(v, `annotation ${ANNOTATION_PREFIX}${k}`);
  };
  const crash = dur("crash-after");
  if (crash !== undefined) b.crashAfterMs = crash;
  const oom = dur("oom-after");
  if (oom !== undefined) b.oomAfterMs = oom;
  const done = dur("complete-after");
  if (done !== undefined) b.completeAfterMs = done;
  const code = get("exit-code");
  if (code !== undefined) b.exitCode = Number(code);
  const lw = get("last-words");
  if (lw !== undefined) b.lastWords = lw;
  const lines = get("log-lines");
  const rate = get("log-rate");
  if (lines !== undefined || rate !== undefined) {
    b.logs = {};
    if (lines !== undefined) b.logs.lines = lines.split("\n").filter((l) => l.length > 0);
    if (rate !== undefined) b.logs.rate = Number(rate);
  }
  if (get("bad-image") === "true") b.badImage = true;
  const pf = dur("probe-fail-after");
  if (pf !== undefined) b.probe = { type: get("probe") === "liveness" ? "liveness" : "readiness", failAfterMs: pf };
  return b;
}

const MEMORY_UNITS: Record<string, number> = { "": 1, k: 1e3, M: 1e6, G: 1e9, T: 1e12, Ki: 1024, Mi: 1024 ** 2, Gi: 1024 ** 3, Ti: 1024 ** 4 };

/** Parses a Kubernetes memory quantity (`64Mi`, `1G`, `128974848`) into bytes; undefined when it is not one. */
export function memoryBytes(q: unknown): number | undefined {
  const m = /^(\d+(?:\.\d+)?)(Ki|Mi|Gi|Ti|k|M|G|T)?$/.exec(String(q ?? "").trim());
  return m ? Math.round(Number(m[1]) * MEMORY_UNITS[m[2] ?? ""]!) : undefined;
}
