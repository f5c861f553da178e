// Simulated kubelet for every node: runs bound pods on the simulated clock — image pulls, init
// containers, container starts, log output, crashes with back-off, OOM kills, probe failures,
// eviction and graceful termination — writing pod status and Events like the real one.
import { createHash } from "node:crypto";
import type { KubeObject, SimClock, Store, StoreEvent } from "../types.js";
import { goDuration } from "../clock.js";
import type { EventRecorder } from "../controllers/events.js";
import { T, controllerOf, hex, reportError } from "../controllers/util.js";
import type { LogStore } from "../logs/log-store.js";
import { memoryBytes, type BehaviorRegistry, type ContainerBehavior } from "./behavior.js";

export interface KubeletOptions {
  store: Store;
  clock: SimClock;
  events: EventRecorder;
  logs: LogStore;
  behaviors: BehaviorRegistry;
  /** Wall milliseconds between log-emission ticks (default 50). */
  tickWallMs?: number;
}

export interface Kubelet {
  /** Crashes running containers of a pod now (all containers, or `container`). */
  crash(namespace: string, pod: string, opts?: { container?: string; exitCode?: number; lastWords?: string; oom?: boolean }): boolean;
  /** Evicts a pod like node-pressure eviction: phase Failed, reason Evicted. */
  evict(namespace: string, pod: string, message?: string): boolean;
  /** Re-reads behaviours (after a scenario changed them) for running containers. */
  refreshBehaviors(): void;
  /** Pods currently run by the kubelet. */
  pods(): number;
  stop(): void;
}

type Obj = Record<string, unknown>;
interface ContainerSpec {
  name: string;
  image: string;
  imagePullPolicy?: string;
  env?: { name: string; valueFrom?: { configMapKeyRef?: { name: string; optional?: boolean }; secretKeyRef?: { name: string; optional?: boolean } } }[];
  envFrom?: { configMapRef?: { name: string; optional?: boolean }; secretRef?: { name: string; optional?: boolean } }[];
  livenessProbe?: unknown;
  readinessProbe?: unknown;
  resources?: { limits?: Record<string, unknown>; requests?: Record<string, unknown> };
}

interface VolumeSpec {
  name: string;
  configMap?: { name: string; optional?: boolean };
  secret?: { secretName: string; optional?: boolean };
}

interface CState {
  spec: ContainerSpec;
  init: boolean;
  behavior: ContainerBehavior;
  restartCount: number;
  state: Obj;
  lastState: Obj;
  ready: boolean;
  started: boolean;
  containerID: string;
  imageID: string;
  startedAtMs: number;
  emitted: number;
  nextBurstMs: number;
  backoffMs: number;
  pullBackoffMs: number;
  running: boolean;
  done: boolean;
  timers: (() => void)[];
}

interface PodRun {
  uid: string;
  ns: string;
  name: string;
  node: string;
  podIP: string;
  startTime: string;
  restartPolicy: string;
  grace: number;
  init: CState[];
  main: CState[];
  phase: string;
  reason?: string;
  message?: string;
  conditions: Map<string, { status: string; time: string; reason?: string; message?: string }>;
  terminating: boolean;
  /** The pod object has a deletionTimestamp and is being removed (an evicted pod is terminating but not yet deleting). */
  deleting: boolean;
  gone: boolean;
  timers: (() => void)[];
  dirty: boolean;
  sandboxBackoffMs?: number;
}

const MAX_BACKOFF = 300_000;
const BASE_BACKOFF = 10_000;

