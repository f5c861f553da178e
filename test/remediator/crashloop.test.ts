// The crashloop scenario through the pipeline and the remediator, against the simulator: a Deployment whose new
// revision crash-loops is rolled back to its previous ReplicaSet by a live `rollback` policy (the Remediation ends
// `succeeded` and the pods run again); `scale` acts within its bounds, then reports the bound as exhausted;
// `restartPod` in dryRun names the pod it would delete.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { until } from "@faro/test-harness";
import { actions, createPolicy, kube, policy, remediations, setUp, startRemediator, tearDown, type Env } from "./helpers.js";

let env: Env;
const DEPLOYMENTS = "/apis/apps/v1/namespaces/default/deployments";

beforeAll(async () => {
  env = await setUp("rem-crash", "crashloop");
}, 90_000);

afterAll(async () => {
  expect(await tearDown(env)).toBe(0);
}, 60_000);

const readyPods = async (app: string) =>
  ((await kube(env, "GET", `/api/v1/namespaces/default/pods?labelSelector=app%3D${app}`)).json.items as any[]).filter((p) => !p.metadata.deletionTimestamp && p.status?.containerStatuses?.every((c: any) => c.ready));

describe("remediator on the crashloop scenario", () => {
  it("rolls a crash-looping revision back to the previous ReplicaSet; scales within bounds; restartPod dry-run", { timeout: 120_000 }, async () => {
    // Revision 1 of `flaky` runs; revision 2 crashes 5s after each start (the simulator's pod-template annotations).
    const template = { metadata: { labels: { app: "flaky" } }, spec: { containers: [{ name: "app", image: "sim/flaky:1.0", resources: { requests: { cpu: "50m", memory: "64Mi" } } }] } };
    const created = await kube(env, "POST", DEPLOYMENTS, { apiVersion: "apps/v1", kind: "Deployment", metadata: { name: "flaky", namespace: "default", labels: { app: "flaky" } }, spec: { replicas: 1, selector: { matchLabels: { app: "flaky" } }, template } });
    expect(created.status).toBeLessThan(300);
    await until(async () => (await readyPods("flaky")).length === 1, "revision 1 running", 30_000, 100);
    await createPolicy(env, policy("flaky-rollback", { selector: { matchLabels: { app: "flaky" } }, triggers: { reasons: ["CrashLoopBackOff"] }, action: { type: "rollback" }, mode: "live", cooldown: "1h" }));
    await createPolicy(env, policy("crasher-scale", { selector: { matchLabels: { app: "crasher" } }, triggers: { reasons: ["CrashLoopBackOff"] }, action: { type: "scale", scale: { step: 1, min: 1, max: 2 } }, mode: "live", cooldown: "0s", escalation: { afterAttempts: 5 } }));
    await createPolicy(env, policy("crasher-restart", { selector: { matchLabels: { app: "crasher" } }, triggers: { reasons: ["CrashLoopBackOff"], count: 1, window: "1h" }, action: { type: "restartPod" }, mode: "dryRun", cooldown: "1h" }));
    // gitops is not implemented: such a policy is refused (counted, logged), never half-applied.
    await createPolicy(env, policy("crasher-gitops", { triggers: { reasons: ["CrashLoopBackOff"] }, action: { type: "scale" }, mode: "gitops" }));
    const rem = await startRemediator(env);
    const inst = rem.instance as unknown as { policies(): ReadonlyMap<string, unknown>; remediatorMetrics: { policies: { get(): Promise<{ values: { labels: Record<string, unknown>; value: number }[] }> } } };
    const held = inst.policies();
    // The watcher publishes the policies on FARO_RAW; the gitops one arrives too but is not held.
    await until(() => held.has("default/crasher-restart"), "the policies from FARO_RAW", 30_000, 50);
    await until(async () => (await inst.remediatorMetrics.policies.get()).values.some((v) => v.labels["state"] === "invalid" && v.value === 1), "the gitops policy refused", 30_000, 50);
    expect([...held.keys()].sort()).toEqual(["default/crasher-restart", "default/crasher-scale", "default/flaky-rollback"]);

    const d = (await kube(env, "GET", `${DEPLOYMENTS}/flaky`)).json;
    d.spec.template.metadata.annotations = { "sim.faro.dev/crash-after": "5s", "sim.faro.dev/exit-code": "1" };
    d.spec.template.spec.containers[0].image = "sim/flaky:1.1";
    expect((await kube(env, "PUT", `${DEPLOYMENTS}/flaky`, d)).status).toBeLessThan(300);

    const acted = await until(async () => (await actions(env)).find((a) => a.policyName === "flaky-rollback" && a.decision === "acted"), "the rollback", 60_000, 200);
    expect(acted.detail).toMatch(/roll back from revision 2 to ReplicaSet flaky-\S+ \(revision 1\)/);
    const after = (await kube(env, "GET", `${DEPLOYMENTS}/flaky`)).json;
    expect(after.spec.template.spec.containers[0].image).toBe("sim/flaky:1.0");
    expect(after.spec.template.metadata.annotations?.["sim.faro.dev/crash-after"]).toBeUndefined();
    const record = (await remediations(env)).find((r) => r.metadata.name === acted.remediation);
    expect(record).toMatchObject({ spec: { action: "rollback", target: { kind: "Deployment", name: "flaky" } }, status: { phase: "succeeded" } });
    // The rolled-back revision runs again: one ready pod of image 1.0, none of 1.1 left.
    await until(
      async () => {
        const pods = (await kube(env, "GET", "/api/v1/namespaces/default/pods?labelSelector=app%3Dflaky")).json.items as any[];
        const live = pods.filter((p) => !p.metadata.deletionTimestamp);
        return live.length === 1 && live[0].spec.containers[0].image === "sim/flaky:1.0" && (await readyPods("flaky")).length === 1;
      },
      "the previous revision running again",
      60_000,
      100,
    );

    // scale: 1 → 2, then the bound (max 2) is reported as exhausted rather than exceeded.
    const scaled = await until(
      async () => {
        const a = (await actions(env)).filter((x) => x.policyName === "crasher-scale");
        return a.some((x) => x.decision === "acted") && a.some((x) => x.decision === "exhausted") ? a : undefined;
      },
      "scale acted then exhausted",
      60_000,
      200,
    );
    expect(scaled.filter((a) => a.decision === "acted")).toHaveLength(1);
    expect(scaled.find((a) => a.decision === "acted")!.detail).toBe("scale from 1 to 2 replicas");
    expect(scaled.find((a) => a.decision === "exhausted")!.detail).toMatch(/replicas 2 already at the bound \[1, 2\]/);
    expect((await kube(env, "GET", `${DEPLOYMENTS}/crasher`)).json.spec.replicas).toBe(2);

    const restart = (await actions(env)).filter((a) => a.policyName === "crasher-restart");
    expect(restart.filter((a) => a.decision === "dry_run")).toHaveLength(1);
    expect(restart[0]!.detail).toMatch(/^would delete pod crasher-\S+ so its controller starts a new one$/);
    expect((restart[0]!.target as { kind: string }).kind).toBe("Pod");
    expect((await actions(env)).some((a) => a.policyName === "crasher-gitops")).toBe(false);
  });
});
