// Scenario format: parses and validates scenario YAML (name, speed, duration, namespaces, manifests,
// behaviors, steps) into typed objects; finds built-in scenarios by name.
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parseAllDocuments } from "yaml";
import { parseDuration } from "../clock.js";
import { memoryBytes, type BehaviorRule, type ContainerBehavior } from "../kubelet/behavior.js";
import type { NewObject } from "../types.js";
import { ScenarioError } from "./errors.js";

export const STEP_ACTIONS = ["scale", "setImage", "deletePod", "crash", "oom", "badImage", "setLogs", "applyManifest", "createCRD", "createObject", "evict", "delete", "nodeCondition"] as const;
export type StepAction = (typeof STEP_ACTIONS)[number];

export interface ScenarioStep {
  /** simulated ms after the scenario starts */
  atMs: number;
  action: StepAction;
  [param: string]: unknown;
}

export interface Scenario {
  name: string;
  description?: string;
  speed?: number;
  durationMs?: number;
  /** minimum number of nodes the scenario needs */
  nodes?: number;
  namespaces: string[];
  manifests: NewObject[];
  behaviors: BehaviorRule[];
  badImages: string[];
  steps: ScenarioStep[];
}

const BUILTIN_DIR = path.join(path.dirname(fileURLToPath(import.meta.url)), "..", "scenarios");

/** Names of the built-in scenarios (files in src/scenarios plus the generated `load`). */
export function builtinScenarioNames(): string[] {
  const files = fs.existsSync(BUILTIN_DIR) ? fs.readdirSync(BUILTIN_DIR).filter((f) => f.endsWith(".yaml")).map((f) => f.slice(0, -5)) : [];
  return [...new Set([...files, "load"])].sort();
}

export interface LoadParams {
  pods?: number;
  containersPerPod?: number;
  linesPerSecond?: number;
  /** pods deleted (and recreated by their ReplicaSet) per simulated minute */
  churnPerMinute?: number;
  namespace?: string;
}

/** Loads a built-in scenario by name or a scenario file by path. */
export function loadScenario(nameOrPath: string, params: LoadParams = {}): Scenario {
  if (nameOrPath === "load") return loadTestScenario(params);
  const builtin = path.join(BUILTIN_DIR, `${nameOrPath}.yaml`);
  const file = /^[a-z0-9-]+$/.test(nameOrPath) && fs.existsSync(builtin) ? builtin : nameOrPath;
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch (err) {
    throw new ScenarioError(`not a built-in scenario (${builtinScenarioNames().join(", ")}) nor a readable file`, nameOrPath, undefined, { cause: err });
  }
  return parseScenario(text, nameOrPath);
}

/** Parses scenario YAML text. */
export function parseScenario(text: string, source = "scenario"): Scenario {
  const docs = parseAllDocuments(text);
  const first = docs[0];
  if (!first || first.errors.length) throw new ScenarioError(first?.errors[0]?.message ?? "empty document", source);
  return toScenario(first.toJSON() as Record<string, unknown>, source);
}

