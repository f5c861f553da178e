// Scenario runner: applies a scenario's namespaces, manifests and behaviours at t=0, then runs its
// steps (scale, setImage, crash, evict, …) at their simulated times.
import { createNodes } from "../controllers/nodes.js";
import { T, podIsActive } from "../controllers/util.js";
import type { BehaviorRegistry } from "../kubelet/behavior.js";
import type { Kubelet } from "../kubelet/kubelet.js";
import type { KubeObject, NewObject, SimClock, Store } from "../types.js";
import { ScenarioError } from "./errors.js";
import { parseBehavior, parseManifests, type Scenario, type ScenarioStep } from "./format.js";
import { resolveRef } from "./refs.js";

export interface ScenarioContext {
  store: Store;
  clock: SimClock;
  kubelet: Kubelet;
  behaviors: BehaviorRegistry;
}

export interface ScenarioRun {
  scenario: Scenario;
  /** Resolves when every step ran and `duration` (if any) elapsed. */
  done: Promise<void>;
  /** Steps executed so far, with their errors. */
  log: { atMs: number; action: string; error?: string }[];
  stop(): void;
}

const DEFAULT_API: Record<string, string> = {
  Deployment: "apps/v1",
  ReplicaSet: "apps/v1",
  StatefulSet: "apps/v1",
  DaemonSet: "apps/v1",
  Job: "batch/v1",
  CronJob: "batch/v1",
  Pod: "v1",
  ConfigMap: "v1",
  Secret: "v1",
  Service: "v1",
  Namespace: "v1",
  CustomResourceDefinition: "apiextensions.k8s.io/v1",
};

/** Creates the object, or replaces spec/data/labels/annotations of the existing one. */
export function applyObject(store: Store, obj: NewObject, scenario = "apply"): KubeObject {
  const type = store.typeForKind(String(obj.apiVersion), String(obj.kind));
  if (!type) throw new ScenarioError(`no resource type for ${obj.apiVersion} ${obj.kind}`, scenario, `${obj.kind}/${obj.metadata?.name ?? "?"}`);
  const ns = type.namespaced ? (obj.metadata.namespace ?? "default") : undefined;
  const input: NewObject = { ...obj, metadata: { ...obj.metadata, namespace: ns } };
  if (!type.namespaced) delete input.metadata.namespace;
  const cur = obj.metadata.name ? store.get(type, ns, obj.metadata.name) : undefined;
  if (!cur) return store.create(type, input);
  const { metadata, status: _s, ...rest } = input;
  return store.update(type, { ...cur, ...rest, metadata: { ...cur.metadata, labels: metadata.labels ?? cur.metadata.labels, annotations: metadata.annotations ?? cur.metadata.annotations } } as KubeObject);
}

export function ensureNamespace(store: Store, name: string): void {
  const t = T.namespaces(store);
  if (!store.get(t, undefined, name)) store.create(t, { apiVersion: "v1", kind: "Namespace", metadata: { name } });
}

export function runScenario(ctx: ScenarioContext, sc: Scenario): ScenarioRun {
  const { store, clock, kubelet, behaviors } = ctx;
  const cancels: (() => void)[] = [];
  const log: ScenarioRun["log"] = [];
  let stopped = false;

  if (sc.nodes) createNodes(store, clock, sc.nodes);
  for (const img of sc.badImages) behaviors.markBadImage(img);
  for (const r of sc.behaviors) behaviors.add(r);
  const namespaces = new Set(sc.namespaces);
  for (const m of sc.manifests) if (m.metadata?.namespace) namespaces.add(m.metadata.namespace);
  for (const ns of namespaces) ensureNamespace(store, ns);
  // CRDs first so custom objects in the same manifest set find their type
  const ordered = [...sc.manifests].sort((a, b) => Number(b.kind === "CustomResourceDefinition") - Number(a.kind === "CustomResourceDefinition") || Number(b.kind === "Namespace") - Number(a.kind === "Namespace"));
  for (const m of ordered) applyObject(store, m, sc.name);

  let resolveDone!: () => void;
  const done = new Promise<void>((r) => (resolveDone = r));
  const start = clock.now();
  const end = Math.max(sc.durationMs ?? 0, ...sc.steps.map((s) => s.atMs));
  for (const step of sc.steps) {
    cancels.push(
      clock.setTimeout(() => {
        if (stopped) return;
        const entry: ScenarioRun["log"][number] = { atMs: step.atMs, action: step.action };
        try {
          runStep(ctx, sc, step);
        } catch (err) {
          entry.error = (err as Error).message;
          console.error(`kube-sim scenario ${sc.name}: step ${step.action} at ${step.atMs}ms failed: ${entry.error}`);
        }
        log.push(entry);
      }, step.atMs - (clock.now() - start)),
    );
  }
  cancels.push(clock.setTimeout(() => resolveDone(), end));
  void kubelet;
  return {
    scenario: sc,
    done,
    log,
    stop() {
      if (stopped) return;
      stopped = true;
      for (const c of cancels) c();
      resolveDone();
    },
  };
}

