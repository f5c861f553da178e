// The Helm chart runs `faro mcp` as a Deployment behind a Service when mcp.enabled: read-only mounts of the
// writer's story files and the tokens Secret, probes on /healthz, and a generated config that `faro mcp` starts
// with. Needs the `helm` binary (as test/deploy/helm.test.ts); skipped without it, and says so.
import { execFile, execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";
import { parseAllDocuments } from "yaml";
import { faro, until } from "../e2e/helpers.js";

const run = promisify(execFile);
const root = path.resolve(import.meta.dirname, "../..");
const chart = path.join(root, "deploy", "helm", "faro");

function findHelm(): string | undefined {
  for (const c of [process.env.FARO_HELM_BIN, path.join(os.homedir(), "go", "bin", "helm")]) if (c && fs.existsSync(c)) return c;
  try {
    return execFileSync("sh", ["-c", "command -v helm"], { encoding: "utf8" }).trim() || undefined;
  } catch {
    return undefined;
  }
}
const helm = findHelm();
if (!helm) console.warn("SKIPPED helm mcp tests: no helm binary (go install helm.sh/helm/v3/cmd/helm@v3.16.4)");

type Doc = { kind: string; metadata: { name: string }; data?: Record<string, string>; spec?: Record<string, any> };
const render = async (...sets: string[]): Promise<Doc[]> => {
  const { stdout } = await run(helm!, ["template", "faro", chart, "--namespace", "faro", ...sets.flatMap((s) => ["--set", s])], { timeout: 60_000 });
  return parseAllDocuments(stdout).map((d) => d.toJS() as Doc).filter((d) => d && d.kind);
};

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "faro-mcp-helm-"));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

describe.skipIf(!helm)("helm chart: faro mcp", () => {
  it("renders nothing for mcp by default, and refuses mcp without story files or tokens", async () => {
    expect((await render()).filter((d) => d.metadata.name === "faro-mcp")).toEqual([]);
    await expect(render("mcp.enabled=true")).rejects.toThrow(/needs the writer's story files/);
    await expect(render("mcp.enabled=true", "services.writer.persistence.enabled=true")).rejects.toThrow(/needs mcp.tokensSecret/);
  });

  it("runs faro mcp as a Deployment behind a Service with a config the command starts with", async () => {
    const docs = (await render("mcp.enabled=true", "services.writer.persistence.enabled=true", "mcp.tokensSecret=faro-mcp-tokens", "mcp.config.limits.ratePerMinute=600")).filter(
      (d) => d.metadata.name === "faro-mcp",
    );
    // Like every service: a PodDisruptionBudget and a NetworkPolicy too (test/deploy/helm.test.ts).
    expect(docs.map((d) => d.kind).sort()).toEqual(["ConfigMap", "Deployment", "NetworkPolicy", "PodDisruptionBudget", "Service"]);
    const dep = docs.find((d) => d.kind === "Deployment")!.spec!;
    const pod = dep.template.spec;
    const c = pod.containers[0];
    expect(c.args).toEqual(["mcp", "--config", "/etc/faro/mcp.yaml"]);
    expect(c.readinessProbe.httpGet.path).toBe("/healthz");
    expect(c.securityContext.readOnlyRootFilesystem).toBe(true);
    expect(c.volumeMounts.filter((m: { readOnly?: boolean }) => m.readOnly).map((m: { name: string }) => m.name).sort()).toEqual(["config", "stories", "tokens"]);
    expect(pod.volumes.find((v: { name: string }) => v.name === "stories").persistentVolumeClaim).toEqual({ claimName: "faro-writer", readOnly: true });
    expect(pod.volumes.find((v: { name: string }) => v.name === "tokens").secret.secretName).toBe("faro-mcp-tokens");
    expect(pod.automountServiceAccountToken).toBe(false);
    expect(pod.affinity.podAffinity.requiredDuringSchedulingIgnoredDuringExecution[0].labelSelector.matchLabels["app.kubernetes.io/component"]).toBe("writer");
    expect(docs.find((d) => d.kind === "Service")!.spec!.ports[0]).toMatchObject({ port: 8790, targetPort: "http" });

    // The generated config, as the container reads it (paths that exist only in the pod replaced by flags).
    const config = path.join(tmp, "mcp.yaml");
    fs.writeFileSync(config, docs.find((d) => d.kind === "ConfigMap")!.data!["mcp.yaml"]!);
    expect(fs.readFileSync(config, "utf8")).toMatch(/transport: http/);
    const tokens = path.join(tmp, "tokens.yaml");
    fs.writeFileSync(tokens, 'tokens:\n  - { name: ops, token: ops-token-0123456789, tenants: ["*"] }\n');
    const child = faro(["mcp", "--config", config, "--auth.tokensFile", tokens, "--dir", tmp, "--listen.port", "0", "--listen.host", "127.0.0.1", "--nats.url", "nats://127.0.0.1:1"], {});
    try {
      const url = await until("faro mcp listening", () => /listening on (http:\S+)/.exec(child.output())?.[1] ?? (child.proc.exitCode !== null ? `exited: ${child.output()}` : undefined), 20_000);
      expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/mcp$/);
      expect((await fetch(url.replace(/\/mcp$/, "/healthz"))).status).toBe(200);
      const metrics = await (await fetch(url.replace(/\/mcp$/, "/metrics"))).text();
      expect(metrics).toMatch(/faro_queue_capacity\{[^}]*queue="mcp_rate_per_minute"[^}]*\} 600/);
    } finally {
      child.proc.kill("SIGTERM");
      expect(await child.exited).toBe(0);
    }
  });
});
