// Builders of clean-stream inputs (ResourceChange, KubeEvent, LogBatch), a recording sink, and `faro run correlator`
// as a child process for the correlator's tests.
import { spawn, type ChildProcess } from "node:child_process";
import path from "node:path";
import { decodeStoryEntry, encodeStoryEntry, type Encodable, type IncidentContext, type KubeEvent, type LogBatch, type ResourceChange, type StoryEntry } from "@faro/contracts";
import type { Sink } from "../src/processor.js";

export const CLUSTER = "sim";
export const TENANT = "acme";
export const NS = "shop";

let rv = 1000;
export const nextRv = (): string => String(++rv);

export function change(obj: Record<string, any>, type: "ADDED" | "MODIFIED" | "DELETED" = "MODIFIED"): ResourceChange {
  const [group, version] = String(obj.apiVersion).includes("/") ? String(obj.apiVersion).split("/") : ["", String(obj.apiVersion)];
  const resource = `${String(obj.kind).toLowerCase()}s`;
  obj.metadata.resourceVersion ??= nextRv();
  return {
    schemaVersion: 1,
    cluster: CLUSTER,
    type,
    group: group!,
    version: version!,
    resource,
    kind: obj.kind,
    namespace: obj.metadata.namespace ?? NS,
    name: obj.metadata.name,
    uid: obj.metadata.uid,
    resourceVersion: obj.metadata.resourceVersion,
    observedAtMs: Date.now(),
    ownerRefs: (obj.metadata.ownerReferences ?? []).map((r: any) => ({ ...r, controller: Boolean(r.controller) })),
    labels: obj.metadata.labels ?? {},
    objectJson: JSON.stringify(obj),
  };
}

export function workload(kind: string, name: string, uid: string, owner?: { kind: string; name: string; uid: string }, apiVersion = "apps/v1"): Record<string, any> {
  return {
    apiVersion,
    kind,
    metadata: {
      name,
      namespace: NS,
      uid,
      creationTimestamp: "2026-01-01T00:00:00Z",
      ownerReferences: owner ? [{ apiVersion: "apps/v1", kind: owner.kind, name: owner.name, uid: owner.uid, controller: true }] : [],
    },
    spec: { replicas: 1, template: { spec: { containers: [{ name: "app", image: "shop/web:1" }] } } },
    status: {},
  };
}

export function event(reason: string, involved: { kind: string; name: string; uid: string }, at: string, opts: { uid?: string; count?: number; type?: string; message?: string } = {}): KubeEvent {
  const uid = opts.uid ?? `ev-${reason}-${involved.uid}`;
  return {
    schemaVersion: 1,
    cluster: CLUSTER,
    type: "ADDED",
    uid,
    resourceVersion: nextRv(),
    namespace: NS,
    name: `${involved.name}.${uid}`,
    reason,
    message: opts.message ?? `${reason} happened`,
    eventType: opts.type ?? "Warning",
    sourceComponent: "kubelet",
    sourceHost: "node-1",
    reportingController: "",
    involved: { apiVersion: "v1", kind: involved.kind, namespace: NS, name: involved.name, uid: involved.uid, fieldPath: "spec.containers{app}" },
    count: opts.count ?? 1,
    firstTimestamp: at,
    lastTimestamp: at,
    eventTime: "",
    observedAtMs: Date.now(),
    objectJson: "{}",
  };
}

export function logs(podName: string, podUid: string, restartCount: number, seqStart: number, lines: [string, string][], owner?: { kind: string; name: string; uid: string }, endOfStream = false): LogBatch {
  return {
    schemaVersion: 1,
    cluster: CLUSTER,
    namespace: NS,
    pod: podName,
    podUid,
    container: "app",
    containerType: "regular",
    restartCount,
    source: "follow",
    seqStart,
    lines: lines.map(([timestamp, line]) => ({ timestamp, line, truncated: false, originalBytes: line.length })),
    podOwnerRefs: owner ? [{ apiVersion: "apps/v1", kind: owner.kind, name: owner.name, uid: owner.uid, controller: true }] : [],
    node: "node-1",
    observedAtMs: Date.now(),
    endOfStream,
    podLabels: { app: "web" },
  };
}

/**
 * Records what the processor publishes, deduplicated by msgId like JetStream would. Entries go through
 * encodeStoryEntry/decodeStoryEntry, so one that breaks the contract (payload case, closed sets) fails the test.
 */