export function createKubelet(opts: KubeletOptions): Kubelet {
  const { store, clock, events, logs, behaviors } = opts;
  const runs = new Map<string, PodRun>(); // uid → run
  const present = new Map<string, Set<string>>(); // node → images pulled
  const emitting = new Set<{ run: PodRun; c: CState }>();
  let ipSeq = 1;
  let stopped = false;
  const pending = new Set<string>();
  let flushScheduled: NodeJS.Immediate | undefined;

  const podType = () => T.pods(store);
  const fieldPath = (c: CState) => `spec.${c.init ? "initContainers" : "containers"}{${c.spec.name}}`;

  function podObj(run: PodRun): KubeObject | undefined {
    const p = store.get(podType(), run.ns, run.name);
    return p && p.metadata.uid === run.uid ? p : undefined;
  }

  function event(run: PodRun, c: CState | undefined, type: "Normal" | "Warning", reason: string, message: string) {
    const pod = podObj(run);
    if (!pod) return;
    events.record(pod, { type, reason, message, component: "kubelet", host: run.node, fieldPath: c ? fieldPath(c) : undefined });
  }

  function timer(run: PodRun, c: CState | undefined, ms: number, fn: () => void) {
    const cancel = clock.setTimeout(() => {
      if (stopped || run.gone) return;
      try {
        fn();
      } catch (err) {
        reportError("kubelet", err);
      }
    }, ms);
    (c ? c.timers : run.timers).push(cancel);
  }

  function cancelTimers(c: CState) {
    for (const t of c.timers) t();
    c.timers = [];
  }

  function setCond(run: PodRun, type: string, status: boolean, reason?: string, message?: string) {
    const s = status ? "True" : "False";
    const cur = run.conditions.get(type);
    if (cur && cur.status === s && cur.reason === reason && cur.message === message) return;
    run.conditions.set(type, { status: s, time: cur && cur.status === s ? cur.time : clock.isoNow(), reason, message });
  }

  function markDirty(run: PodRun) {
    run.dirty = true;
    pending.add(run.uid);
    flushScheduled ??= setImmediate(flushStatuses);
  }

  function flushStatuses() {
    flushScheduled = undefined;
    const uids = [...pending];
    pending.clear();
    for (const uid of uids) {
      const run = runs.get(uid);
      if (run && run.dirty && !run.gone) {
        run.dirty = false;
        try {
          writeStatus(run);
        } catch (err) {
          reportError("kubelet status", err);
        }
      }
    }
  }

  function cStatus(c: CState): Obj {
    const s: Obj = {
      name: c.spec.name,
      state: c.state,
      lastState: c.lastState,
      ready: c.ready,
      restartCount: c.restartCount,
      image: c.spec.image,
      imageID: c.imageID,
      started: c.started,
    };
    if (c.containerID) s.containerID = c.containerID;
    return s;
  }

  function recompute(run: PodRun) {
    if (run.phase === "Failed" && run.reason === "Evicted") return;
    const initDone = run.init.every((c) => c.done);
    setCond(run, "PodReadyToStartContainers", true);
    setCond(run, "Initialized", initDone, initDone ? undefined : "ContainersNotInitialized", initDone ? undefined : `containers with incomplete status: [${run.init.filter((c) => !c.done).map((c) => c.spec.name).join(" ")}]`);
    const unready = run.main.filter((c) => !c.ready).map((c) => c.spec.name);
    const ready = unready.length === 0 && initDone;
    const msg = unready.length ? `containers with unready status: [${unready.join(" ")}]` : undefined;
    setCond(run, "ContainersReady", ready, ready ? undefined : "ContainersNotReady", msg);
    setCond(run, "Ready", ready, ready ? undefined : "ContainersNotReady", msg);
    const allTerminated = run.main.every((c) => c.done && !c.running);
    if (allTerminated && run.main.length > 0 && !run.terminating) {
      run.phase = run.main.every((c) => (c.state.terminated as { exitCode?: number } | undefined)?.exitCode === 0) ? "Succeeded" : "Failed";
      if (run.phase === "Succeeded") {
        setCond(run, "Ready", false, "PodCompleted");
        setCond(run, "ContainersReady", false, "PodCompleted");
      }
    } else if (run.main.some((c) => c.running || c.restartCount > 0 || c.done) && initDone) run.phase = "Running";
  }

  function writeStatus(run: PodRun) {
    const pod = podObj(run);
    if (!pod) return;
    recompute(run);
    const prev = (pod.status ?? {}) as { conditions?: { type: string }[] };
    const conds: Obj[] = [];
    for (const [type, c] of run.conditions) {
      const o: Obj = { type, status: c.status, lastProbeTime: null, lastTransitionTime: c.time };
      if (c.reason) o.reason = c.reason;
      if (c.message) o.message = c.message;
      conds.push(o);
    }
    // the scheduler owns PodScheduled
    for (const c of prev.conditions ?? []) if (c.type === "PodScheduled") conds.push(c as Obj);
    const status: Obj = {
      phase: run.phase,
      conditions: conds,
      hostIP: hostIP(run.node),
      hostIPs: [{ ip: hostIP(run.node) }],
      podIP: run.podIP,
      podIPs: [{ ip: run.podIP }],
      startTime: run.startTime,
      containerStatuses: run.main.map(cStatus),
      qosClass: qosClass(pod),
    };
    if (run.init.length) status.initContainerStatuses = run.init.map(cStatus);
    if (run.reason) status.reason = run.reason;
    if (run.message) status.message = run.message;
    if (JSON.stringify(pod.status) === JSON.stringify(status)) return;
    store.updateStatus(podType(), { ...pod, status });
  }

  function hostIP(node: string): string {
    const n = /(\d+)$/.exec(node)?.[1] ?? "1";
    return `10.0.0.${Number(n) + 10}`;
  }

  function newCState(spec: ContainerSpec, init: boolean, pod: KubeObject, names: string[]): CState {
    return {
      spec,
      init,
      behavior: resolveBehavior(pod, names, spec, init),
      restartCount: 0,
      state: { waiting: { reason: init ? "PodInitializing" : "ContainerCreating" } },
      lastState: {},
      ready: false,
      started: false,
      containerID: "",
      imageID: "",
      startedAtMs: 0,
      emitted: 0,
      nextBurstMs: 0,
      backoffMs: 0,
      pullBackoffMs: 0,
      running: false,
      done: false,
      timers: [],
    };
  }

  function ownerNames(pod: KubeObject): string[] {
    const names = [pod.metadata.name];
    let cur: KubeObject | undefined = pod;
    for (let depth = 0; depth < 5 && cur; depth++) {
      const ref = controllerOf(cur);
      if (!ref) break;
      names.push(ref.name);
      const t = store.typeForKind(ref.apiVersion, ref.kind);
      cur = t ? store.get(t, cur.metadata.namespace, ref.name) : undefined;
    }
    return names;
  }

  function resolveBehavior(pod: KubeObject, names: string[], spec: ContainerSpec, init: boolean): ContainerBehavior {
    const b = behaviors.resolve({ namespace: pod.metadata.namespace ?? "default", names, container: spec.name, image: spec.image, annotations: pod.metadata.annotations ?? {} });
    const jobPod = controllerOf(pod)?.kind === "Job";
    if ((init || jobPod) && b.completeAfterMs === undefined && b.crashAfterMs === undefined && b.oomAfterMs === undefined) b.completeAfterMs = 1000;
    return b;
  }

  // ---- pod lifecycle ----

  function startPod(pod: KubeObject) {
    const spec = (pod.spec ?? {}) as { nodeName: string; restartPolicy?: string; terminationGracePeriodSeconds?: number; containers?: ContainerSpec[]; initContainers?: ContainerSpec[] };
    const names = ownerNames(pod);
    const run: PodRun = {
      uid: pod.metadata.uid,
      ns: pod.metadata.namespace ?? "default",
      name: pod.metadata.name,
      node: spec.nodeName,
      podIP: `10.244.${(/(\d+)$/.exec(spec.nodeName)?.[1] ?? "0")}.${(ipSeq++ % 250) + 2}`,
      startTime: clock.isoNow(),
      restartPolicy: spec.restartPolicy ?? "Always",
      grace: spec.terminationGracePeriodSeconds ?? 30,
      init: (spec.initContainers ?? []).map((c) => newCState(c, true, pod, names)),
      main: (spec.containers ?? []).map((c) => newCState(c, false, pod, names)),
      phase: "Pending",
      conditions: new Map(),
      terminating: false,
      deleting: false,
      gone: false,
      timers: [],
      dirty: false,
    };
    if (run.init.length) for (const c of run.main) c.state = { waiting: { reason: "PodInitializing" } };
    runs.set(run.uid, run);
    markDirty(run);
    if (pod.metadata.deletionTimestamp) return terminate(run);
    setUpPod(run);
  }

  /**
   * Sets the pod up before any container: volumes whose ConfigMap or Secret is missing (FailedMount) and a
   * sandbox that cannot be created (FailedCreatePodSandBox) hold every container in ContainerCreating and
   * are retried like the kubelet does (mounts about every 2 minutes, the sandbox with back-off).
   */
  function setUpPod(run: PodRun) {
    if (run.terminating) return;
    const pod = podObj(run);
    if (!pod) return;
    const volumes = ((pod.spec as { volumes?: VolumeSpec[] } | undefined)?.volumes ?? []);
    for (const v of volumes) {
      const ref = v.configMap ? { kind: "configmap", name: v.configMap.name, optional: v.configMap.optional } : v.secret ? { kind: "secret", name: v.secret.secretName, optional: v.secret.optional } : undefined;
      if (!ref || ref.optional) continue;
      const t = store.typeFor("", ref.kind === "configmap" ? "configmaps" : "secrets");
      if (t && !store.get(t, run.ns, ref.name)) {
        event(run, undefined, "Warning", "FailedMount", `MountVolume.SetUp failed for volume "${v.name}" : ${ref.kind} "${ref.name}" not found`);
        timer(run, undefined, 120_000, () => setUpPod(run));
        return;
      }
    }
    const sandbox = [...run.init, ...run.main].map((c) => c.behavior.sandboxError).find((e) => e !== undefined);
    if (sandbox !== undefined) {
      event(run, undefined, "Warning", "FailedCreatePodSandBox", `Failed to create pod sandbox: ${sandbox}`);
      run.sandboxBackoffMs = run.sandboxBackoffMs ? Math.min(run.sandboxBackoffMs * 2, MAX_BACKOFF) : BASE_BACKOFF;
      timer(run, undefined, run.sandboxBackoffMs, () => {
        for (const c of [...run.init, ...run.main]) c.behavior = refreshed(run, c);
        setUpPod(run);
      });
      return;
    }
    runNextInit(run);
  }

  function runNextInit(run: PodRun) {
    const next = run.init.find((c) => !c.done);
    if (next) return prepare(run, next);
    for (const c of run.main) prepare(run, c);
  }

  /** Pull (or find) the image, check config references, then create and start. */
  function prepare(run: PodRun, c: CState) {
    if (run.terminating) return;
    const node = present.get(run.node) ?? new Set<string>();
    present.set(run.node, node);
    const img = c.spec.image;
    if (c.spec.imagePullPolicy === "Never" && !node.has(img)) return neverPull(run, c);
    if (c.behavior.badImage || behaviors.isBadImage(img)) return failPull(run, c);
    if (node.has(img) && c.spec.imagePullPolicy !== "Always") {
      event(run, c, "Normal", "Pulled", `Container image "${img}" already present on machine`);
      return create(run, c);
    }
    event(run, c, "Normal", "Pulling", `Pulling image "${img}"`);
    const pullMs = c.behavior.pullMs ?? 1000;
    timer(run, c, pullMs, () => {
      node.add(img);
      c.imageID = imageID(img);
      const size = 10_000_000 + (parseInt(c.imageID.slice(-6), 16) % 90_000_000);
      const took = goDurationMs(pullMs);
      event(run, c, "Normal", "Pulled", `Successfully pulled image "${img}" in ${took} (${took} including waiting). Image size: ${size} bytes.`);
      create(run, c);
    });
  }

  function failPull(run: PodRun, c: CState) {
    const img = c.spec.image;
    const detail = `rpc error: code = NotFound desc = failed to pull and unpack image "${qualify(img)}": failed to resolve reference "${qualify(img)}": ${qualify(img)}: not found`;
    event(run, c, "Normal", "Pulling", `Pulling image "${img}"`);
    timer(run, c, c.behavior.pullMs ?? 1000, () => {
      event(run, c, "Warning", "Failed", `Failed to pull image "${img}": ${detail}`);
      event(run, c, "Warning", "Failed", "Error: ErrImagePull");
      c.state = { waiting: { reason: "ErrImagePull", message: detail } };
      markDirty(run);
      // ErrImagePull is shown for one sync, then the back-off starts
      timer(run, c, 1000, () => {
        c.pullBackoffMs = c.pullBackoffMs ? Math.min(c.pullBackoffMs * 2, MAX_BACKOFF) : BASE_BACKOFF;
        event(run, c, "Normal", "BackOff", `Back-off pulling image "${img}"`);
        event(run, c, "Warning", "Failed", "Error: ImagePullBackOff");
        c.state = { waiting: { reason: "ImagePullBackOff", message: `Back-off pulling image "${img}": ErrImagePull: ${detail}` } };
        markDirty(run);
        timer(run, c, c.pullBackoffMs, () => {
          c.behavior = refreshed(run, c);
          prepare(run, c);
        });
      });
    });
  }

  /** imagePullPolicy Never and the image is not on the node: the kubelet never pulls, and says so. */
  function neverPull(run: PodRun, c: CState) {
    const msg = `Container image "${c.spec.image}" is not present with pull policy of Never`;
    event(run, c, "Warning", "ErrImageNeverPull", msg);
    event(run, c, "Warning", "Failed", "Error: ErrImageNeverPull");
    c.state = { waiting: { reason: "ErrImageNeverPull", message: msg } };
    markDirty(run);
    timer(run, c, BASE_BACKOFF, () => {
      c.behavior = refreshed(run, c);
      prepare(run, c);
    });
  }

  function missingConfig(run: PodRun, c: CState): string | undefined {
    const refs: { kind: "configmap" | "secret"; name: string }[] = [];
    for (const e of c.spec.env ?? []) {
      const cm = e.valueFrom?.configMapKeyRef;
      const sec = e.valueFrom?.secretKeyRef;
      if (cm && !cm.optional) refs.push({ kind: "configmap", name: cm.name });
      if (sec && !sec.optional) refs.push({ kind: "secret", name: sec.name });
    }
    for (const e of c.spec.envFrom ?? []) {
      if (e.configMapRef && !e.configMapRef.optional) refs.push({ kind: "configmap", name: e.configMapRef.name });
      if (e.secretRef && !e.secretRef.optional) refs.push({ kind: "secret", name: e.secretRef.name });
    }
    for (const r of refs) {
      const t = r.kind === "configmap" ? store.typeFor("", "configmaps") : store.typeFor("", "secrets");
      if (t && !store.get(t, run.ns, r.name)) return `${r.kind} "${r.name}" not found`;
    }
    return undefined;
  }

  function create(run: PodRun, c: CState) {
    if (run.terminating) return;
    c.imageID ||= imageID(c.spec.image);
    const missing = missingConfig(run, c);
    if (missing) {
      event(run, c, "Warning", "Failed", `Error: ${missing}`);
      c.state = { waiting: { reason: "CreateContainerConfigError", message: missing } };
      markDirty(run);
      timer(run, c, BASE_BACKOFF, () => create(run, c));
      return;
    }
    const failing = c.behavior.waitingError;
    if (failing) {
      const message = failing.message ?? `${failing.reason}: container ${c.spec.name} could not be created`;
      event(run, c, "Warning", "Failed", `Error: ${message}`);
      c.state = { waiting: { reason: failing.reason, message } };
      markDirty(run);
      timer(run, c, BASE_BACKOFF, () => {
        c.behavior = refreshed(run, c);
        create(run, c);
      });
      return;
    }
    c.containerID = `containerd://${hex(64)}`;
    event(run, c, "Normal", "Created", `Created container ${c.spec.name}`);
    event(run, c, "Normal", "Started", `Started container ${c.spec.name}`);
    start(run, c);
  }

  function start(run: PodRun, c: CState) {
    const pod = podObj(run);
    if (!pod) return;
    const now = clock.now();
    c.startedAtMs = now;
    c.running = true;
    c.started = true;
    c.ready = !c.init;
    c.state = { running: { startedAt: iso(now) } };
    c.emitted = 0;
    const b = c.behavior;
    c.nextBurstMs = b.logs?.burst ? now + b.logs.burst.everyMs : Infinity;
    logs.startInstance(pod, c.spec.name, c.restartCount);
    const startup = b.logs?.startup ?? (b.logs?.lines ? [] : defaultStartup(c));
    if (startup.length) logs.write(run.uid, c.spec.name, startup.map((l) => subst(l, run, c, 0)));
    emitting.add({ run, c });
    // A container that needs memoryNeedBytes is OOM-killed only while its memory limit is below that.
    const limit = memoryBytes(c.spec.resources?.limits?.["memory"]);
    const fits = b.memoryNeedBytes !== undefined && limit !== undefined && limit >= b.memoryNeedBytes;
    if (b.oomAfterMs !== undefined && !fits) timer(run, c, b.oomAfterMs, () => exit(run, c, 137, "OOMKilled", b.lastWords));
    if (b.crashAfterMs !== undefined) timer(run, c, b.crashAfterMs, () => exit(run, c, b.exitCode ?? 1, "Error", b.lastWords));
    if (b.completeAfterMs !== undefined) timer(run, c, b.completeAfterMs, () => exit(run, c, b.exitCode ?? 0, (b.exitCode ?? 0) === 0 ? "Completed" : "Error", b.lastWords));
    if (b.probe && !c.init) probeLoop(run, c, b.probe);
    markDirty(run);
  }

  function probeLoop(run: PodRun, c: CState, p: NonNullable<ContainerBehavior["probe"]>) {
    const period = p.periodMs ?? 10_000;
    const threshold = p.failureThreshold ?? 3;
    let failures = 0;
    const kind = p.type === "liveness" ? "Liveness" : "Readiness";
    const tick = () => {
      if (!c.running) return;
      failures++;
      event(run, c, "Warning", "Unhealthy", `${kind} probe failed: HTTP probe failed with statuscode: ${p.type === "liveness" ? 500 : 503}`);
      if (p.type === "readiness") {
        if (c.ready) {
          c.ready = false;
          markDirty(run);
        }
      } else if (failures >= threshold) {
        event(run, c, "Normal", "Killing", `Container ${c.spec.name} failed liveness probe, will be restarted`);
        return exit(run, c, 137, "Error");
      }
      timer(run, c, period, tick);
    };
    timer(run, c, p.failAfterMs, tick);
  }

  /** The running container ends: records it, then restarts with back-off or leaves it terminated. */
  function exit(run: PodRun, c: CState, exitCode: number, reason: string, lastWords?: string, opts: { noRestart?: boolean } = {}) {
    if (!c.running) return;
    emitDue(run, c, clock.now());
    if (lastWords) logs.write(run.uid, c.spec.name, [subst(lastWords, run, c, c.emitted)]);
    cancelTimers(c);
    for (const e of emitting) if (e.c === c) emitting.delete(e);
    c.running = false;
    c.ready = false;
    const now = clock.now();
    const terminated: Obj = { exitCode, reason, startedAt: iso(c.startedAtMs), finishedAt: iso(now), containerID: c.containerID };
    const restart = !opts.noRestart && !run.terminating && !c.init && (run.restartPolicy === "Always" || (run.restartPolicy === "OnFailure" && exitCode !== 0));
    const initRetry = c.init && exitCode !== 0 && run.restartPolicy !== "Never" && !run.terminating && !opts.noRestart;
    logs.terminateInstance(run.uid, c.spec.name, restart || initRetry);
    if (restart || initRetry) {
      // containers that ran long enough start over with the shortest back-off, like the kubelet
      if (now - c.startedAtMs >= 2 * MAX_BACKOFF) c.backoffMs = 0;
      c.backoffMs = c.backoffMs ? Math.min(c.backoffMs * 2, MAX_BACKOFF) : BASE_BACKOFF;
      c.restartCount++;
      c.lastState = { terminated };
      const podRef = `${run.name}_${run.ns}(${run.uid})`;
      c.state = { waiting: { reason: "CrashLoopBackOff", message: `back-off ${goDuration(c.backoffMs)} restarting failed container=${c.spec.name} pod=${podRef}` } };
      event(run, c, "Warning", "BackOff", `Back-off restarting failed container ${c.spec.name} in pod ${podRef}`);
      markDirty(run);
      timer(run, c, c.backoffMs, () => {
        c.behavior = refreshed(run, c);
        event(run, c, "Normal", "Pulled", `Container image "${c.spec.image}" already present on machine`);
        create(run, c);
      });
      return;
    }
    c.state = { terminated };
    c.done = true;
    if (c.init && exitCode === 0) runNextInit(run);
    else if (c.init && !run.terminating) {
      run.phase = "Failed";
    }
    markDirty(run);
  }

  function refreshed(run: PodRun, c: CState): ContainerBehavior {
    const pod = podObj(run);
    return pod ? resolveBehavior(pod, ownerNames(pod), c.spec, c.init) : c.behavior;
  }

  function emitDue(run: PodRun, c: CState, now: number) {
    const l = c.behavior.logs;
    if (!c.running || !l) return;
    const script = l.lines?.length ? l.lines : undefined;
    const out: string[] = [];
    const at: number[] = [];
    const rate = l.rate ?? 0;
    if (rate > 0 && script) {
      const due = Math.min(Math.floor(((now - c.startedAtMs) * rate) / 1000), c.emitted + 200_000);
      for (let i = c.emitted; i < due; i++) {
        out.push(subst(script[i % script.length]!, run, c, i + 1));
        at.push(c.startedAtMs + (i * 1000) / rate);
      }
      c.emitted = Math.max(c.emitted, due);
    }
    while (l.burst && c.nextBurstMs <= now) {
      for (let i = 0; i < l.burst.lines; i++) {
        out.push(subst(script ? script[(c.emitted + i) % script.length]! : `burst line {n}`, run, c, c.emitted + i + 1));
        at.push(c.nextBurstMs);
      }
      c.emitted += l.burst.lines;
      c.nextBurstMs += l.burst.everyMs;
    }
    if (out.length) {
      // lines from rate and bursts interleave in time order
      if (l.burst) {
        const idx = out.map((_, i) => i).sort((a, b) => at[a]! - at[b]! || a - b);
        logs.write(run.uid, c.spec.name, idx.map((i) => out[i]!), idx.map((i) => at[i]!));
      } else logs.write(run.uid, c.spec.name, out, at);
    }
  }

  /** Graceful deletion: Killing events, containers stop, then the pod object is removed. */
  function terminate(run: PodRun) {
    if (run.deleting) return;
    run.deleting = true;
    run.terminating = true;
    const stopMs = Math.min(run.grace * 1000, Math.max(...[...run.init, ...run.main].map((c) => c.behavior.stopMs ?? 1000), 0));
    for (const c of [...run.init, ...run.main]) {
      cancelTimers(c);
      if (c.running) event(run, c, "Normal", "Killing", `Stopping container ${c.spec.name}`);
    }
    const anyRunning = [...run.init, ...run.main].some((c) => c.running);
    timer(run, undefined, anyRunning ? stopMs : 0, () => {
      for (const c of [...run.init, ...run.main]) if (c.running) exit(run, c, 0, "Completed", undefined, { noRestart: true });
      try {
        writeStatus(run);
      } catch (err) {
        reportError("kubelet status", err);
      }
      store.finalizeDelete(podType(), run.ns, run.name);
    });
  }

  function forget(uid: string) {
    const run = runs.get(uid);
    if (!run) return;
    run.gone = true;
    for (const t of run.timers) t();
    for (const c of [...run.init, ...run.main]) cancelTimers(c);
    for (const e of emitting) if (e.run === run) emitting.delete(e);
    runs.delete(uid);
    logs.podDeleted(uid);
  }

  function onEvent(ev: StoreEvent) {
    if (ev.object.kind !== "Pod" || ev.resource.group !== "" || stopped) return;
    const pod = ev.object;
    const uid = pod.metadata.uid;
    if (ev.type === "DELETED") return forget(uid);
    const run = runs.get(uid);
    const nodeName = (pod.spec as { nodeName?: string } | undefined)?.nodeName;
    if (!run && nodeName) {
      // start outside the store's synchronous notification
      setImmediate(() => {
        if (stopped || runs.has(uid)) return;
        const cur = store.get(podType(), pod.metadata.namespace, pod.metadata.name);
        if (cur && cur.metadata.uid === uid) {
          try {
            startPod(cur);
          } catch (err) {
            reportError("kubelet start", err);
          }
        }
      });
      return;
    }
    if (run && pod.metadata.deletionTimestamp && !run.deleting) {
      const g = pod.metadata.deletionGracePeriodSeconds;
      if (g !== undefined) run.grace = g;
      setImmediate(() => terminate(run));
    }
  }

  const unsubscribe = store.subscribe(onEvent);
  const stopTick = clock.setInterval(() => {
    const now = clock.now();
    for (const { run, c } of emitting) {
      try {
        emitDue(run, c, now);
      } catch (err) {
        reportError("kubelet logs", err);
      }
    }
  }, (opts.tickWallMs ?? 50) * clock.speed);

  function findRun(ns: string, name: string): PodRun | undefined {
    for (const r of runs.values()) if (r.ns === ns && r.name === name) return r;
    return undefined;
  }

  return {
    crash(ns, name, o = {}) {
      const run = findRun(ns, name);
      if (!run) return false;
      let hit = false;
      for (const c of run.main) {
        if (o.container && c.spec.name !== o.container) continue;
        if (!c.running) continue;
        hit = true;
        if (o.oom) exit(run, c, 137, "OOMKilled", o.lastWords ?? c.behavior.lastWords);
        else exit(run, c, o.exitCode ?? 1, "Error", o.lastWords ?? c.behavior.lastWords);
      }
      return hit;
    },
    evict(ns, name, message) {
      const run = findRun(ns, name);
      if (!run || run.terminating) return false;
      const msg = message ?? "The node was low on resource: memory. Threshold quantity: 100Mi, available: 51200Ki. ";
      event(run, undefined, "Warning", "Evicted", msg);
      for (const c of [...run.init, ...run.main]) {
        cancelTimers(c);
        if (c.running) {
          event(run, c, "Normal", "Killing", `Stopping container ${c.spec.name}`);
          exit(run, c, 137, "Error", undefined, { noRestart: true });
        } else if (!c.done) {
          c.state = { terminated: { exitCode: 137, reason: "ContainerStatusUnknown", message: "The container could not be located when the pod was terminated" } };
          c.done = true;
        }
      }
      run.terminating = true;
      run.phase = "Failed";
      run.reason = "Evicted";
      run.message = msg;
      setCond(run, "DisruptionTarget", true, "TerminationByKubelet", msg);
      setCond(run, "Ready", false, "PodFailed");
      setCond(run, "ContainersReady", false, "PodFailed");
      markDirty(run);
      return true;
    },
    refreshBehaviors() {
      for (const run of runs.values()) for (const c of [...run.init, ...run.main]) if (c.running) c.behavior = refreshed(run, c);
    },
    pods: () => runs.size,
    stop() {
      if (stopped) return;
      stopped = true;
      unsubscribe();
      stopTick();
      if (flushScheduled) clearImmediate(flushScheduled);
      for (const uid of [...runs.keys()]) forget(uid);
    },
  };
}

