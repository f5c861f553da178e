// AutoRemediationPolicy objects (faro.dev/v1alpha1) turned into checked, typed policies, and the question
// whether a policy applies to an incident.
import { parseDuration } from "@faro/config";
import type { IncidentContext } from "@faro/contracts";
import { InvalidPolicyError } from "./errors.js";

export const ACTION_TYPES = ["restartPod", "rollback", "scale", "raiseMemory"] as const;
export type ActionType = (typeof ACTION_TYPES)[number];
export const MODES = ["dryRun", "live", "gitops"] as const;
export type Mode = (typeof MODES)[number];

export interface Policy {
  /** `<namespace>/<name>` */
  readonly key: string;
  readonly namespace: string;
  readonly name: string;
  readonly namespaces: readonly string[];
  readonly matchLabels: Readonly<Record<string, string>>;
  readonly reasons: readonly string[];
  readonly count: number;
  readonly windowMs: number;
  readonly action: ActionType;
  readonly scale: { step: number; min: number; max: number };
  readonly raiseMemory: { percent: number; maxBytes: number };
  readonly mode: Mode;
  readonly cooldownMs: number;
  readonly escalation: { afterAttempts: number; route: string };
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === "object" && v !== null && !Array.isArray(v);

const UNITS: Record<string, number> = { "": 1, k: 1e3, M: 1e6, G: 1e9, T: 1e12, Ki: 1024, Mi: 1024 ** 2, Gi: 1024 ** 3, Ti: 1024 ** 4 };

/** A Kubernetes memory quantity in bytes (`64Mi`, `1G`, `134217728`); undefined when it is not one. */
export function memoryBytes(q: unknown): number | undefined {
  const m = /^(\d+(?:\.\d+)?)(Ki|Mi|Gi|Ti|k|M|G|T)?$/.exec(String(q ?? "").trim());
  return m ? Math.round(Number(m[1]) * UNITS[m[2] ?? ""]!) : undefined;
}

/** Bytes as a quantity: whole Mi when exact, else whole Ki rounded up. */
export function formatMemory(bytes: number): string {
  if (bytes % 1024 ** 2 === 0) return `${bytes / 1024 ** 2}Mi`;
  return `${Math.ceil(bytes / 1024)}Ki`;
}

/** Reads one policy object (the watcher's normalised JSON); throws InvalidPolicyError naming the field. */
export function parsePolicy(obj: unknown): Policy {
  const meta = isObj(obj) && isObj(obj["metadata"]) ? obj["metadata"] : {};
  const namespace = String(meta["namespace"] ?? "");
  const name = String(meta["name"] ?? "");
  const key = `${namespace}/${name}`;
  const bad = (field: string, detail: string) => new InvalidPolicyError(key, field, detail);
  const spec = isObj(obj) && isObj(obj["spec"]) ? obj["spec"] : undefined;
  if (!spec) throw bad("spec", "missing");
  const sel = isObj(spec["selector"]) ? spec["selector"] : {};
  const trig = isObj(spec["triggers"]) ? spec["triggers"] : undefined;
  if (!trig) throw bad("spec.triggers", "missing");
  const reasons = Array.isArray(trig["reasons"]) ? trig["reasons"].map(String) : [];
  if (!reasons.length) throw bad("spec.triggers.reasons", "needs at least one incident reason");
  const dur = (field: string, v: unknown, dflt: string): number => {
    const ms = parseDuration(String(v ?? dflt));
    if (ms === undefined) throw bad(field, `expected a duration; got ${JSON.stringify(v)}`);
    return ms;
  };
  const int = (field: string, v: unknown, dflt: number, min: number): number => {
    const n = v === undefined ? dflt : Number(v);
    if (!Number.isInteger(n) || n < min) throw bad(field, `expected an integer ≥ ${min}; got ${JSON.stringify(v)}`);
    return n;
  };
  const act = isObj(spec["action"]) ? spec["action"] : undefined;
  const type = act?.["type"];
  if (!(ACTION_TYPES as readonly unknown[]).includes(type)) throw bad("spec.action.type", `expected one of ${ACTION_TYPES.join(", ")}; got ${JSON.stringify(type)}`);
  const mode = spec["mode"] ?? "dryRun";
  if (!(MODES as readonly unknown[]).includes(mode)) throw bad("spec.mode", `expected one of ${MODES.join(", ")}; got ${JSON.stringify(mode)}`);
  if (mode === "gitops") throw bad("spec.mode", "gitops is not supported by this version of the remediator (docs/remediation.md)");
  const sc = isObj(act!["scale"]) ? act!["scale"] : {};
  const scale = { step: sc["step"] === undefined ? 1 : Number(sc["step"]), min: int("spec.action.scale.min", sc["min"], 1, 0), max: int("spec.action.scale.max", sc["max"], 10, 1) };
  if (!Number.isInteger(scale.step) || scale.step === 0) throw bad("spec.action.scale.step", "expected a non-zero integer");
  if (scale.min > scale.max) throw bad("spec.action.scale.min", "greater than spec.action.scale.max");
  const rm = isObj(act!["raiseMemory"]) ? act!["raiseMemory"] : {};
  const maxBytes = memoryBytes(rm["max"] ?? "1Gi");
  if (maxBytes === undefined) throw bad("spec.action.raiseMemory.max", `expected a memory quantity; got ${JSON.stringify(rm["max"])}`);
  const esc = isObj(spec["escalation"]) ? spec["escalation"] : {};
  const labels = isObj(sel["matchLabels"]) ? Object.fromEntries(Object.entries(sel["matchLabels"]).map(([k, v]) => [k, String(v)])) : {};
  return {
    key,
    namespace,
    name,
    namespaces: Array.isArray(sel["namespaces"]) && sel["namespaces"].length ? sel["namespaces"].map(String) : [namespace],
    matchLabels: labels,
    reasons,
    count: int("spec.triggers.count", trig["count"], 1, 1),
    windowMs: dur("spec.triggers.window", trig["window"], "10m"),
    action: type as ActionType,
    scale,
    raiseMemory: { percent: int("spec.action.raiseMemory.percent", rm["percent"], 50, 1), maxBytes },
    mode: mode as Mode,
    cooldownMs: dur("spec.cooldown", spec["cooldown"], "10m"),
    escalation: { afterAttempts: int("spec.escalation.afterAttempts", esc["afterAttempts"], 3, 1), route: String(esc["route"] ?? "") },
  };
}

/** Whether the incident's namespace and reason fit the policy (labels are checked against the live object). */
export function policyCovers(p: Policy, ic: IncidentContext): boolean {
  return p.reasons.includes(ic.reason) && (p.namespaces.includes(ic.namespace) || p.namespaces.includes("*"));
}

export function labelsMatch(p: Policy, labels: Readonly<Record<string, string>>): boolean {
  return Object.entries(p.matchLabels).every(([k, v]) => labels[k] === v);
}
