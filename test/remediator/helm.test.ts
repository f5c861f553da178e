// The chart renders the remediator — its CRDs, its own ServiceAccount and ClusterRole with only the write verbs of
// the enabled actions, and its Deployment — only with remediator.enabled=true, and lints either way. Needs the
// `helm` binary (skipped, and says so, without it).
import { execFile, execFileSync } from "node:child_process";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { parseAllDocuments } from "yaml";

const run = promisify(execFile);
const chart = path.resolve(import.meta.dirname, "../../deploy/helm/faro");

function findHelm(): string | undefined {
  if (process.env.FARO_HELM_BIN) return process.env.FARO_HELM_BIN;
  try {
    return execFileSync("sh", ["-c", `command -v helm || ls ${path.join(os.homedir(), "go", "bin", "helm")}`], { encoding: "utf8" }).trim().split("\n")[0] || undefined;
  } catch {
    return undefined; // no helm on PATH nor in ~/go/bin: the tests below are skipped and say so
  }
}
const helm = findHelm();
if (!helm) console.warn("SKIPPED remediator chart tests: no helm binary");

async function render(...set: string[]): Promise<any[]> {
  const { stdout } = await run(helm!, ["template", "t", chart, ...set.flatMap((s) => ["--set", s])], { maxBuffer: 32 * 1024 * 1024 });
  return parseAllDocuments(stdout).map((d) => d.toJSON()).filter(Boolean);
}

describe.skipIf(!helm)("the chart's remediator", () => {
  it("renders nothing of the remediator by default", { timeout: 60_000 }, async () => {
    const docs = await render();
    expect(docs.filter((d) => JSON.stringify(d).includes("remediator") || d.kind === "CustomResourceDefinition")).toEqual([]);
  });

  it("renders CRDs, its own RBAC with only the enabled actions' write verbs, and its Deployment when enabled; lints", { timeout: 60_000 }, async () => {
    const docs = await render("remediator.enabled=true", "remediator.actions={rollback}");
    expect(docs.filter((d) => d.kind === "CustomResourceDefinition").map((d) => d.metadata.name).sort()).toEqual(["autoremediationpolicies.faro.dev", "remediations.faro.dev"]);
    const role = docs.find((d) => d.kind === "ClusterRole" && d.metadata.name === "t-faro-remediator");
    const writes = role.rules.flatMap((r: any) => r.verbs.filter((v: string) => !["get", "list", "watch"].includes(v)).map((v: string) => `${r.resources.join(",")}:${v}`));
    expect(writes.sort()).toEqual(["deployments:update", "remediations:create", "remediations:update"]);
    const restartOnly = (await render("remediator.enabled=true", "remediator.actions={restartPod}")).find((d) => d.kind === "ClusterRole" && d.metadata.name === "t-faro-remediator");
    expect(restartOnly.rules.some((r: any) => r.resources.includes("deployments") && r.verbs.includes("update"))).toBe(false);
    expect(restartOnly.rules.some((r: any) => r.resources.includes("pods") && r.verbs.includes("delete"))).toBe(true);
    const dep = docs.find((d) => d.kind === "Deployment" && d.metadata.name === "t-faro-remediator");
    expect(dep.spec.template.spec.serviceAccountName).toBe("t-faro-remediator");
    expect(dep.spec.template.spec.containers[0].args).toEqual(["run", "remediator", "--config", "/etc/faro/remediator.yaml"]);
    // The shared read-only ClusterRole gains no write verb.
    const read = docs.find((d) => d.kind === "ClusterRole" && d.metadata.name === "t-faro-read");
    expect(read.rules.flatMap((r: any) => r.verbs).every((v: string) => ["get", "list", "watch"].includes(v))).toBe(true);
    const lint = await run(helm!, ["lint", chart, "--set", "remediator.enabled=true"]);
    expect(lint.stdout).toMatch(/0 chart\(s\) failed/);
  });
});