export class RecordingSink implements Sink {
  readonly entries = new Map<string, { subject: string; entry: StoryEntry }>();
  readonly incidents = new Map<string, { subject: string; incident: Encodable<IncidentContext> }>();
  async publishEntry(subject: string, entry: Encodable<StoryEntry>, msgId: string): Promise<void> {
    if (!this.entries.has(msgId)) this.entries.set(msgId, { subject, entry: decodeStoryEntry(encodeStoryEntry(entry)) });
  }
  async publishIncident(subject: string, incident: Encodable<IncidentContext>, msgId: string): Promise<void> {
    if (!this.incidents.has(msgId)) this.incidents.set(msgId, { subject, incident });
  }
}

export async function until(cond: () => boolean | Promise<boolean>, timeoutMs = 10_000, what = "condition"): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const ROOT = path.resolve(import.meta.dirname, "../../..");
const CLI = path.join(ROOT, "apps/cli/src/main.ts");
const TSX = path.join(ROOT, "node_modules/.bin/tsx");

/** `faro run correlator` in a child process (tsx wrapper → node running the CLI). */
export interface CorrelatorProcess {
  readonly child: ChildProcess;
  /** The wrapper's exit code (tsx exits with the service's), null when killed by a signal. */
  readonly exited: Promise<number | null>;
  out(): string;
  err(): string;
  /** Resolves with the first match of `re` in stdout, as soon as it is written; rejects when the process exits first. */
  waitFor(re: RegExp): Promise<RegExpExecArray>;
  /** SIGTERM to the wrapper, which relays it to the service: the production drain path. */
  terminate(): void;
  /** SIGKILL to the whole process group (wrapper and service); resolves once the wrapper is gone. */
  kill(): Promise<void>;
}

const live = new Set<CorrelatorProcess>();

/**
 * Spawns `tsx apps/cli/src/main.ts run correlator [...args]` with only PATH, HOME and `env`. The child leads a
 * process group of its own: tsx runs the service in a second node process and relays SIGTERM/SIGINT but cannot
 * relay SIGKILL, so killing only the wrapper would leave the service running. Call killCorrelators() in afterAll.
 */
export function spawnCorrelator(env: Record<string, string>, options: { args?: string[]; output?: boolean } = {}): CorrelatorProcess {
  const child = spawn(TSX, [CLI, "run", "correlator", ...(options.args ?? [])], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "", ...env },
    stdio: options.output === false ? "ignore" : ["ignore", "pipe", "pipe"],
    detached: true,
  });
  let stdout = "";
  let stderr = "";
  child.stdout?.on("data", (b: Buffer) => (stdout += b.toString()));
  child.stderr?.on("data", (b: Buffer) => (stderr += b.toString()));
  let gone = false;
  const exited = new Promise<number | null>((resolve) =>
    child.once("exit", (code) => {
      gone = true;
      resolve(code);
    }),
  );
  const p: CorrelatorProcess = {
    child,
    exited,
    out: () => stdout,
    err: () => stderr,
    waitFor: (re) =>
      new Promise((resolve, reject) => {
        const check = (): boolean => {
          const m = re.exec(stdout);
          if (m) resolve(m);
          return m !== null;
        };
        if (check()) return;
        const onData = (): void => void (check() && child.stdout?.off("data", onData));
        child.stdout?.on("data", onData);
        void exited.then((code) => {
          child.stdout?.off("data", onData);
          if (!check()) reject(new Error(`correlator exited (${code}) before writing ${re}; stderr: ${stderr}`));
        });
      }),
    terminate: () => void child.kill("SIGTERM"),
    async kill() {
      try {
        if (child.pid !== undefined) process.kill(-child.pid, "SIGKILL");
      } catch {
        // ESRCH: the group is gone already.
      }
      if (!gone) await exited;
    },
  };
  live.add(p);
  void exited.then(() => {
    // The wrapper exits after the service (it relays signals and waits); a group member left behind is killed here.
    try {
      if (child.pid !== undefined) process.kill(-child.pid, "SIGKILL");
    } catch {
      // ESRCH: nothing left.
    }
    live.delete(p);
  });
  return p;
}

/** Kills every correlator process spawned by this test file that is still alive (afterAll, even after a failure). */
export async function killCorrelators(): Promise<void> {
  await Promise.all([...live].map((p) => p.kill()));
}
