// Security findings: Falco alerts (Events from the ingester), Trivy Operator and Kyverno reports and Kyverno Events,
// turned into `security` story entries and, at or above a severity, SecurityFinding detections (docs/security.md).
import { shortHash, type KubeEvent, type ObjectRef, type ResourceChange, type SecurityPayload, type SecuritySource, type Severity, type StoryPayload } from "@faro/contracts";
import { evidence, type Detection } from "./detect.js";
import type { ObjectJson } from "./k8s.js";
import type { OwnerFetcher } from "./ownership.js";

/** The incident reason (and subject token) of every security incident. */
export const SECURITY_REASON = "SecurityFinding";

export interface SecuritySettings {
  /** Findings at or above this severity raise a SecurityFinding incident (debounced like the others). */
  minSeverity: Severity;
  /** A Trivy vulnerability raises only when a fixed version exists (acting on it is possible). */
  requireFix: boolean;
  /** Findings taken from one report version; the rest are counted in the last entry's evidence. */
  maxFindingsPerReport: number;
}

export const DEFAULT_SECURITY_SETTINGS: SecuritySettings = { minSeverity: "high", requireFix: true, maxFindingsPerReport: 200 };

const RANK: Record<Severity, number> = { info: 0, low: 1, medium: 2, high: 3, critical: 4 };

export interface SecurityFinding {
  source: SecuritySource;
  rule: string;
  severity: Severity;
  sourceSeverity: string;
  title: string;
  /** Stable identity: the same finding in a later report version, or a retried alert, is the same id. */
  findingId: string;
  /** Findings of one debounce key within the window are repeats of one incident. */
  debounceKey: string;
  /** Identifies this observation (an alert's uid; a report finding is observed once per id). */
  occurrenceId: string;
  subject: ObjectRef;
  container: string;
  evidence: Record<string, unknown>;
  report: string;
  /** Besides the severity threshold, whether this kind of finding may raise an incident at all. */
  mayRaise: boolean;
}

/** A story entry body and an optional detection, ready for the processor. */
export interface SecurityOutput {
  entries: { id: string; timestamp: string; summary: string; body: StoryPayload }[];
  detections: Detection[];
  /** The input is only a carrier of the finding (a Falco alert as an Event): its own `event` entry is not told. */
  replacesEvent: boolean;
}

const EMPTY: SecurityOutput = { entries: [], detections: [], replacesEvent: false };

// ---- severities ----

const FALCO: Record<string, Severity> = { emergency: "critical", alert: "critical", critical: "critical", error: "high", warning: "medium", notice: "low", informational: "info", info: "info", debug: "info" };
const GENERIC: Record<string, Severity> = { critical: "critical", high: "high", medium: "medium", moderate: "medium", low: "low", info: "info", informational: "info", unknown: "info", none: "info" };

const sev = (table: Record<string, Severity>, s: unknown, otherwise: Severity = "info"): Severity => (typeof s === "string" ? (table[s.toLowerCase()] ?? otherwise) : otherwise);

// ---- reading JSON defensively: reports come from other operators, any field may be missing ----

type Json = Record<string, unknown>;
const obj = (v: unknown): Json => (v !== null && typeof v === "object" && !Array.isArray(v) ? (v as Json) : {});
const arr = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
const str = (v: unknown): string => (typeof v === "string" ? v : typeof v === "number" || typeof v === "boolean" ? String(v) : "");

// ---- what carries findings ----

/** Trivy Operator (aquasecurity.github.io) and policy report (wgpolicyk8s.io) kinds read for findings. */
export const REPORT_KINDS: Readonly<Record<string, readonly string[]>> = {
  "aquasecurity.github.io": ["VulnerabilityReport", "ConfigAuditReport", "ExposedSecretReport"],
  "wgpolicyk8s.io": ["PolicyReport", "ClusterPolicyReport"],
};

export function isSecurityReport(group: string, kind: string): boolean {
  return REPORT_KINDS[group]?.includes(kind) ?? false;
}

/** The object a Trivy report is about, from its labels (the operator's own) or its owner. */
function trivySubject(rc: ResourceChange, o: ObjectJson): { subject: ObjectRef; container: string } {
  const l = o.metadata?.labels ?? {};
  const owner = o.metadata?.ownerReferences?.[0];
  const kind = l["trivy-operator.resource.kind"] ?? owner?.kind ?? "";
  const name = l["trivy-operator.resource.name"] ?? owner?.name ?? "";
  const uid = owner && owner.kind === kind && owner.name === name ? owner.uid : "";
  return {
    subject: { apiVersion: owner?.apiVersion ?? "", kind, namespace: l["trivy-operator.resource.namespace"] ?? rc.namespace, name, uid, fieldPath: "" },
    container: l["trivy-operator.container.name"] ?? "",
  };
}