/** Validates a scenario given as a plain object (as parsed from YAML). */
export function toScenario(raw: Record<string, unknown>, source = "scenario"): Scenario {
  if (!raw || typeof raw !== "object") throw new ScenarioError("must be a mapping", source);
  const name = typeof raw.name === "string" ? raw.name : source;
  const known = new Set(["name", "description", "speed", "duration", "nodes", "namespaces", "manifests", "behaviors", "badImages", "steps"]);
  for (const k of Object.keys(raw)) if (!known.has(k)) throw new ScenarioError(`unknown field "${k}" (known: ${[...known].join(", ")})`, name, k);
  const dur = (v: unknown, field: string) => {
    try {
      return parseDuration(v as string | number, field);
    } catch (err) {
      throw new ScenarioError((err as Error).message, name, field);
    }
  };
  const sc: Scenario = { name, namespaces: [], manifests: [], behaviors: [], badImages: [], steps: [] };
  if (raw.description !== undefined) sc.description = String(raw.description);
  if (raw.speed !== undefined) {
    if (typeof raw.speed !== "number" || !(raw.speed > 0)) throw new ScenarioError("must be a positive number", name, "speed");
    sc.speed = raw.speed;
  }
  if (raw.duration !== undefined) sc.durationMs = dur(raw.duration, "duration");
  if (raw.nodes !== undefined) sc.nodes = Number(raw.nodes);
  if (raw.namespaces !== undefined) {
    if (!Array.isArray(raw.namespaces)) throw new ScenarioError("must be a list of names", name, "namespaces");
    sc.namespaces = raw.namespaces.map(String);
  }
  sc.manifests = parseManifests(raw.manifests, name, "manifests");
  if (raw.badImages !== undefined) sc.badImages = (raw.badImages as unknown[]).map(String);
  if (raw.behaviors !== undefined) {
    if (!Array.isArray(raw.behaviors)) throw new ScenarioError("must be a list", name, "behaviors");
    sc.behaviors = raw.behaviors.map((b, i) => parseRule(b as Record<string, unknown>, name, `behaviors[${i}]`));
  }
  if (raw.steps !== undefined) {
    if (!Array.isArray(raw.steps)) throw new ScenarioError("must be a list", name, "steps");
    sc.steps = raw.steps.map((s, i) => {
      const st = s as Record<string, unknown>;
      const field = `steps[${i}]`;
      if (!STEP_ACTIONS.includes(st.action as StepAction)) throw new ScenarioError(`action must be one of ${STEP_ACTIONS.join(", ")}`, name, `${field}.action`);
      if (st.at === undefined) throw new ScenarioError("missing at", name, `${field}.at`);
      const { at, ...rest } = st;
      return { ...rest, atMs: dur(at, `${field}.at`), action: st.action as StepAction };
    });
    sc.steps.sort((a, b) => a.atMs - b.atMs);
  }
  return sc;
}

/** Manifests: a multi-document YAML string, one object, or a list of objects/strings. */
export function parseManifests(v: unknown, scenario: string, field: string): NewObject[] {
  if (v === undefined || v === null) return [];
  if (typeof v === "string") {
    const out: NewObject[] = [];
    for (const d of parseAllDocuments(v)) {
      if (d.errors.length) throw new ScenarioError(d.errors[0]!.message, scenario, field);
      const o = d.toJSON();
      if (o) out.push(...parseManifests(o, scenario, field));
    }
    return out;
  }
  if (Array.isArray(v)) return v.flatMap((x, i) => parseManifests(x, scenario, `${field}[${i}]`));
  const o = v as Record<string, unknown>;
  if (o.kind === "List" && Array.isArray(o.items)) return parseManifests(o.items, scenario, field);
  if (typeof o.apiVersion !== "string" || typeof o.kind !== "string") throw new ScenarioError("objects need apiVersion and kind", scenario, field);
  return [o as unknown as NewObject];
}

function parseRule(r: Record<string, unknown>, scenario: string, field: string): BehaviorRule {
  const { namespace, workload, container, ...b } = r;
  const rule: BehaviorRule = { behavior: parseBehavior(b, scenario, field) };
  if (namespace !== undefined) rule.namespace = String(namespace);
  if (workload !== undefined) rule.workload = String(workload);
  if (container !== undefined) rule.container = String(container);
  return rule;
}

