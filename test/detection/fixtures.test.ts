// `faro diagnose` on Pod objects people published while they hit a failure (test/fixtures/objects/README.md):
// each is classified as its author describes it; the CLI's input forms, --now, --json and exit codes.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { spawn } from "node:child_process";
import { afterAll, describe, expect, it } from "vitest";
import { main } from "@faro/cli";
import { CLI, ROOT } from "../e2e/helpers.js";

const DIR = path.join(ROOT, "test/fixtures/objects");

/** File → [reason, object, extra expectations] its author describes. */
const EXPECTED: Record<string, { reason: string; object: string; afterTheFact?: boolean; containerType?: string }> = {
  "oom-running-again.json": { reason: "OOMKilled", object: "Pod/cache-0", afterTheFact: true, containerType: "regular" },
  "oom-crashloop.yaml": { reason: "OOMKilled", object: "Pod/app-7c9d8f5b6-lx2pq" },
  "oom-exit1-crashloop.yaml": { reason: "OOMKilled", object: "Pod/adsf-78687dd59f-8w42g" },
  "errimageneverpull.yaml": { reason: "ErrImageNeverPull", object: "Pod/producer-685fcbc569-swc8r" },
  "errimageneverpull-events.yaml": { reason: "ErrImageNeverPull", object: "Pod/error-pages-6d9f7b8c5-k2x7q" },
  "init-imagepullbackoff.yaml": { reason: "ImagePullBackOff", object: "Pod/test", containerType: "init" },
  "errimagepull.json": { reason: "ImagePullBackOff", object: "Pod/nginx211-worker-0" },
  "createcontainererror.json": { reason: "CreateContainerError", object: "Pod/workdir-worker-0" },
  "imagepullbackoff.json": { reason: "ImagePullBackOff", object: "Pod/nginx-notag" },
  "runcontainererror.yaml": { reason: "RunContainerError", object: "Pod/cull-deployment-2746636189-2hxzr" },
  "init-createcontainerconfigerror.yaml": { reason: "CreateContainerConfigError", object: "Pod/sample-mychart-6bfc89db65-j9g9z", containerType: "init" },
  "createcontainerconfigerror.yaml": { reason: "CreateContainerConfigError", object: "Pod/cpt-identity-79dcfc8d79-hxdrl" },
  "unschedulable-memory-pressure.yaml": { reason: "FailedScheduling", object: "Pod/app-0" },
  "unschedulable-node-selector.yaml": { reason: "FailedScheduling", object: "Pod/worker-5d8f9c7b4-zt2qk" },
  "evicted-memory.yaml": { reason: "Evicted", object: "Pod/cosmoshub-0" },
  "evicted-cstor.yaml": { reason: "Evicted", object: "Pod/cstor-pool-7f9c8b6d5-q4w2e" },
  "evicted-ephemeral-storage.yaml": { reason: "Evicted", object: "Pod/postgres-keycloak-6d8858f5b-4khf2" },
  "failedmount-configmap.yaml": { reason: "FailedMount", object: "Pod/besu-node-bootnode-1-0" },
  "failedcreatepodsandbox.yaml": { reason: "FailedCreatePodSandBox", object: "Pod/kafka-0" },
};

interface Finding {
  reason: string;
  object: string;
  afterTheFact: boolean;
  containerType: string;
  time: string;
  evidence: { source: string; reason: string }[];
}

/** `faro diagnose ARGS` in this process (the same code path as the binary, minus the process start). */
async function diag(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(["diagnose", ...args], { out: (l) => out.push(l), err: (l) => err.push(l), signal: new AbortController().signal });
  return { code, stdout: out.map((l) => `${l}\n`).join(""), stderr: err.join("\n") };
}

/** The real binary, with stdin: exit codes as a shell sees them. */
function run(args: string[], stdin?: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const proc = spawn(process.execPath, ["--import", "tsx", CLI, "diagnose", ...args], { cwd: ROOT, stdio: ["pipe", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    proc.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    proc.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    proc.on("exit", (code) => resolve({ code, stdout, stderr }));
    proc.stdin.end(stdin ?? "");
  });
}

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "faro-diagnose-"));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));
function file(name: string, text: string): string {
  const f = path.join(tmp, name);
  fs.writeFileSync(f, text);
  return f;
}

