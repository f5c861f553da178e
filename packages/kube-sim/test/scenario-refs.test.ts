// The `security` scenario: its CRDs are served, and `ref` makes reports owned by objects created at run time
// (a Deployment's ReplicaSet, the Deployment), with {{ref.*}} filled in, as Trivy Operator and Kyverno own theirs.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { until } from "@faro/test-harness";
import { startCluster, type Cluster } from "../src/index.js";

let cluster: Cluster;

beforeAll(async () => {
  cluster = await startCluster({ speed: 50, scenario: "security" });
});

afterAll(async () => {
  await cluster?.stop();
});

describe("scenario refs", () => {
  it("creates the operators' reports owned by the ReplicaSet and the Deployment they concern", { timeout: 30_000 }, async () => {
    const s = cluster.store;
    for (const [group, resource] of [["aquasecurity.github.io", "vulnerabilityreports"], ["aquasecurity.github.io", "configauditreports"], ["aquasecurity.github.io", "exposedsecretreports"], ["wgpolicyk8s.io", "policyreports"], ["wgpolicyk8s.io", "clusterpolicyreports"]] as const) {
      expect(s.typeFor(group, resource), resource).toBeDefined();
    }
    const vulns = s.typeFor("aquasecurity.github.io", "vulnerabilityreports")!;
    const report = await until(() => s.list(vulns, "default")[0], "the VulnerabilityReport", 20_000);
    const rs = s.list(s.typeFor("apps", "replicasets")!, "default").find((r) => r.metadata.name.startsWith("web-"))!;
    expect(report.metadata.name).toBe(`replicaset-${rs.metadata.name}-app`);
    expect(report.metadata.labels?.["trivy-operator.resource.name"]).toBe(rs.metadata.name);
    expect(report.metadata.ownerReferences).toEqual([{ apiVersion: "apps/v1", kind: "ReplicaSet", name: rs.metadata.name, uid: rs.metadata.uid, controller: true, blockOwnerDeletion: false }]);
    const polr = await until(() => s.list(s.typeFor("wgpolicyk8s.io", "policyreports")!, "default")[0], "the PolicyReport", 20_000);
    const api = s.get(s.typeFor("apps", "deployments")!, "default", "api")!;
    expect(polr.metadata.name).toBe(api.metadata.uid);
    expect(polr.metadata.ownerReferences?.[0]).toMatchObject({ kind: "Deployment", name: "api", uid: api.metadata.uid });
  });
});
