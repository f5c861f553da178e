// `faro capture` checks the workload before watching anything: a missing workload, an unknown kind, a wrong
// kubeconfig or an unreachable API is one line and exit 1 or 2 at once, not after --for.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { checkWorkload, CommandError, UsageError } from "@faro/cli";
import { startCluster, type Cluster } from "@faro/kube-sim";
import { freePort, until } from "@faro/test-harness";
import { faro, killAll } from "./helpers.js";

let cluster: Cluster;
let tmp: string;
let kubeconfig: string;

beforeAll(async () => {
  cluster = await startCluster({ scenario: "demo", speed: 10, port: 0 });
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), "faro-capture-check-"));
  kubeconfig = path.join(tmp, "kubeconfig");
  cluster.writeKubeconfig(kubeconfig);
});

afterAll(async () => {
  await killAll();
  await cluster?.stop();
  fs.rmSync(tmp, { recursive: true, force: true });
});

describe("faro capture's check of the workload", () => {
  it("passes for a workload that exists (kubectl's kind names)", async () => {
    await until(() => checkWorkload({ kubeconfig, namespace: "shop", target: { kind: "Deployment", name: "payments" } }).then(() => true, () => false), "deployment payments in the simulated cluster");
    await expect(checkWorkload({ kubeconfig, namespace: "shop", target: { kind: "deploy", name: "payments" } })).resolves.toBeUndefined();
  });

  it("names what is missing and how to look: a workload (exit 1), a kind (exit 2), a kubeconfig (exit 2), the API (exit 1)", async () => {
    const nope = checkWorkload({ kubeconfig, namespace: "shop", target: { kind: "Deployment", name: "nope" } });
    await expect(nope).rejects.toThrow(CommandError);
    await expect(nope).rejects.toThrow('deployment "nope" not found in namespace shop — list them with: kubectl get deployments -n shop');
    await expect(checkWorkload({ kubeconfig, namespace: "shop", target: { kind: "frobs", name: "x" } })).rejects.toThrow(UsageError);
    await expect(checkWorkload({ kubeconfig: path.join(tmp, "missing"), namespace: "shop", target: { kind: "Deployment", name: "x" } })).rejects.toThrow(UsageError);
    const closed = path.join(tmp, "closed");
    fs.writeFileSync(closed, fs.readFileSync(kubeconfig, "utf8").replace(/http:\/\/127\.0\.0\.1:\d+/, `http://127.0.0.1:${await freePort()}`));
    await expect(checkWorkload({ kubeconfig: closed, namespace: "shop", target: { kind: "Deployment", name: "x" } })).rejects.toThrow(/^cannot reach the Kubernetes API at http:\/\/127\.0\.0\.1:\d+ .* — check --kubeconfig\/--context$/);
  });

  it("faro capture deploy/nope fails at once with one line and exit 1, not after --for", async () => {
    const started = Date.now();
    const run = faro(["capture", "deploy/nope", "-n", "shop", "--for", "5m", "-o", path.join(tmp, "out.json"), "--kubeconfig", kubeconfig], { env: { FARO_NATS_URL: "nats://127.0.0.1:1" } });
    const { code } = await run.exited;
    expect(code).toBe(1);
    expect(run.stderr().trim().split("\n")).toEqual(['faro capture: deployment "nope" not found in namespace shop — list them with: kubectl get deployments -n shop']);
    expect(run.stdout()).toBe("");
    expect(Date.now() - started).toBeLessThan(60_000);
    expect(fs.existsSync(path.join(tmp, "out.json"))).toBe(false);
  });
});
