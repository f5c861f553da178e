// Unit tests of security findings: severities, the incident gates, only new report findings, Falco and Kyverno Events.
import { describe, expect, it } from "vitest";
import type { KubeEvent, ResourceChange } from "@faro/contracts";
import { debounceKeyOf, DEFAULT_SECURITY_SETTINGS, securityFromChange, securityFromEvent, withInvolvedUid } from "./security.js";
import type { ObjectJson } from "./k8s.js";

const TS = "2026-12-08T00:00:00Z";
const rc = (kind: string, group: string, name = "r"): ResourceChange =>
  ({ cluster: "c", namespace: "shop", kind, group, version: "v1alpha1", name, uid: "u", type: "MODIFIED", resourceVersion: "1", ownerRefs: [], labels: {}, objectJson: "{}", observedAtMs: 0, schemaVersion: 1 }) as unknown as ResourceChange;

const vulnReport = (vulns: Record<string, unknown>[]): ObjectJson =>
  ({
    metadata: { name: "replicaset-web-1-app", labels: { "trivy-operator.resource.kind": "ReplicaSet", "trivy-operator.resource.name": "web-1", "trivy-operator.container.name": "app" }, ownerReferences: [{ apiVersion: "apps/v1", kind: "ReplicaSet", name: "web-1", uid: "rs-1", controller: true }] },
    report: { artifact: { repository: "library/nginx", tag: "1.23.3" }, vulnerabilities: vulns },
  }) as ObjectJson;

const falcoEvent = (priority: string, uid = "falco-1"): KubeEvent =>
  ({
    cluster: "c",
    type: "ADDED",
    uid,
    resourceVersion: "1",
    namespace: "shop",
    name: "web-1-x.abc",
    reason: "Terminal shell in container",
    message: "A shell was spawned",
    eventType: "Warning",
    sourceComponent: "falco",
    sourceHost: "node-1",
    reportingController: "faro-ingester/falco",
    involved: { apiVersion: "v1", kind: "Pod", namespace: "shop", name: "web-1-x", uid: "", fieldPath: "spec.containers{app}" },
    count: 1,
    firstTimestamp: TS,
    lastTimestamp: TS,
    eventTime: TS,
    observedAtMs: 0,
    objectJson: JSON.stringify({ falco: { priority, output_fields: { "proc.name": "sh" } } }),
    schemaVersion: 1,
  }) as unknown as KubeEvent;

