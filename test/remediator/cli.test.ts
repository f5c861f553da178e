// The remediator as a process (`faro run remediator`): opt-in (exit 2 naming `enabled` unless it is true), and
// when enabled it serves the service contract and drains on SIGTERM with exit 0.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startCluster, type Cluster } from "@faro/kube-sim";
import { checkServiceContract } from "@faro/observability";
import { startNats, until, type ManagedServer } from "@faro/test-harness";
import { faro } from "../e2e/helpers.js";

let nats: ManagedServer;
let cluster: Cluster;
let dir: string;

beforeAll(async () => {
  [nats, cluster] = await Promise.all([startNats(), startCluster({ speed: 20 })]);
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "faro-rem-cli-"));
  cluster.writeKubeconfig(path.join(dir, "kubeconfig"));
});

afterAll(async () => {
  await cluster?.stop();
  await nats?.stop();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

describe("faro run remediator", () => {
  it("refuses to start unless enabled, naming the field", { timeout: 60_000 }, async () => {
    const p = faro(["run", "remediator"], { FARO_NATS_URL: nats.url });
    expect(await p.exited).toBe(2);
    expect(p.output()).toMatch(/enabled: the remediator changes live objects and is opt-in/);
    const bad = faro(["run", "remediator"], { FARO_NATS_URL: nats.url, FARO_ENABLED: "true", FARO_CONSUMER_CONCURRENCY: "0" });
    expect(await bad.exited).toBe(2);
    expect(bad.output()).toMatch(/consumer\.concurrency/);
  });

  it("serves the contract when enabled and drains on SIGTERM with exit 0", { timeout: 60_000 }, async () => {
    const env = { FARO_ENABLED: "true", FARO_NATS_URL: nats.url, FARO_CLUSTER: "rem-cli", FARO_KUBE_KUBECONFIG: path.join(dir, "kubeconfig"), FARO_HTTP_PORT: "0", FARO_HTTP_HOST: "127.0.0.1", FARO_LOG_LEVEL: "info", FARO_LOG_PRETTY: "false" };
    const p = faro(["run", "remediator"], env);
    try {
      const url = await until(() => /"url":"(http:\/\/127\.0\.0\.1:\d+)"/.exec(p.output())?.[1], "the health endpoint's url", 30_000);
      await until(async () => (await fetch(`${url}/readyz`)).status === 200, "ready", 30_000);
      const report = await checkServiceContract(url, { expectReady: true });
      expect(report.metrics).toMatch(/faro_service_info\{[^}]*service="remediator"/);
      expect(report.metrics).toMatch(/faro_remediator_policies\{[^}]*state="active"[^}]*\} 0/);
      p.proc.kill("SIGTERM");
      expect(await p.exited).toBe(0);
      expect(p.output()).toMatch(/lifecycle: draining/);
    } finally {
      if (p.proc.exitCode === null) p.proc.kill("SIGKILL");
    }
  });
});
