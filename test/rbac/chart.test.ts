// The watcher and log-streamer run with a service-account kubeconfig bound to the Helm chart's own
// ClusterRole (rendered from deploy/helm/faro) and hit no 403 while they publish changes and log lines.
import { execFile, execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { randomBytes } from "node:crypto";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseAllDocuments } from "yaml";
import { jetstreamManager } from "@nats-io/jetstream";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { startCluster, type Cluster } from "@faro/kube-sim";
import { startNats, startRedis, type ManagedServer } from "@faro/test-harness";
import { faro, ROOT, until, type Child } from "../e2e/helpers.js";

const run = promisify(execFile);

/** helm as test/deploy/helm.test.ts finds it (FARO_HELM_BIN, ~/go/bin, $GOPATH/bin, PATH). */
function findHelm(): string | undefined {
  const candidates = [process.env.FARO_HELM_BIN, path.join(os.homedir(), "go", "bin", "helm")];
  try {
    candidates.push(path.join(execFileSync("go", ["env", "GOPATH"], { encoding: "utf8" }).trim(), "bin", "helm"));
  } catch {
    // no Go toolchain: PATH below
  }
  for (const c of candidates) if (c && fs.existsSync(c)) return c;
  try {
    return execFileSync("sh", ["-c", "command -v helm"], { encoding: "utf8" }).trim() || undefined;
  } catch {
    return undefined;
  }
}

const helm = findHelm();
if (!helm) console.warn("SKIPPED chart RBAC test: no helm binary (go install helm.sh/helm/v3/cmd/helm@v3.16.4)");

describe.skipIf(!helm)("services under the chart's ClusterRole", () => {
  let nats: ManagedServer;
  let redis: ManagedServer;
  let cluster: Cluster;
  let nc: NatsConnection;
  let dir: string;
  const children: Child[] = [];
  const CLUSTER = `rbac-${randomBytes(3).toString("hex")}`;

  beforeAll(async () => {
    const chart = path.join(ROOT, "deploy/helm/faro");
    const { stdout } = await run(helm!, ["template", "faro", chart, "--namespace", "faro", "--show-only", "templates/rbac.yaml"], { timeout: 60_000 });
    // The watcher runs with the resource set the chart configures it with (the ClusterRole is generated from it).
    const rendered = await run(helm!, ["template", "faro", chart, "--namespace", "faro", "--show-only", "templates/services.yaml"], { timeout: 60_000 });
    const watcherConfig = parseAllDocuments(rendered.stdout)
      .map((d) => d.toJS() as { kind?: string; data?: Record<string, string> } | null)
      .find((o) => o?.kind === "ConfigMap" && o.data?.["watcher.yaml"]);
    const resources = (parseAllDocuments(watcherConfig!.data!["watcher.yaml"]!)[0]!.toJS() as { resources?: string[] }).resources;
    expect(resources?.length).toBeGreaterThan(0);
    [nats, redis] = await Promise.all([startNats(), startRedis()]);
    cluster = await startCluster({ speed: 20 });
    const ns = cluster.store.typeFor("", "namespaces")!;
    cluster.store.create(ns, { apiVersion: "v1", kind: "Namespace", metadata: { name: "faro" } });
    let sa = "";
    for (const doc of parseAllDocuments(stdout)) {
      const obj = doc.toJS() as { apiVersion: string; kind: string; metadata: { name: string; namespace?: string } } | null;
      if (!obj) continue;
      const [group, version] = obj.apiVersion.includes("/") ? obj.apiVersion.split("/") : ["", obj.apiVersion];
      const type = cluster.store.types().find((t) => t.group === group && t.version === version && t.kind === obj.kind)!;
      if (type.namespaced) obj.metadata.namespace ??= "faro";
      cluster.store.create(type, obj as never);
      if (obj.kind === "ServiceAccount") sa = obj.metadata.name;
    }
    expect(sa).not.toBe("");
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "faro-rbac-chart-"));
    const kubeconfig = path.join(dir, "kubeconfig");
    fs.writeFileSync(kubeconfig, cluster.serviceAccountKubeconfig("faro", sa));
    nc = await connect({ servers: nats.url });
    const env = {
      FARO_NATS_URL: nats.url,
      FARO_REDIS_URL: redis.url,
      FARO_CLUSTER: CLUSTER,
      FARO_KUBE_KUBECONFIG: kubeconfig,
      FARO_HTTP_PORT: "0",
      FARO_LOG_LEVEL: "warn",
      FARO_LOG_PRETTY: "false",
    };
    children.push(faro(["run", "watcher"], { ...env, FARO_RESOURCES: resources!.join(",") }));
    children.push(faro(["run", "log-streamer"], env));
    cluster.runScenario("crashloop");
  }, 90_000);

  afterAll(async () => {
    for (const c of children) c.proc.kill("SIGTERM");
    await Promise.all(children.map((c) => c.exited));
    await nc?.close();
    await cluster?.stop();
    await Promise.all([nats?.stop(), redis?.stop()]);
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  }, 60_000);

  it("publishes object changes, Events and log lines with no request denied", async () => {
    const jsm = await jetstreamManager(nc);
    const subjects = await until(
      "changes, events and log lines on FARO_RAW",
      async () => {
        for (const c of children) if (c.proc.exitCode !== null) throw new Error(`a service exited early:\n${c.output()}`);
        try {
          const info = await jsm.streams.info("FARO_RAW", { subjects_filter: `faro.v1.raw.${CLUSTER}.>` });
          const s = Object.keys(info.state.subjects ?? {});
          const has = (kind: string) => s.some((x) => x.split(".")[5] === kind);
          return has("obj") && has("event") && has("log") ? s : undefined;
        } catch (err) {
          if (/not found/i.test((err as Error).message)) return undefined;
          throw err;
        }
      },
      60_000,
      200,
    );
    expect(subjects.some((s) => s.includes(".obj.pods."))).toBe(true);
    expect(cluster.server.denials().map((d) => d.message)).toEqual([]);
    for (const c of children) expect(c.output()).not.toMatch(/forbidden|403/i);
  });
});
