// The oomkill scenario through the pipeline (watcher → log-streamer → filter → correlator) and the remediator,
// against the simulator: a dryRun policy records what it would do and changes nothing, then skips by its
// cooldown; a policy that can do nothing more escalates after its attempts; a live policy raises the
// Deployment's memory limit once, records a Remediation that ends `succeeded`, and the new pods run.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { until } from "@faro/test-harness";
import { actions, createPolicy, deletePolicy, kube, policy, remediations, setUp, startRemediator, tearDown, type Env } from "./helpers.js";

let env: Env;
const DEPLOYMENT = "/apis/apps/v1/namespaces/default/deployments/hungry";
const limitOf = (d: any): string | undefined => d.spec.template.spec.containers[0].resources?.limits?.memory;

beforeAll(async () => {
  env = await setUp("rem-oom", "oomkill");
}, 90_000);

afterAll(async () => {
  expect(await tearDown(env)).toBe(0);
}, 60_000);

describe("remediator on the oomkill scenario", () => {
  it("dryRun records the action and changes nothing; cooldown skips; an exhausted policy escalates; live raises the limit once and the new pods run", { timeout: 120_000 }, async () => {
    const before = (await kube(env, "GET", DEPLOYMENT)).json;
    expect(limitOf(before)).toBeUndefined();
    await createPolicy(env, policy("oom-dry", { triggers: { reasons: ["OOMKilled"] }, action: { type: "raiseMemory", raiseMemory: { percent: 50, max: "256Mi" } }, mode: "dryRun", cooldown: "1h" }));
    // The cap is already reached (request 64Mi): every attempt is exhausted; the second escalates.
    await createPolicy(env, policy("oom-capped", { selector: { matchLabels: { app: "hungry" } }, triggers: { reasons: ["OOMKilled"] }, action: { type: "raiseMemory", raiseMemory: { percent: 50, max: "64Mi" } }, mode: "live", escalation: { afterAttempts: 2, route: "oncall" } }));
    // A policy whose labels do not match the workload is never consulted.
    await createPolicy(env, policy("other-app", { selector: { matchLabels: { app: "not-hungry" } }, triggers: { reasons: ["OOMKilled"] }, action: { type: "restartPod" }, mode: "live" }));
    await startRemediator(env);

    const phase1 = await until(
      async () => {
        const a = await actions(env);
        const has = (policyName: string, decision: string) => a.some((x) => x.policyName === policyName && x.decision === decision);
        return has("oom-dry", "dry_run") && has("oom-dry", "skipped_cooldown") && has("oom-capped", "escalated") ? a : undefined;
      },
      "dry_run, skipped_cooldown and escalated decisions",
      60_000,
      200,
    );
    const dry = phase1.filter((a) => a.policyName === "oom-dry");
    expect(dry.filter((a) => a.decision === "dry_run")).toHaveLength(1);
    expect(dry[0]).toMatchObject({ decision: "dry_run", action: "raiseMemory", mode: "dryRun", reason: "OOMKilled", remediation: "" });
    expect(dry[0]!.detail).toMatch(/would raise container app's memory limit from \(none\) to 96Mi/);
    expect(JSON.parse(dry[0]!.patchJson)).toEqual({ spec: { template: { spec: { containers: [{ name: "app", resources: { limits: { memory: "96Mi" } } }] } } } });
    const capped = phase1.filter((a) => a.policyName === "oom-capped");
    expect(capped.filter((a) => a.decision === "exhausted").map((a) => a.attempt).slice(0, 2)).toEqual([1, 2]);
    const esc = capped.filter((a) => a.decision === "escalated");
    expect(esc).toHaveLength(1);
    expect(esc[0]).toMatchObject({ action: "escalate", attempt: 2 });
    expect(esc[0]!.detail).toMatch(/route oncall/);
    expect(phase1.some((a) => a.policyName === "other-app")).toBe(false);
    // Nothing changed: the template is the same and no Remediation was recorded.
    const unchanged = (await kube(env, "GET", DEPLOYMENT)).json;
    expect(unchanged.spec.template).toEqual(before.spec.template);
    expect(await remediations(env)).toEqual([]);

    // Live: the limit is raised once (the cooldown holds off the OOMs of the old pod), the new pods run.
    await deletePolicy(env, "oom-dry");
    await deletePolicy(env, "oom-capped");
    await createPolicy(env, policy("oom-live", { selector: { namespaces: ["default"], matchLabels: { app: "hungry" } }, triggers: { reasons: ["OOMKilled"] }, action: { type: "raiseMemory", raiseMemory: { percent: 50, max: "256Mi" } }, mode: "live", cooldown: "1h" }));
    const acted = await until(async () => (await actions(env)).find((a) => a.policyName === "oom-live" && a.decision === "acted"), "the live action", 60_000, 200);
    expect(acted.remediation).toMatch(/^rem-[0-9a-f]{16}$/);
    expect(limitOf((await kube(env, "GET", DEPLOYMENT)).json)).toBe("96Mi");
    const rems = await remediations(env);
    expect(rems).toHaveLength(1);
    expect(rems[0]).toMatchObject({ metadata: { name: acted.remediation }, spec: { policy: "default/oom-live", action: "raiseMemory", target: { kind: "Deployment", name: "hungry" } }, status: { phase: "succeeded" } });

    // The new pod runs with the new limit and is not OOM-killed (the simulator's kubelet honours the limit):
    // it stays up for longer than the scenario's 10s (simulated) OOM delay, several times over.
    let since: number | undefined;
    await until(
      async () => {
        const pods = (await kube(env, "GET", "/api/v1/namespaces/default/pods?labelSelector=app%3Dhungry")).json.items as any[];
        const fresh = pods.filter((p) => !p.metadata.deletionTimestamp && p.spec.containers[0].resources?.limits?.memory === "96Mi");
        const ok = fresh.length === 1 && pods.length === 1 && fresh[0].status?.containerStatuses?.[0]?.state?.running && fresh[0].status.containerStatuses[0].restartCount === 0;
        if (!ok) {
          since = undefined;
          return false;
        }
        since ??= Date.now();
        return Date.now() - since > 2500; // 50 s simulated at speed 20
      },
      "the new pod running without OOM kills",
      60_000,
      100,
    );
    // Once: later OOM revisions of the old pod (if any) were skipped by the cooldown, never acted on again.
    const all = (await actions(env)).filter((a) => a.policyName === "oom-live");
    expect(all.filter((a) => a.decision === "acted")).toHaveLength(1);
    expect(all.every((a) => a.decision === "acted" || a.decision === "skipped_cooldown")).toBe(true);
    expect(limitOf((await kube(env, "GET", DEPLOYMENT)).json)).toBe("96Mi");
  });
});