describe("security findings", () => {
  it("tells every vulnerability; raises those at or above the threshold that have a fix", () => {
    const o = vulnReport([
      { vulnerabilityID: "CVE-1", resource: "curl", installedVersion: "1", fixedVersion: "2", severity: "CRITICAL" },
      { vulnerabilityID: "CVE-2", resource: "zlib", installedVersion: "1", fixedVersion: "", severity: "CRITICAL" },
      { vulnerabilityID: "CVE-3", resource: "ssl", installedVersion: "1", fixedVersion: "2", severity: "MEDIUM" },
    ]);
    const out = securityFromChange(rc("VulnerabilityReport", "aquasecurity.github.io"), o, undefined, false, TS, DEFAULT_SECURITY_SETTINGS);
    expect(out.entries.map((e) => (e.body.entryKind === "security" ? [e.body.security.rule, e.body.security.severity] : []))).toEqual([
      ["CVE-1", "critical"],
      ["CVE-2", "critical"],
      ["CVE-3", "medium"],
    ]);
    expect(out.detections.map((d) => d.message.split(":")[0])).toEqual(["trivy CVE-1"]);
    const low = securityFromChange(rc("VulnerabilityReport", "aquasecurity.github.io"), o, undefined, false, TS, { ...DEFAULT_SECURITY_SETTINGS, minSeverity: "medium", requireFix: false });
    expect(low.detections).toHaveLength(3);
    // Each finding debounces under its own key, so two CVEs are two incidents.
    expect(new Set(low.detections.map(debounceKeyOf)).size).toBe(3);
  });

  it("tells only what a new version of a report adds", () => {
    const before = vulnReport([{ vulnerabilityID: "CVE-1", resource: "curl", fixedVersion: "2", severity: "CRITICAL" }]);
    const after = vulnReport([
      { vulnerabilityID: "CVE-1", resource: "curl", fixedVersion: "2", severity: "CRITICAL" },
      { vulnerabilityID: "CVE-9", resource: "bash", fixedVersion: "5", severity: "HIGH" },
    ]);
    const out = securityFromChange(rc("VulnerabilityReport", "aquasecurity.github.io"), after, before, false, TS, DEFAULT_SECURITY_SETTINGS);
    expect(out.entries).toHaveLength(1);
    expect(out.detections.map((d) => d.severity)).toEqual(["high"]);
    expect(securityFromChange(rc("VulnerabilityReport", "aquasecurity.github.io"), after, before, true, TS, DEFAULT_SECURITY_SETTINGS).entries).toEqual([]);
    expect(securityFromChange(rc("Deployment", "apps"), after, undefined, false, TS, DEFAULT_SECURITY_SETTINGS).entries).toEqual([]);
  });

  it("raises a failed Kyverno result only in enforce mode, and never for a pass", () => {
    const report = {
      metadata: { name: "p" },
      scope: { apiVersion: "apps/v1", kind: "Deployment", name: "api", namespace: "shop", uid: "d-1" },
      results: [
        { policy: "a", rule: "r", result: "fail", severity: "high", properties: { validationFailureAction: "Enforce" } },
        { policy: "b", rule: "r", result: "fail", severity: "high", properties: { validationFailureAction: "Audit" } },
        { policy: "c", rule: "r", result: "pass", severity: "high" },
      ],
    } as unknown as ObjectJson;
    const out = securityFromChange(rc("PolicyReport", "wgpolicyk8s.io"), report, undefined, false, TS, DEFAULT_SECURITY_SETTINGS);
    expect(out.entries).toHaveLength(2);
    expect(out.detections.map((d) => d.message.split(":")[0])).toEqual(["kyverno a/r"]);
    expect(out.entries[0]!.body.entryKind === "security" && out.entries[0]!.body.security.subject).toMatchObject({ kind: "Deployment", name: "api" });
  });

  it("maps Falco priorities, keys repeats of a rule on one container together, and tells Kyverno Events without raising", () => {
    const crit = securityFromEvent(falcoEvent("Critical"), TS, DEFAULT_SECURITY_SETTINGS);
    expect(crit.entries[0]!.body.entryKind === "security" && crit.entries[0]!.body.security).toMatchObject({ source: "falco", severity: "critical", sourceSeverity: "Critical", container: "app" });
    expect(crit.detections).toHaveLength(1);
    expect(crit.replacesEvent).toBe(true);
    const again = securityFromEvent(falcoEvent("Critical", "falco-2"), TS, DEFAULT_SECURITY_SETTINGS);
    expect(debounceKeyOf(again.detections[0]!)).toBe(debounceKeyOf(crit.detections[0]!));
    expect(again.detections[0]!.occurrenceId).not.toBe(crit.detections[0]!.occurrenceId);
    expect(securityFromEvent(falcoEvent("Warning"), TS, DEFAULT_SECURITY_SETTINGS).detections).toEqual([]);
    const kyverno = { ...falcoEvent("x"), sourceComponent: "kyverno-scan", reason: "PolicyViolation", message: "policy require-labels/check-team fail: validation error" } as KubeEvent;
    const k = securityFromEvent(kyverno, TS, DEFAULT_SECURITY_SETTINGS);
    expect(k.entries[0]!.body.entryKind === "security" && k.entries[0]!.body.security.rule).toBe("require-labels/check-team");
    expect(k.detections).toEqual([]);
    expect(k.replacesEvent).toBe(false);
    expect(securityFromEvent({ ...kyverno, sourceComponent: "kubelet", reason: "BackOff" } as KubeEvent, TS, DEFAULT_SECURITY_SETTINGS).entries).toEqual([]);
  });

  it("fills a Falco alert's pod uid from the API, and leaves it when the pod is not there", async () => {
    const ev = falcoEvent("Critical");
    expect((await withInvolvedUid(ev, async () => ({ metadata: { uid: "pod-1" } }))).involved.uid).toBe("pod-1");
    expect((await withInvolvedUid(ev, async () => undefined)).involved.uid).toBe("");
    expect((await withInvolvedUid(ev, async () => Promise.reject(new Error("down")))).involved.uid).toBe("");
  });
});