/** Behaviour fields as written in YAML (durations as strings) → ContainerBehavior. */
export function parseBehavior(b: Record<string, unknown>, scenario: string, field: string): ContainerBehavior {
  const out: ContainerBehavior = {};
  const d = (v: unknown, f: string) => {
    try {
      return parseDuration(v as string | number, f);
    } catch (err) {
      throw new ScenarioError((err as Error).message, scenario, `${field}.${f}`);
    }
  };
  for (const [k, v] of Object.entries(b)) {
    switch (k) {
      case "crashAfter":
        out.crashAfterMs = d(v, k);
        break;
      case "oomAfter":
        out.oomAfterMs = d(v, k);
        break;
      case "memoryNeed": {
        const bytes = memoryBytes(v);
        if (bytes === undefined) throw new ScenarioError(`expected a memory quantity (e.g. 96Mi); got ${JSON.stringify(v)}`, scenario, `${field}.${k}`);
        out.memoryNeedBytes = bytes;
        break;
      }
      case "completeAfter":
        out.completeAfterMs = d(v, k);
        break;
      case "exitCode":
        out.exitCode = Number(v);
        break;
      case "lastWords":
        out.lastWords = String(v);
        break;
      case "badImage":
        out.badImage = v === true;
        break;
      case "pullTime":
        out.pullMs = d(v, k);
        break;
      case "stopTime":
        out.stopMs = d(v, k);
        break;
      case "probe": {
        const p = v as Record<string, unknown>;
        out.probe = { type: p.type === "liveness" ? "liveness" : "readiness", failAfterMs: d(p.failAfter ?? 0, "probe.failAfter") };
        if (p.period !== undefined) out.probe.periodMs = d(p.period, "probe.period");
        if (p.failureThreshold !== undefined) out.probe.failureThreshold = Number(p.failureThreshold);
        break;
      }
      case "sandboxError":
        out.sandboxError = String(v);
        break;
      case "waitingError": {
        const w = (typeof v === "string" ? { reason: v } : v) as Record<string, unknown>;
        if (typeof w.reason !== "string" || w.reason === "") throw new ScenarioError("waitingError needs a reason", scenario, `${field}.${k}.reason`);
        out.waitingError = { reason: w.reason, ...(w.message !== undefined ? { message: String(w.message) } : {}) };
        break;
      }
      case "logs": {
        const l = v as Record<string, unknown>;
        out.logs = {};
        if (l.lines !== undefined) out.logs.lines = (l.lines as unknown[]).map(String);
        if (l.startup !== undefined) out.logs.startup = (l.startup as unknown[]).map(String);
        if (l.rate !== undefined) out.logs.rate = Number(l.rate);
        if (l.burst !== undefined) {
          const bu = l.burst as Record<string, unknown>;
          out.logs.burst = { everyMs: d(bu.every, "logs.burst.every"), lines: Number(bu.lines) };
        }
        break;
      }
      default:
        throw new ScenarioError(`unknown behaviour field "${k}"`, scenario, `${field}.${k}`);
    }
  }
  return out;
}

/** The `load` scenario: N deployments-worth of pods writing lines at a rate, with optional churn. */
export function loadTestScenario(p: LoadParams = {}): Scenario {
  const pods = p.pods ?? 50;
  const containers = p.containersPerPod ?? 1;
  const rate = p.linesPerSecond ?? 10;
  const ns = p.namespace ?? "load";
  const perDeploy = 10;
  const deploys = Math.ceil(pods / perDeploy);
  const manifests: NewObject[] = [];
  for (let i = 0; i < deploys; i++) {
    const name = `load-${i}`;
    const replicas = Math.min(perDeploy, pods - i * perDeploy);
    manifests.push({
      apiVersion: "apps/v1",
      kind: "Deployment",
      metadata: { name, namespace: ns, labels: { app: name } },
      spec: {
        replicas,
        selector: { matchLabels: { app: name } },
        template: {
          metadata: { labels: { app: name } },
          spec: { containers: Array.from({ length: containers }, (_, c) => ({ name: `c${c}`, image: `sim/load:1.${c}`, resources: { requests: { cpu: "1m", memory: "1Mi" } } })) },
        },
      },
    });
  }
  const steps: ScenarioStep[] = [];
  const churn = p.churnPerMinute ?? 0;
  for (let i = 0; churn > 0 && i < churn * 60; i++) {
    steps.push({ atMs: 10_000 + Math.round((i * 60_000) / churn), action: "deletePod", namespace: ns, workload: `load-${i % deploys}` });
  }
  return {
    name: "load",
    description: `${pods} pods × ${containers} containers at ${rate} lines/s each, ${churn} pod deletions per minute`,
    namespaces: [ns],
    nodes: Math.max(3, Math.ceil(pods / 100)),
    manifests,
    behaviors: [{ namespace: ns, behavior: { logs: { lines: ["{pod} {container} line {n} lorem ipsum dolor sit amet"], rate }, pullMs: 100 } }],
    badImages: [],
    steps,
  };
}