function reportFindings(rc: ResourceChange, o: ObjectJson, settings: SecuritySettings): SecurityFinding[] {
  const report = obj((o as Json)["report"]);
  const ref = `${rc.kind}/${rc.name}`;
  const out: SecurityFinding[] = [];
  const id = (...parts: string[]) => `${rc.kind}:${shortHash(rc.cluster, rc.namespace, rc.name, ...parts)}`;
  if (rc.kind === "VulnerabilityReport" || rc.kind === "ConfigAuditReport" || rc.kind === "ExposedSecretReport") {
    const { subject, container } = trivySubject(rc, o);
    const where = `${subject.kind}/${subject.name}${container ? ` (${container})` : ""}`;
    if (rc.kind === "VulnerabilityReport") {
      const artifact = obj(report["artifact"]);
      const image = [str(artifact["repository"]), str(artifact["tag"])].filter(Boolean).join(":");
      for (const v of arr(report["vulnerabilities"]).map(obj)) {
        const cve = str(v["vulnerabilityID"]);
        if (!cve) continue;
        const resource = str(v["resource"]);
        const fixed = str(v["fixedVersion"]);
        const findingId = id(cve, resource, container);
        out.push({
          source: "trivy",
          rule: cve,
          severity: sev(GENERIC, v["severity"]),
          sourceSeverity: str(v["severity"]),
          title: `${cve} in ${resource} ${str(v["installedVersion"])}${fixed ? ` (fixed in ${fixed})` : " (no fix)"} of ${image || where}: ${str(v["title"])}`,
          findingId,
          debounceKey: findingId,
          occurrenceId: findingId,
          subject,
          container,
          evidence: { image, resource, installedVersion: str(v["installedVersion"]), fixedVersion: fixed, score: v["score"] ?? null, primaryLink: str(v["primaryLink"]) },
          report: ref,
          mayRaise: !settings.requireFix || fixed !== "",
        });
      }
    } else if (rc.kind === "ConfigAuditReport") {
      for (const c of arr(report["checks"]).map(obj)) {
        if (c["success"] !== false) continue;
        const check = str(c["checkID"]);
        const findingId = id(check, container);
        out.push({
          source: "trivy",
          rule: check,
          severity: sev(GENERIC, c["severity"]),
          sourceSeverity: str(c["severity"]),
          title: `${check} ${str(c["title"])} on ${where}`,
          findingId,
          debounceKey: findingId,
          occurrenceId: findingId,
          subject,
          container,
          evidence: { category: str(c["category"]), messages: arr(c["messages"]).map(str), description: str(c["description"]) },
          report: ref,
          mayRaise: true,
        });
      }
    } else {
      for (const s of arr(report["secrets"]).map(obj)) {
        const rule = str(s["ruleID"]);
        const target = str(s["target"]);
        const findingId = id(rule, target, container);
        out.push({
          source: "trivy",
          rule,
          severity: sev(GENERIC, s["severity"]),
          sourceSeverity: str(s["severity"]),
          title: `exposed secret ${str(s["title"]) || rule} in ${target} of ${where}`,
          findingId,
          debounceKey: findingId,
          occurrenceId: findingId,
          subject,
          container,
          // The match is the secret itself (Trivy masks it; the filter redacted it once more); kept as evidence.
          evidence: { target, category: str(s["category"]), match: str(s["match"]) },
          report: ref,
          mayRaise: true,
        });
      }
    }
    return out;
  }
  // PolicyReport / ClusterPolicyReport (wgpolicyk8s.io/v1alpha2), as Kyverno writes them.
  const scope = obj((o as Json)["scope"]);
  for (const r of arr((o as Json)["results"]).map(obj)) {
    const result = str(r["result"]);
    if (result !== "fail" && result !== "warn" && result !== "error") continue;
    const policy = str(r["policy"]);
    const rule = str(r["rule"]);
    const props = obj(r["properties"]);
    const mode = str(props["validationFailureAction"] || props["failureAction"] || props["mode"]).toLowerCase();
    const resources = arr(r["resources"]).map(obj);
    const targets = resources.length ? resources : [scope];
    for (const t of targets) {
      const subject: ObjectRef = { apiVersion: str(t["apiVersion"]), kind: str(t["kind"]), namespace: str(t["namespace"]) || rc.namespace, name: str(t["name"]), uid: str(t["uid"]), fieldPath: "" };
      const findingId = id(policy, rule, subject.kind, subject.name, result);
      out.push({
        source: "kyverno",
        rule: rule ? `${policy}/${rule}` : policy,
        severity: sev(GENERIC, r["severity"], "medium"),
        sourceSeverity: str(r["severity"]),
        title: `policy ${policy}${rule ? `/${rule}` : ""} ${result}${mode ? ` (${mode})` : ""} on ${subject.kind}/${subject.name}: ${str(r["message"])}`,
        findingId,
        debounceKey: findingId,
        occurrenceId: findingId,
        subject,
        container: "",
        evidence: { result, mode, category: str(r["category"]), message: str(r["message"]), source: str(r["source"]) },
        report: ref,
        // A policy in audit mode only reports; one that enforces (and failed) is worth an incident.
        mayRaise: result === "fail" && mode === "enforce",
      });
    }
  }
  return out;
}