function str(step: ScenarioStep, k: string, sc: Scenario): string {
  const v = step[k];
  if (typeof v !== "string" || !v) throw new ScenarioError(`step ${step.action} needs "${k}"`, sc.name, k);
  return v;
}

function workloadType(store: Store, step: ScenarioStep) {
  const kind = (step.kind as string | undefined) ?? "Deployment";
  const t = store.typeForKind((step.apiVersion as string | undefined) ?? DEFAULT_API[kind] ?? "v1", kind);
  if (!t) throw new Error(`unknown kind ${kind}`);
  return t;
}

/** Active pods of a workload: the pod itself, or pods whose owner chain contains the name. */
function podsOf(store: Store, ns: string, step: ScenarioStep): KubeObject[] {
  const pods = store.list(T.pods(store), ns).filter(podIsActive);
  if (typeof step.pod === "string") return pods.filter((p) => p.metadata.name === step.pod);
  const w = step.workload ?? step.name;
  if (typeof w !== "string") return [];
  const rsType = T.replicasets(store);
  return pods
    .filter((p) => {
      const ref = p.metadata.ownerReferences?.find((r) => r.controller);
      if (!ref) return p.metadata.name === w;
      if (ref.name === w) return true;
      if (ref.kind === "ReplicaSet") return store.get(rsType, ns, ref.name)?.metadata.ownerReferences?.some((r) => r.name === w) ?? false;
      return false;
    })
    .sort((a, b) => a.metadata.name.localeCompare(b.metadata.name));
}

