// End to end: the `security` scenario (Trivy Operator and Kyverno reports, a Kyverno Event) and Falco alerts posted
// to the ingester run through the whole pipeline: every finding lands as a `security` entry in the story of the
// workload it concerns, and each finding at or above the threshold (default high) raises exactly one SecurityFinding
// incident — repeats of a Falco rule on one pod are debounced into it.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connect } from "@nats-io/transport-node";
import { readStoryFiles, startSession, type Session } from "@faro/cli";
import { decodeIncidentContext, decodeStoryEntry, type IncidentContext, type StoryEntry } from "@faro/contracts";
import { startCluster, type Cluster } from "@faro/kube-sim";
import { startNats, startRedis, until, type ManagedServer } from "@faro/test-harness";

const TOKEN = "e2e-security-token";
const FIXTURES = path.join(import.meta.dirname, "..", "..", "services", "ingester", "test", "fixtures");

let nats: ManagedServer;
let redis: ManagedServer;
let cluster: Cluster;
let dir: string;

beforeAll(async () => {
  [nats, redis, cluster] = await Promise.all([startNats(), startRedis(), startCluster({ speed: 20, scenario: "security" })]);
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "faro-security-"));
  cluster.writeKubeconfig(path.join(dir, "kubeconfig"));
});

afterAll(async () => {
  await cluster?.stop();
  await Promise.all([nats?.stop(), redis?.stop()]);
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

/** The active pod of a deployment in the simulated cluster. */
function podOf(workload: string): string {
  const pods = cluster.store.list(cluster.store.typeFor("", "pods")!, "default");
  const pod = pods.find((p) => p.metadata.name.startsWith(`${workload}-`) && !p.metadata.deletionTimestamp);
  if (!pod) throw new Error(`no pod of ${workload}`);
  return pod.metadata.name;
}

/** A real Falco alert (fixtures README) re-aimed at a pod of the scenario. */
function falcoAlert(file: string, pod: string, changes: Record<string, unknown>, fields: Record<string, unknown> = {}): string {
  const a = JSON.parse(fs.readFileSync(path.join(FIXTURES, file), "utf8")) as { output_fields: Record<string, unknown> } & Record<string, unknown>;
  return JSON.stringify({ ...a, ...changes, output_fields: { ...a.output_fields, ...fields, "k8s.ns.name": "default", "k8s.pod.name": pod, "container.name": "app" } });
}

describe("security findings through the pipeline", () => {
  it("attaches every finding to its workload's story and raises one SecurityFinding incident per finding above the threshold", { timeout: 120_000 }, async () => {
    let session: Session | undefined;
    const entries: StoryEntry[] = [];
    const incidents: IncidentContext[] = [];
    // Subscribed before the run starts (this NATS serves this test alone): the reports appear within a second.
    const nc = await connect({ servers: nats.url });
    const storySub = nc.subscribe("faro.v1.story.>");
    const incidentSub = nc.subscribe("faro.v1.incident.>");
    void (async () => {
      for await (const m of storySub) entries.push(decodeStoryEntry(m.data));
    })();
    void (async () => {
      for await (const m of incidentSub) incidents.push(decodeIncidentContext(m.data));
    })();
    await nc.flush();
    try {
      session = await startSession({
        tokenPrefix: "sec",
        kubeconfig: path.join(dir, "kubeconfig"),
        dir: path.join(dir, "stories"),
        namespaces: ["default"],
        logLevel: "warn",
        env: { FARO_NATS_URL: nats.url, FARO_REDIS_URL: redis.url, FARO_AUTH_TOKEN: TOKEN, FARO_LISTEN_HOST: "127.0.0.1", FARO_LISTEN_PORT: "0" },
      });
      const s = session;

      const ingester = s.pipeline.get("ingester")!.instance as unknown as { url(): string | undefined };
      const url = ingester.url();
      expect(url).toBeDefined();
      const post = async (endpoint: string, body: string) =>
        (await fetch(`${url}${endpoint}`, { method: "POST", headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" }, body })).status;
      await until(() => {
        try {
          return podOf("web") !== "" && podOf("api") !== "";
        } catch {
          return false;
        }
      }, "pods of web and api");
      const now = Date.now();
      // A Critical alert on web's pod, twice within the debounce window (one incident), and a Notice on api's pod.
      const web = podOf("web");
      expect(await post("/v1/falco", falcoAlert("falco-terminal-shell-k8s.json", web, { priority: "Critical", rule: "Drop and execute new binary in container", output: "Critical Executing binary not part of base image (proc_exe=/tmp/kworker)", time: new Date(now).toISOString() }))).toBe(202);
      expect(await post("/v1/falco", falcoAlert("falco-terminal-shell-k8s.json", web, { priority: "Critical", rule: "Drop and execute new binary in container", output: "Critical Executing binary not part of base image (proc_exe=/tmp/kworker2)", time: new Date(now + 1000).toISOString() }))).toBe(202);
      expect(await post("/v1/falcosidekick", falcoAlert(
            "falcosidekick-webhook.json",
            podOf("api"),
            { priority: "Notice", rule: "Terminal shell in container", time: new Date(now).toISOString(), output: "Notice A shell was spawned (cmdline=sh -c export AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE)" },
            { "proc.cmdline": 'curl -H "Authorization: Bearer s3cr3tT0kenValue42" http://billing' },
          ))).toBe(202);

      const security = () => entries.filter((e): e is StoryEntry<"security"> => e.entryKind === "security");
      // web: 4 vulnerabilities + 2 failed checks + 2 Falco alerts; api: 1 secret + 2 failed policy results + 1 Kyverno Event + 1 Falco alert.
      await until(() => security().length >= 13, "13 security entries", 60_000).catch((err: unknown) => {
        const kinds = entries.map((e) => `${e.workload.kind}/${e.workload.name} ${e.entryKind}${e.entryKind === "security" ? ` ${e.security.rule}` : e.entryKind === "change" ? ` ${e.change.kind}` : e.entryKind === "event" ? ` ${e.event.reason}` : ""}`);
        throw new Error(`${(err as Error).message}; got:\n${[...new Set(kinds)].join("\n")}`);
      });
      const fresh = () => incidents.filter((i) => i.reason === "SecurityFinding" && !i.isUpdate);
      await until(() => fresh().length >= 6, "6 SecurityFinding incidents", 30_000);

      const byWorkload = (name: string) => security().filter((e) => e.workload.kind === "Deployment" && e.workload.name === name);
      const rules = (name: string) => byWorkload(name).map((e) => `${e.security.source}:${e.security.rule}`).sort();
      expect(rules("web")).toEqual(
        [
          "trivy:CVE-2023-38545",
          "trivy:CVE-2023-45853",
          "trivy:CVE-2023-0464",
          "trivy:CVE-2011-3374",
          "trivy:KSV014",
          "trivy:KSV003",
          "falco:Drop and execute new binary in container",
          "falco:Drop and execute new binary in container",
        ].sort(),
      );
      expect(rules("api")).toEqual(
        [
          "trivy:aws-access-key-id",
          "kyverno:disallow-privileged-containers/privileged-containers",
          "kyverno:require-labels/check-team",
          "kyverno:disallow-privileged-containers/privileged-containers",
          "falco:Terminal shell in container",
        ].sort(),
      );
      expect(security()).toHaveLength(13);
      // A Falco alert is told once, as its finding; a Kyverno Event is a real Event and is told as one too.
      expect(entries.filter((e) => e.entryKind === "event" && e.event.source === "falco")).toEqual([]);
      expect(entries.some((e) => e.entryKind === "event" && e.event.reason === "PolicyViolation")).toBe(true);
      const cve = byWorkload("web").find((e) => e.security.rule === "CVE-2023-38545")!;
      expect(cve.security).toMatchObject({ severity: "critical", sourceSeverity: "CRITICAL", container: "app", subject: { kind: "ReplicaSet" } });
      expect(JSON.parse(cve.security.evidenceJson)).toMatchObject({ fixedVersion: "7.74.0-1.3+deb11u10", image: "library/nginx:1.23.3" });
      const falco = byWorkload("web").find((e) => e.security.source === "falco")!;
      expect(falco.security).toMatchObject({ severity: "critical", sourceSeverity: "Critical", container: "app", subject: { kind: "Pod", name: web } });
      // The alert went through the filter's redaction like every Event: no secret in the entry, the masks instead.
      const shell = byWorkload("api").find((e) => e.security.source === "falco")!;
      const told = JSON.stringify(shell);
      expect(told).not.toMatch(/AKIAIOSFODNN7EXAMPLE|s3cr3tT0kenValue42/);
      expect(shell.security.title).toMatch(/\[REDACTED:aws-access-key-id\]/);
      expect(JSON.parse(shell.security.evidenceJson).outputFields["proc.cmdline"]).toMatch(/\[REDACTED/);

      // One incident per finding at or above high that may raise: the CRITICAL CVE with a fix, the HIGH CVE with a fix,
      // the HIGH failed check, the exposed secret, the enforced policy failure, and the debounced Falco Critical rule.
      // Drained (every consumer caught up, the writer flushed): a late duplicate incident would be here by now.
      expect(await s.finish({ drainTimeoutMs: 60_000 })).toBe(0);
      session = undefined;
      await nc.flush();
      const raised = fresh().map((i) => `${i.severity} ${i.message.split(":")[0]}`).sort();
      expect(raised).toEqual(
        [
          "critical trivy CVE-2023-38545",
          "high trivy CVE-2023-0464",
          "high trivy KSV014",
          "critical trivy aws-access-key-id",
          "high kyverno disallow-privileged-containers/privileged-containers",
          "critical falco Drop and execute new binary in container",
        ].sort(),
      );
      for (const i of fresh()) {
        const story = security().find((e) => e.storyId === i.storyId);
        expect(story, `incident ${i.message} in a story with its findings`).toBeDefined();
      }
      // The story tells each incident too.
      expect(entries.filter((e) => e.entryKind === "incident" && e.incident.reason === "SecurityFinding" && !e.incident.isUpdate)).toHaveLength(6);

      const files = readStoryFiles(path.join(dir, "stories"));
      const webFile = files.find((f) => f.story.workload.name === "web" && f.story.timeline.some((t) => t.kind === "security"));
      expect(webFile, "web's story file tells its findings").toBeDefined();
      expect(webFile!.errors).toEqual([]);
      const inFile = webFile!.story.timeline.filter((t) => t.kind === "security").map((t) => t.data["rule"]);
      expect(inFile).toEqual(expect.arrayContaining(["CVE-2023-38545", "KSV014"]));
    } finally {
      await session?.abort("test failed");
      await nc.close();
    }
  });
});