/** A Kyverno policy Event: `policy <name>/<rule> fail: <message>` (PolicyViolation). */
const KYVERNO_MESSAGE = /^policy\s+(\S+?)(?:\/(\S+))?\s+(fail|error|warn|pass|skip)\b:?\s*(.*)$/is;

function eventFindings(ev: KubeEvent): SecurityFinding[] {
  const source = ev.sourceComponent || ev.reportingController;
  if (ev.sourceComponent === "falco") {
    let alert: Json = {};
    try {
      alert = obj(obj(JSON.parse(ev.objectJson || "{}"))["falco"]);
    } catch {
      // Not JSON after redaction: the Event's own fields still tell the finding.
    }
    const fields = obj(alert["output_fields"]);
    const container = str(fields["container.name"]) || /^spec\.containers\{(.+)\}$/.exec(ev.involved.fieldPath)?.[1] || "";
    const priority = str(alert["priority"]);
    return [
      {
        source: "falco",
        rule: ev.reason,
        severity: sev(FALCO, priority, "medium"),
        sourceSeverity: priority,
        title: ev.message,
        findingId: `falco:${ev.uid}`,
        // Repeats of one rule on one object and container are one incident within the debounce window.
        debounceKey: `falco:${shortHash(ev.reason, ev.involved.kind, ev.involved.namespace, ev.involved.name, container)}`,
        occurrenceId: ev.uid,
        subject: ev.involved,
        container,
        evidence: { priority, source: str(alert["source"]), hostname: ev.sourceHost, tags: arr(alert["tags"]).map(str), outputFields: fields },
        report: "",
        mayRaise: true,
      },
    ];
  }
  if (/^kyverno/i.test(source) && /^Policy(Violation|Error)$/.test(ev.reason)) {
    const m = KYVERNO_MESSAGE.exec(ev.message);
    const policy = m?.[1] ?? "";
    const rule = m?.[2] ?? "";
    const result = (m?.[3] ?? (ev.reason === "PolicyError" ? "error" : "fail")).toLowerCase();
    if (result === "pass" || result === "skip") return [];
    return [
      {
        source: "kyverno",
        rule: rule ? `${policy}/${rule}` : policy || ev.reason,
        severity: "medium",
        sourceSeverity: "",
        title: ev.message,
        findingId: `kyverno-event:${ev.uid}`,
        debounceKey: `kyverno-event:${shortHash(policy, rule, ev.involved.kind, ev.involved.name)}`,
        occurrenceId: ev.uid,
        subject: ev.involved,
        container: "",
        evidence: { result, reason: ev.reason, source, count: ev.count },
        report: `Event/${ev.name}`,
        // The policy report tells the same violation with its severity and mode: that one raises.
        mayRaise: false,
      },
    ];
  }
  return [];
}