function runStep(ctx: ScenarioContext, sc: Scenario, step: ScenarioStep): void {
  const { store, kubelet, behaviors } = ctx;
  const ns = (step.namespace as string | undefined) ?? "default";
  switch (step.action) {
    case "scale": {
      const t = workloadType(store, step);
      const cur = store.get(t, ns, str(step, "name", sc));
      if (!cur) throw new Error(`${t.kind} ${ns}/${step.name} not found`);
      store.update(t, { ...cur, spec: { ...(cur.spec as object), replicas: Number(step.replicas) } });
      return;
    }
    case "setImage":
    case "badImage": {
      const t = workloadType(store, step);
      if (step.action === "badImage" && typeof step.image === "string") behaviors.markBadImage(step.image);
      if (typeof step.name !== "string") return;
      const cur = store.get(t, ns, step.name);
      if (!cur) throw new Error(`${t.kind} ${ns}/${step.name} not found`);
      const spec = structuredClone(cur.spec) as { template: { spec: { containers: { name: string; image: string }[] } } };
      const cs = spec.template.spec.containers.filter((c) => !step.container || c.name === step.container);
      for (const c of cs) c.image = typeof step.image === "string" ? step.image : `${c.image.replace(/:[^/]*$/, "")}:does-not-exist`;
      store.update(t, { ...cur, spec });
      return;
    }
    case "deletePod": {
      const pod = podsOf(store, ns, step)[0];
      if (!pod) throw new Error(`no pod of ${String(step.pod ?? step.workload ?? step.name)} in ${ns}`);
      store.delete(T.pods(store), ns, pod.metadata.name, step.gracePeriodSeconds !== undefined ? { gracePeriodSeconds: Number(step.gracePeriodSeconds) } : undefined);
      return;
    }
    case "crash":
    case "oom": {
      const pods = podsOf(store, ns, step);
      const one = step.all === false || typeof step.pod === "string";
      for (const p of one ? pods.slice(0, 1) : pods) {
        kubelet.crash(ns, p.metadata.name, {
          container: step.container as string | undefined,
          exitCode: step.exitCode !== undefined ? Number(step.exitCode) : undefined,
          lastWords: step.lastWords as string | undefined,
          oom: step.action === "oom",
        });
      }
      return;
    }
    case "evict": {
      const pod = podsOf(store, ns, step)[0];
      if (!pod) throw new Error(`no pod to evict in ${ns}`);
      kubelet.evict(ns, pod.metadata.name, step.message as string | undefined);
      return;
    }
    case "setLogs": {
      const { atMs: _a, action: _b, namespace, workload, container, ...rest } = step;
      behaviors.update({
        namespace: namespace as string | undefined,
        workload: workload as string | undefined,
        container: container as string | undefined,
        behavior: parseBehavior({ logs: rest }, sc.name, "setLogs"),
      });
      kubelet.refreshBehaviors();
      return;
    }
    case "applyManifest":
    case "createObject": {
      for (const parsed of parseManifests(step.manifest ?? step.object, sc.name, step.action)) {
        // `ref`: placeholders and owner of an object created at run time (scenario/refs.ts).
        const o = step.ref === undefined ? parsed : resolveRef(store, parsed, step.ref, parsed.metadata?.namespace ?? ns, sc.name);
        if (o.metadata?.namespace) ensureNamespace(store, o.metadata.namespace);
        if (step.action === "createObject") {
          const t = store.typeForKind(String(o.apiVersion), String(o.kind));
          if (!t) throw new Error(`no resource type for ${o.apiVersion} ${o.kind}`);
          store.create(t, { ...o, metadata: { ...o.metadata, namespace: t.namespaced ? (o.metadata.namespace ?? ns) : undefined } });
        } else applyObject(store, o, sc.name);
      }
      return;
    }
    case "createCRD": {
      const crd = step.crd ? parseManifests(step.crd, sc.name, "crd")[0]! : crdFrom(step, sc);
      applyObject(store, crd, sc.name);
      return;
    }
    case "nodeCondition": {
      // A node condition changes as the kubelet (or the node controller, for Ready=Unknown) reports it.
      const node = store.get(T.nodes(store), undefined, str(step, "node", sc));
      if (!node) throw new Error(`node ${String(step.node)} not found`);
      const type = str(step, "condition", sc);
      const status = String(step.status ?? "True");
      const now = ctx.clock.isoNow();
      const conds = ((node.status as { conditions?: Record<string, unknown>[] } | undefined)?.conditions ?? []).map((c) =>
        c.type === type
          ? { ...c, status, reason: step.reason ?? c.reason, message: step.message ?? c.message, lastHeartbeatTime: now, lastTransitionTime: c.status === status ? c.lastTransitionTime : now }
          : c,
      );
      store.updateStatus(T.nodes(store), { ...node, status: { ...(node.status as object), conditions: conds } });
      return;
    }
    case "delete": {
      const t = workloadType(store, step);
      store.delete(t, t.namespaced ? ns : undefined, str(step, "name", sc), step.propagationPolicy ? { propagationPolicy: step.propagationPolicy as "Background" } : undefined);
      return;
    }
  }
}

function crdFrom(step: ScenarioStep, sc: Scenario): NewObject {
  const group = str(step, "group", sc);
  const kind = str(step, "kind", sc);
  const plural = (step.plural as string | undefined) ?? `${kind.toLowerCase()}s`;
  return {
    apiVersion: "apiextensions.k8s.io/v1",
    kind: "CustomResourceDefinition",
    metadata: { name: `${plural}.${group}` },
    spec: {
      group,
      scope: (step.scope as string | undefined) ?? "Namespaced",
      names: { kind, plural, singular: kind.toLowerCase(), listKind: `${kind}List` },
      versions: [{ name: (step.version as string | undefined) ?? "v1", served: true, storage: true, schema: { openAPIV3Schema: { type: "object", "x-kubernetes-preserve-unknown-fields": true } } }],
    },
  };
}