describe("faro diagnose on published objects", () => {
  it("at least 15 fixtures, each listed with its source", () => {
    const files = fs.readdirSync(DIR).filter((f) => /\.(ya?ml|json)$/.test(f));
    const readme = fs.readFileSync(path.join(DIR, "README.md"), "utf8");
    expect(Object.keys(EXPECTED).length).toBeGreaterThanOrEqual(15);
    for (const f of files) expect(readme, f).toMatch(new RegExp(`\\| ${f.replace(/\./g, "\\.")} \\| https://`));
  });

  it("classifies each as its author describes, the recovered OOM kill as observed after the fact", async () => {
    for (const [name, want] of Object.entries(EXPECTED)) {
      const res = await diag([path.join(DIR, name), "--json"]);
      expect(res.stderr, name).toBe("");
      expect(res.code, name).toBe(1);
      const report = JSON.parse(res.stdout) as { findings: Finding[] };
      // Exactly the author's failure: its Events are evidence of it, not findings of their own.
      expect(report.findings.map((f) => [f.object, f.reason]), name).toEqual([[want.object, want.reason]]);
      const f = report.findings[0]!;
      expect(f.evidence.length, `${name} has evidence`).toBeGreaterThan(0);
      if (want.afterTheFact !== undefined) expect(f.afterTheFact, name).toBe(want.afterTheFact);
      if (want.containerType) expect(f.containerType, name).toBe(want.containerType);
      if (name === "oom-running-again.json") expect(f.time).toBe("2020-11-12T16:21:10Z");
      if (name === "failedmount-configmap.yaml") expect(f.evidence.filter((e) => e.source === "event" && e.reason === "FailedMount").length).toBe(2);
    }
    // All files at once: one report with the same findings (the pods Pending since long before the newest
    // time in the input are Pending for the reason each already names, not "stuck" on top of it).
    const all = await diag([...Object.keys(EXPECTED).map((f) => path.join(DIR, f)), "--json"]);
    const found = (JSON.parse(all.stdout) as { findings: Finding[] }).findings.map((f) => `${f.object} ${f.reason}`).sort();
    expect(found).toEqual(Object.values(EXPECTED).map((w) => `${w.object} ${w.reason}`).sort());
  });

  it("exit 0 on a healthy object, 2 on bad input, a table by default", { timeout: 30_000 }, async () => {
    const healthy = await diag([path.join(DIR, "healthy-busybox.yaml")]);
    expect(healthy.code).toBe(0);
    expect(healthy.stdout).toMatch(/^healthy: no failure/);
    const table = await diag([path.join(DIR, "oom-crashloop.yaml"), "--evidence"]);
    expect(table.code).toBe(1);
    expect(table.stdout).toMatch(/^SEVERITY\s+KIND\s+OBJECT/);
    expect(table.stdout).toMatch(/HIGH\s+OOMKilled\s+default\/Pod\/app-7c9d8f5b6-lx2pq/);
    expect(table.stdout).toMatch(/status status\.containerStatuses\[app\]\.lastState\.terminated OOMKilled/);
    const bad = await diag([file("bad.json", "{ not json")]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/bad\.json: input ends inside a JSON value/);
    const notK8s = await diag([file("hello.json", '{"hello": 1}')]);
    expect(notK8s.code).toBe(2);
    expect(notK8s.stderr).toMatch(/not a Kubernetes object/);
    const yaml = await diag([file("bad.yaml", "a: [1, 2\n")]);
    expect(yaml.code).toBe(2);
    const missing = await diag([path.join(tmp, "no-such-file.yaml")]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/cannot read: ENOENT/);
  });

  it("first sight of a node under pressure and an exhausted Job: reported after the fact, the node with its pods", async () => {
    const t = "2026-03-01T10:00:00Z";
    const node = { apiVersion: "v1", kind: "Node", metadata: { name: "n2", uid: "n2" }, status: { conditions: [{ type: "Ready", status: "True", lastTransitionTime: t }, { type: "DiskPressure", status: "True", reason: "KubeletHasDiskPressure", message: "kubelet has disk pressure", lastTransitionTime: t }] } };
    const pod = (name: string, nodeName: string) => ({ apiVersion: "v1", kind: "Pod", metadata: { name, namespace: "shop", uid: `u-${name}`, creationTimestamp: t }, spec: { nodeName }, status: { phase: "Running", containerStatuses: [{ name: "app", restartCount: 0, state: { running: { startedAt: t } } }] } });
    const job = { apiVersion: "batch/v1", kind: "Job", metadata: { name: "report-29000", namespace: "shop", uid: "j1", ownerReferences: [{ apiVersion: "batch/v1", kind: "CronJob", name: "report", uid: "cj1", controller: true }] }, status: { failed: 7, conditions: [{ type: "Failed", status: "True", reason: "BackoffLimitExceeded", message: "Job has reached the specified backoff limit", lastTransitionTime: "2026-03-01T09:58:00Z" }] } };
    const f = file("cluster.json", JSON.stringify({ apiVersion: "v1", kind: "List", items: [node, pod("a", "n2"), pod("b", "n1"), pod("c", "n2"), job] }));
    const res = await diag([f, "--json"]);
    expect(res.code).toBe(1);
    const findings = (JSON.parse(res.stdout) as { findings: (Finding & { affectedPods: { name: string; namespace: string }[]; message: string })[] }).findings;
    // Same severity: the cluster-scoped node first, then by namespace.
    expect(findings.map((x) => [x.reason, x.object, x.afterTheFact, x.time])).toEqual([
      ["NodeDiskPressure", "Node/n2", true, t],
      ["BackoffLimitExceeded", "Job/report-29000", true, "2026-03-01T09:58:00Z"],
    ]);
    expect(findings[0]!.affectedPods.map((p) => `${p.namespace}/${p.name}`)).toEqual(["shop/a", "shop/c"]);
    expect(findings[1]!.message).toMatch(/7 failed pods/);
  });

  it("a `kubectl get -w -o json` stream on stdin: versions are changes, --now drives the stuck check", { timeout: 30_000 }, async () => {
    const pod = (rv: string, status: object) => ({
      type: rv === "1" ? "ADDED" : "MODIFIED",
      object: { apiVersion: "v1", kind: "Pod", metadata: { name: "web-1", namespace: "shop", uid: "u-web-1", resourceVersion: rv, creationTimestamp: "2026-01-01T00:00:00Z" }, spec: { nodeName: "n1", containers: [{ name: "app", image: "web:1" }] }, status },
    });
    const running = { phase: "Running", containerStatuses: [{ name: "app", restartCount: 0, state: { running: { startedAt: "2026-01-01T00:00:02Z" } } }] };
    const crashed = { phase: "Running", containerStatuses: [{ name: "app", restartCount: 1, state: { waiting: { reason: "CrashLoopBackOff" } }, lastState: { terminated: { exitCode: 2, reason: "Error", finishedAt: "2026-01-01T00:00:30Z" } } }] };
    // Pretty-printed values back to back, as kubectl prints them.
    const stream = [pod("1", running), pod("2", crashed)].map((v) => JSON.stringify(v, null, 2)).join("\n");
    // The real binary reading stdin.
    const res = await run(["-", "--json"], stream);
    expect(res.stderr).toBe("");
    expect(res.code).toBe(1);
    const report = JSON.parse(res.stdout) as { now: string; findings: Finding[] };
    expect(report.findings.map((f) => [f.reason, f.afterTheFact, f.time])).toEqual([["CrashLoopBackOff", false, "2026-01-01T00:00:30Z"]]);
    expect(report.now).toBe("2026-01-01T00:00:30.000Z");
    // A pod Pending since 00:00: stuck only when --now is late enough.
    const pending = JSON.stringify({ apiVersion: "v1", kind: "Pod", metadata: { name: "p", namespace: "shop", uid: "u-p", creationTimestamp: "2026-01-01T00:00:00Z" }, spec: {}, status: { phase: "Pending" } });
    const p = file("pending.json", pending);
    expect((await diag([p, "--now", "2026-01-01T00:05:00Z"])).code).toBe(0);
    const late = await diag([p, "--now", "2026-01-01T00:30:00Z", "--json"]);
    expect(late.code).toBe(1);
    expect((JSON.parse(late.stdout) as { findings: Finding[] }).findings.map((f) => f.reason)).toEqual(["StuckPending"]);
    expect((await diag([p, "--now", "yesterday"])).code).toBe(2);
    // A List of several kinds, and multi-document YAML, are read whole.
    const list = file("list.json", JSON.stringify({ apiVersion: "v1", kind: "PodList", items: [JSON.parse(pending)] }));
    expect((JSON.parse((await diag([list, "--json", "--now", "2026-01-01T00:30:00Z"])).stdout) as { objects: Record<string, number> }).objects).toEqual({ Pod: 1 });
  });
});