function iso(ms: number): string {
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace(".000Z", "Z");
}

function goDurationMs(ms: number): string {
  return ms < 1000 ? `${Math.round(ms)}ms` : `${(ms / 1000).toFixed(3).replace(/\.?0+$/, "")}s`;
}

function qualify(img: string): string {
  const name = img.includes(":") || img.includes("@") ? img : `${img}:latest`;
  if (name.split("/")[0]!.includes(".")) return name;
  return name.includes("/") ? `docker.io/${name}` : `docker.io/library/${name}`;
}

function imageID(img: string): string {
  const repo = qualify(img).replace(/[:@].*$/, "");
  return `${repo}@sha256:${createHash("sha256").update(img).digest("hex")}`;
}

function subst(line: string, run: PodRun, c: CState, n: number): string {
  if (!line.includes("{")) return line;
  return line.replaceAll("{n}", String(n)).replaceAll("{pod}", run.name).replaceAll("{container}", c.spec.name);
}

function defaultStartup(c: CState): string[] {
  return [`starting ${c.spec.name} (${c.spec.image})`, `${c.spec.name} ready`];
}

function qosClass(pod: KubeObject): string {
  const cs = ((pod.spec as { containers?: { resources?: { requests?: Obj; limits?: Obj } }[] } | undefined)?.containers) ?? [];
  if (cs.every((c) => !c.resources?.requests && !c.resources?.limits)) return "BestEffort";
  const guaranteed = cs.every((c) => c.resources?.limits?.cpu && c.resources?.limits?.memory && (!c.resources.requests || (c.resources.requests.cpu === c.resources.limits.cpu && c.resources.requests.memory === c.resources.limits.memory)));
  return guaranteed ? "Guaranteed" : "Burstable";
}