function output(findings: SecurityFinding[], timestamp: string, settings: SecuritySettings, pod: { name: string; uid: string } | undefined): SecurityOutput {
  if (findings.length === 0) return EMPTY;
  const entries: SecurityOutput["entries"] = [];
  const detections: Detection[] = [];
  const kept = findings.slice(0, settings.maxFindingsPerReport);
  for (const f of kept) {
    const payload: SecurityPayload = {
      source: f.source,
      rule: f.rule,
      severity: f.severity,
      sourceSeverity: f.sourceSeverity,
      title: f.title,
      findingId: f.findingId,
      subject: f.subject,
      container: f.container,
      evidenceJson: JSON.stringify(f === kept[kept.length - 1] && findings.length > kept.length ? { ...f.evidence, findingsNotTold: findings.length - kept.length } : f.evidence),
      report: f.report,
    };
    entries.push({ id: `sec:${f.findingId}`, timestamp, summary: `security ${f.source} ${f.severity}: ${f.title}`, body: { entryKind: "security", security: payload } });
    if (f.mayRaise && RANK[f.severity] >= RANK[settings.minSeverity]) {
      const detection: SecurityDetection = {
        reason: SECURITY_REASON,
        severity: f.severity,
        container: f.container,
        k8sTimestamp: timestamp,
        message: `${f.source} ${f.rule}: ${f.title}`,
        restartCount: 0,
        occurrenceId: `sec:${f.occurrenceId}`,
        terminated: false,
        ...(pod ? { podUid: pod.uid, podName: pod.name } : {}),
        object: `${f.subject.kind}/${f.subject.name}`,
        // What triggered it: the report's field, or the Event (a Falco alert, a Kyverno policy Event).
        evidence: [
          f.report && !f.report.startsWith("Event/")
            ? evidence("status", f.report, f.source === "kyverno" ? "results" : "report", { reason: f.rule, message: f.title, time: timestamp, value: f.severity })
            : evidence("event", `${f.subject.kind}/${f.subject.name}`, "", { reason: f.rule, message: f.title, time: timestamp, value: f.sourceSeverity || f.severity }),
        ],
        debounceKey: f.debounceKey,
      };
      detections.push(detection);
    }
  }
  return { entries, detections, replacesEvent: false };
}

/** A detection whose debounce episode is keyed by the finding, not by (container, reason). */
export interface SecurityDetection extends Detection {
  debounceKey: string;
}

/** The key a detection debounces under: a security finding's own key, else its container (the processor's default). */
export function debounceKeyOf(d: Detection): string {
  const key = (d as Partial<SecurityDetection>).debounceKey;
  return typeof key === "string" && key !== "" ? key : d.container;
}

/**
 * Findings of a report change that the previous version of the report did not have (a rescan repeats every
 * finding; the story tells only what is new, and only a new finding raises an incident).
 */
export function securityFromChange(rc: ResourceChange, o: ObjectJson, prev: ObjectJson | undefined, deleted: boolean, timestamp: string, settings: SecuritySettings): SecurityOutput {
  if (deleted || !isSecurityReport(rc.group, rc.kind)) return EMPTY;
  const before = new Set(prev ? reportFindings(rc, prev, settings).map((f) => f.findingId) : []);
  return output(reportFindings(rc, o, settings).filter((f) => !before.has(f.findingId)), timestamp, settings, undefined);
}

/** The finding a Falco alert (published by the ingester) or a Kyverno policy Event carries. */
export function securityFromEvent(ev: KubeEvent, timestamp: string, settings: SecuritySettings): SecurityOutput {
  if (ev.type === "DELETED") return EMPTY;
  const pod = ev.involved.kind === "Pod" ? { name: ev.involved.name, uid: ev.involved.uid } : undefined;
  const out = output(eventFindings(ev), timestamp, settings, pod);
  return out.entries.length && ev.sourceComponent === "falco" ? { ...out, replacesEvent: true } : out;
}

/**
 * A Falco alert names its pod but not the pod's uid (Falco sees containers, not API objects): it is read from the
 * API by name, so the alert lands in the story of the pod's workload like the pod's own Events. Unchanged when the
 * uid is known, the object is gone, or no API is at hand.
 */
export async function withInvolvedUid(ev: KubeEvent, fetch: OwnerFetcher | undefined): Promise<KubeEvent> {
  if (ev.involved.uid || !fetch || ev.sourceComponent !== "falco" || !ev.involved.name) return ev;
  const { apiVersion, kind, namespace, name } = ev.involved;
  let found: ObjectJson | undefined;
  try {
    found = await fetch({ apiVersion, kind, namespace, name });
  } catch {
    // Told in a story of its own (the pod by name), as any Event whose object cannot be read.
    return ev;
  }
  const uid = found?.metadata?.uid;
  return uid ? { ...ev, involved: { ...ev.involved, uid } } : ev;
}
