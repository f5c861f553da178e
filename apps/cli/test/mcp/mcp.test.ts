// `faro mcp` driven by the MCP SDK's own client over stdio and Streamable HTTP, against what the demo's pipeline
// wrote (story files) and published (FARO_INCIDENT, NATS kept alive): the payments CrashLoopBackOff with its last
// log line, the logs of the cart pod deleted at 90s, tenant scoping by token, and refused oversized requests.
import { spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import { buildIncidentSubject, buildInsightSubject, decodeIncidentContext, encodeIncidentContext, encodeInsight, FARO_INCIDENT, FARO_INSIGHT, incidentFilter, type StoryFile } from "@faro/contracts";
import { startNats, startRedis, until, type ManagedServer } from "@faro/test-harness";
import { Writable } from "node:stream";
import { InMemoryTransport } from "@modelcontextprotocol/sdk/inMemory.js";
import { loadConfig } from "@faro/config";
import { createLogger } from "@faro/observability";
import { commands } from "../../src/commands/index.js";
import { createServer, mcpConfigSchema, openRuntime, principalOf } from "../../src/mcp/index.js";

const CLI = path.resolve(import.meta.dirname, "../../src/main.ts");
const ROOT = path.resolve(import.meta.dirname, "../../../..");
const PANIC = "panic: runtime error: invalid memory address or nil pointer dereference";
const TOKENS = { admin: "admin-token-0123456789abcdef", shop: "shop-token-0123456789abcdef", teamB: "teamb-token-0123456789abcdef" };

let nats: ManagedServer;
let redis: ManagedServer;
let nc: NatsConnection;
let tmp: string;
let dir: string;
let cluster: string;
let payments: StoryFile;
let cart: StoryFile;
let teamBStoryId: string;
let teamBIncidentId: string;
const children: ChildProcess[] = [];

type ToolResult = { isError?: boolean; content: { type: string; text?: string }[]; structuredContent?: Record<string, unknown> };
const call = async (c: Client, name: string, args: Record<string, unknown> = {}) => (await c.callTool({ name, arguments: args })) as ToolResult;
const data = <T = Record<string, unknown>>(r: ToolResult): T => {
  expect(r.isError, r.content.map((x) => x.text).join("\n")).toBeFalsy();
  return r.structuredContent as T;
};
const errorText = (r: ToolResult) => {
  expect(r.isError).toBe(true);
  return r.content.map((x) => x.text).join("\n");
};

/** `faro mcp` as a child process; resolves with its HTTP URL once it listens (http) or right away (stdio is spawned by the SDK). */
function startHttp(args: string[]): Promise<{ url: string; proc: ChildProcess; stderr: () => string }> {
  const proc = spawn(process.execPath, ["--import", "tsx", CLI, "mcp", "--transport", "http", "--listen.port", "0", "--dir", dir, "--nats.url", nats.url, ...args], {
    cwd: ROOT,
    env: { ...process.env, FARO_LOG_LEVEL: "info" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  children.push(proc);
  let err = "";
  proc.stderr!.on("data", (d: Buffer) => (err += d.toString()));
  proc.stdout!.on("data", (d: Buffer) => (err += d.toString()));
  return until(
    () => {
      if (proc.exitCode !== null) throw new Error(`faro mcp exited ${proc.exitCode}: ${err}`);
      const m = /listening on (http:\/\/\S+\/mcp)/.exec(err);
      return m ? { url: m[1]!, proc, stderr: () => err } : undefined;
    },
    "faro mcp listening",
    20_000,
  );
}

async function httpClient(url: string, token: string): Promise<Client> {
  const client = new Client({ name: "faro-test", version: "1.0.0" });
  await client.connect(new StreamableHTTPClientTransport(new URL(url), { requestInit: { headers: { authorization: `Bearer ${token}` } } }));
  return client;
}

async function stdioClient(args: string[] = []): Promise<{ client: Client; stderr: () => string }> {
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: ["--import", "tsx", CLI, "mcp", "--dir", dir, "--nats.url", nats.url, ...args],
    cwd: ROOT,
    env: { ...(process.env as Record<string, string>), FARO_LOG_LEVEL: "info" },
    stderr: "pipe",
  });
  let err = "";
  transport.stderr?.on("data", (d: Buffer) => (err += d.toString()));
  const client = new Client({ name: "faro-test", version: "1.0.0" });
  await client.connect(transport);
  return { client, stderr: () => err };
}

async function stop(proc: ChildProcess): Promise<void> {
  if (proc.exitCode !== null || proc.signalCode !== null) return;
  const exited = new Promise((r) => proc.once("exit", r));
  proc.kill("SIGTERM");
  await exited;
}

beforeAll(async () => {
  [nats, redis] = await Promise.all([startNats(), startRedis()]);
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), "faro-mcp-test-"));
  dir = path.join(tmp, "stories");
  const demo = commands.find((c) => c.name === "demo")!;
  const log: string[] = [];
  const code = await demo.run(["--dir", dir, "--speed", "20", "--nats", nats.url, "--redis", redis.url], { out: (l) => log.push(l), err: (l) => log.push(l), signal: new AbortController().signal });
  expect(code, log.join("\n")).toBe(0);
  const files = fs.readdirSync(path.join(dir, "shop")).map((f) => JSON.parse(fs.readFileSync(path.join(dir, "shop", f), "utf8")) as StoryFile);
  payments = files.find((s) => s.workload.name === "payments")!;
  cart = files.find((s) => s.workload.name === "cart")!;
  cluster = payments.cluster;

  // Another tenant's data, derived from the demo's: a copy of the payments story file and of its incident on
  // team-b's subject — what the filter would produce for a second tenant claiming the namespace.
  nc = await connect({ servers: nats.url });
  teamBStoryId = "s-00000000000000bb";
  teamBIncidentId = "i-00000000000000bb";
  fs.mkdirSync(path.join(dir, "team-b-ns"), { recursive: true });
  fs.writeFileSync(path.join(dir, "team-b-ns", `${teamBStoryId}-w0.json`), JSON.stringify({ ...payments, tenant: "team-b", storyId: teamBStoryId, namespace: "team-b-ns", incidents: payments.incidents.map((i) => ({ ...i, incidentId: teamBIncidentId })) }));
  const jsm = await jetstreamManager(nc);
  const last = await jsm.streams.getMessage(FARO_INCIDENT.name, { last_by_subj: incidentFilter({ cluster, reason: "CrashLoopBackOff" }) });
  const ctx = decodeIncidentContext(last!.data);
  await jetstream(nc).publish(
    buildIncidentSubject("team-b", cluster, "team-b-ns", "CrashLoopBackOff"),
    encodeIncidentContext({ ...ctx, tenant: "team-b", namespace: "team-b-ns", incidentId: teamBIncidentId, storyId: teamBStoryId }),
  );

  fs.writeFileSync(
    path.join(tmp, "tokens.yaml"),
    [
      "tokens:",
      `  - { name: admin, token: ${TOKENS.admin}, tenants: ["*"] }`,
      `  - { name: shop, token: ${TOKENS.shop}, tenants: [default] }`,
      `  - { name: team-b, sha256: ${(await import("node:crypto")).createHash("sha256").update(TOKENS.teamB).digest("hex")}, tenants: [team-b] }`,
    ].join("\n"),
  );
}, 120_000);

afterAll(async () => {
  for (const p of children) await stop(p);
  await nc?.close();
  await Promise.all([nats?.stop(), redis?.stop()]);
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

describe("faro mcp over stdio", () => {
  it("answers with the demo's payments CrashLoopBackOff, its last log line, the story and the root-cause prompt", async () => {
    const { client, stderr } = await stdioClient();
    try {
      const tools = (await client.listTools()).tools;
      expect(tools.map((t) => t.name).sort()).toEqual(["diagnose", "get_incident", "get_insights", "get_story", "list_incidents", "list_stories", "search_logs"]);
      for (const t of tools) {
        expect(t.inputSchema.type, t.name).toBe("object");
        expect(t.outputSchema?.type, t.name).toBe("object");
      }

      const list = data<{ incidents: Record<string, unknown>[]; bus: { read: boolean } }>(await call(client, "list_incidents", { workload: "payments", reason: "CrashLoopBackOff" }));
      expect(list.bus.read).toBe(true);
      const crash = list.incidents.find((i) => i.cluster === cluster && i.tenant === "default");
      expect(crash).toMatchObject({ reason: "CrashLoopBackOff", namespace: "shop", workload: { kind: "Deployment", name: "payments" }, exitCode: 1, lastLogLine: PANIC, source: "bus" });
      expect(crash!.incidentId).toBe(payments.incidents.find((i) => i.reason === "CrashLoopBackOff")!.incidentId);

      const full = data<{ incident: { logTail: { line: string }[]; tenant: string; events?: unknown[] }; source: string; storyUri: string }>(await call(client, "get_incident", { incidentId: crash!.incidentId }));
      expect(full.source).toBe("bus");
      expect(full.incident.logTail.at(-1)!.line).toBe(PANIC);
      expect(full.incident.logTail.some((l) => /processing payment|charging card/.test(l.line))).toBe(true);
      const slim = data<{ incident: Record<string, unknown> }>(await call(client, "get_incident", { incidentId: crash!.incidentId, omit: ["logTail", "manifests"] }));
      expect(slim.incident.logTail).toBeUndefined();
      expect(slim.incident.reason).toBe("CrashLoopBackOff");

      const stories = data<{ stories: { storyId: string; workload: { name: string }; uri: string }[] }>(await call(client, "list_stories", { namespace: "shop", workload: "payments" }));
      expect(stories.stories.map((s) => s.storyId)).toEqual([payments.storyId]);
      const story = data<{ story: { incidents: { incidentId: string; logTail?: { line: string }[] }[] }; timeline: { kind: string; data: Record<string, unknown> }[]; timelineMatched: number }>(
        await call(client, "get_story", { storyId: payments.storyId, kinds: ["log", "incident"], limit: 200 }),
      );
      expect(story.timelineMatched).toBe(payments.timeline.filter((e) => e.kind === "log" || e.kind === "incident").length);
      expect(story.timeline.some((e) => e.kind === "incident" && e.data.reason === "CrashLoopBackOff")).toBe(true);
      expect(story.timeline.every((e) => e.kind === "log" || e.kind === "incident")).toBe(true);
      expect(story.story.incidents.some((i) => i.logTail?.at(-1)?.line === PANIC)).toBe(true);

      const resources = (await client.listResources()).resources.map((r) => r.uri);
      expect(resources).toContain(stories.stories[0]!.uri);
      const read = await client.readResource({ uri: stories.stories[0]!.uri });
      expect((JSON.parse((read.contents[0] as { text: string }).text) as StoryFile).storyId).toBe(payments.storyId);
      const incidentRes = await client.readResource({ uri: `faro://incident/${crash!.incidentId}` });
      expect((incidentRes.contents[0] as { text: string }).text).toContain(PANIC);

      const prompt = await client.getPrompt({ name: "root_cause_analysis", arguments: { incidentId: String(crash!.incidentId) } });
      const text = (prompt.messages[0]!.content as { text: string }).text;
      expect(text).toContain("CrashLoopBackOff");
      expect(text).toContain(PANIC);
      expect(text).toContain("root cause");

      // diagnose: the correlator's detection on objects the assistant passes.
      const pod = {
        apiVersion: "v1",
        kind: "Pod",
        metadata: { name: "web-1", namespace: "default", uid: "u-1", creationTimestamp: "2026-12-01T10:00:00Z" },
        spec: { containers: [{ name: "app", image: "web:1" }] },
        status: {
          phase: "Running",
          containerStatuses: [
            { name: "app", restartCount: 4, ready: false, image: "web:1", state: { waiting: { reason: "CrashLoopBackOff", message: "back-off 40s restarting failed container" } }, lastState: { terminated: { exitCode: 2, reason: "Error", finishedAt: "2026-12-01T10:05:00Z" } } },
          ],
        },
      };
      const d = data<{ findings: { reason: string; object: string }[] }>(await call(client, "diagnose", { objects: [pod] }));
      expect(d.findings.map((f) => `${f.reason} ${f.object}`)).toContain("CrashLoopBackOff Pod/web-1");

      // Every call is logged on stderr (stdout is the protocol).
      await until(() => /"call":"get_story"/.test(stderr()), "call log lines", 5_000);
      expect(stderr()).toMatch(/"call":"list_incidents".*"caller":"stdio".*"outcome":"ok"/);
    } finally {
      await client.close();
    }
  });
});

describe("faro mcp limits (in-process)", () => {
  it("refuses a result over limits.maxResultBytes and calls over limits.ratePerMinute, with clear errors", async () => {
    // In-process (the same server code the command runs), linked to the SDK client in memory: no third child process.
    const config = loadConfig(mcpConfigSchema, { argv: ["--dir", dir, "--nats.url", nats.url, "--limits.maxResultBytes", "2048", "--limits.ratePerMinute", "3"] });
    let logged = "";
    const logger = createLogger({ service: "mcp", level: "info", pretty: false, destination: new Writable({ write: (c, _e, cb) => ((logged += String(c)), cb()) }) });
    const rt = await openRuntime(config, logger);
    const server = createServer(rt.ctx, rt.limits, principalOf("local", ["*"]));
    const [a, b] = InMemoryTransport.createLinkedPair();
    const client = new Client({ name: "faro-test", version: "1.0.0" });
    await Promise.all([server.connect(a), client.connect(b)]);
    try {
      expect(errorText(await call(client, "get_story", { storyId: payments.storyId }))).toMatch(/result too large: \d+ bytes, over limits.maxResultBytes \(2048\); ask for less/);
      data(await call(client, "list_stories", { limit: 1 }));
      data(await call(client, "list_stories", { limit: 1 }));
      expect(errorText(await call(client, "list_stories", { limit: 1 }))).toMatch(/rate limit: at most 3 calls per minute/);
      const metrics = await rt.ctx.metrics.registry.metrics();
      expect(metrics).toMatch(/faro_mcp_refused_total\{[^}]*reason="result_too_large"[^}]*\} 1/);
      expect(metrics).toMatch(/faro_mcp_refused_total\{[^}]*reason="rate_limited"[^}]*\} 1/);
      expect(logged).toMatch(/"call":"get_story".*"outcome":"refused".*"reason":"result_too_large"/);

      // A caller whose tenant has nothing: empty answers from a successful bus read, not errors.
      const nobody = createServer(rt.ctx, rt.limits, principalOf("nobody", ["nobody"]));
      const [c, d] = InMemoryTransport.createLinkedPair();
      const other = new Client({ name: "faro-test", version: "1.0.0" });
      await Promise.all([nobody.connect(c), other.connect(d)]);
      const none = data<{ incidents: unknown[]; bus: { read: boolean; problem?: string } }>(await call(other, "list_incidents"));
      expect(none).toMatchObject({ incidents: [], bus: { read: true } });
      expect(none.bus.problem).toBeUndefined();
      await other.close();
      await nobody.close();
    } finally {
      await client.close();
      await server.close();
      await rt.close();
    }
  });

  it("answers incidents from the story files when the bus is unreachable, and says so", async () => {
    const config = loadConfig(mcpConfigSchema, { argv: ["--dir", dir, "--nats.url", "nats://127.0.0.1:1"] });
    const logger = createLogger({ service: "mcp", level: "silent", pretty: false, destination: new Writable({ write: (_c, _e, cb) => cb() }) });
    const rt = await openRuntime(config, logger);
    const server = createServer(rt.ctx, rt.limits, principalOf("default-only", ["default"]));
    const [a, b] = InMemoryTransport.createLinkedPair();
    const client = new Client({ name: "faro-test", version: "1.0.0" });
    await Promise.all([server.connect(a), client.connect(b)]);
    try {
      const r = data<{ incidents: { incidentId: string; source: string; lastLogLine?: string; tenant: string }[]; bus: { read: boolean; problem?: string } }>(
        await call(client, "list_incidents", { workload: "payments", reason: "CrashLoopBackOff" }),
      );
      expect(r.bus.read).toBe(false);
      expect(r.bus.problem).toMatch(/NATS at nats:\/\/127\.0\.0\.1:1 unreachable/);
      const crash = payments.incidents.find((i) => i.reason === "CrashLoopBackOff")!;
      expect(r.incidents.map((i) => [i.incidentId, i.source, i.tenant, i.lastLogLine])).toEqual([[crash.incidentId, "story-file", "default", PANIC]]);
      const full = data<{ source: string; incident: { logTail: { line: string }[] }; busProblem?: string }>(await call(client, "get_incident", { incidentId: crash.incidentId }));
      expect(full.source).toBe("story-file");
      expect(full.busProblem).toBeDefined();
      expect(full.incident.logTail.at(-1)!.line).toBe(PANIC);
    } finally {
      await client.close();
      await server.close();
      await rt.close();
    }
  });

  it("serves the analyzer's insights of the caller's tenants only (get_insights)", async () => {
    const config = loadConfig(mcpConfigSchema, { argv: ["--dir", dir, "--nats.url", nats.url] });
    const logger = createLogger({ service: "mcp", level: "silent", pretty: false, destination: new Writable({ write: (_c, _e, cb) => cb() }) });
    const rt = await openRuntime(config, logger);
    const connectAs = async (tenants: string[]) => {
      const server = createServer(rt.ctx, rt.limits, principalOf(tenants.join(","), tenants));
      const [a, b] = InMemoryTransport.createLinkedPair();
      const client = new Client({ name: "faro-test", version: "1.0.0" });
      await Promise.all([server.connect(a), client.connect(b)]);
      return client;
    };
    const shop = await connectAs(["default"]);
    const teamB = await connectAs(["team-b"]);
    try {
      const crash = payments.incidents.find((i) => i.reason === "CrashLoopBackOff")!;
      // The analyzer is not part of the demo's pipeline: its stream and insights are published here as it would.
      const jsm = await jetstreamManager(nc);
      await jsm.streams.info(FARO_INSIGHT.name).catch(() => jsm.streams.add({ name: FARO_INSIGHT.name, subjects: FARO_INSIGHT.subjects }));
      const insight = (tenant: string, incidentId: string, storyId: string, namespace: string) =>
        jetstream(nc).publish(
          buildInsightSubject(tenant, cluster, namespace, storyId),
          encodeInsight({ incidentId, repeatCount: 1, storyId, tenant, cluster, namespace, reason: "CrashLoopBackOff", analyzer: "test:mcp", probableCause: `nil pointer in ${tenant}`, evidence: [{ kind: "log_tail", index: 0, path: "", quote: PANIC }], nextSteps: ["check the payment client"], confidence: 0.8, otherFindings: [], prompt: "", answer: "", model: "", createdAt: "2026-12-08T01:00:00.000Z", fingerprint: "f" }),
        );
      await insight("default", crash.incidentId, payments.storyId, "shop");
      await insight("team-b", teamBIncidentId, teamBStoryId, "team-b-ns");
      // (Should the analyzer run in the pipeline by now, its own insights come along: only ours are asserted on.)
      const mine = data<{ insights: { incidentId: string; tenant: string; analyzer: string; probableCause: string; evidence: { quote: string }[] }[] }>(await call(shop, "get_insights", { incidentId: crash.incidentId }));
      expect(mine.insights.every((i) => i.incidentId === crash.incidentId && i.tenant === "default")).toBe(true);
      const ours = mine.insights.filter((i) => i.analyzer === "test:mcp");
      expect(ours).toHaveLength(1);
      expect(ours[0]).toMatchObject({ probableCause: "nil pointer in default" });
      expect(ours[0]!.evidence[0]!.quote).toBe(PANIC);
      expect(data<{ insights: unknown[] }>(await call(shop, "get_insights", { storyId: teamBStoryId })).insights).toEqual([]);
      const theirs = data<{ insights: { tenant: string; analyzer: string }[] }>(await call(teamB, "get_insights", { storyId: teamBStoryId }));
      expect(theirs.insights.map((i) => `${i.tenant} ${i.analyzer}`)).toEqual(["team-b test:mcp"]);
      expect(data<{ insights: unknown[] }>(await call(teamB, "get_insights", { incidentId: crash.incidentId })).insights).toEqual([]);
    } finally {
      await Promise.all([shop.close(), teamB.close()]);
      await rt.close();
    }
  });
});

describe("faro mcp over Streamable HTTP", () => {
  let server: { url: string; proc: ChildProcess; stderr: () => string };
  beforeAll(async () => {
    server = await startHttp(["--auth.tokensFile", path.join(tmp, "tokens.yaml"), "--limits.maxRequestBytes", "8KiB", "--limits.maxPageSize", "500"]);
  });

  it("serves the logs of the cart pod deleted during the scenario, by workload, pod and RE2 pattern", async () => {
    // The pod the scenario deleted at 90s (cart) — or, should the pipeline not have read its lines in time (a
    // loaded machine), a frontend pod the rollout at 60s deleted: a pod that no longer exists, with its lines.
    const linesOf = (s: StoryFile, pod: string) => s.timeline.filter((e) => e.kind === "log" && e.pod === pod).flatMap((e) => (e.data.lines as { line: string }[]).map((l) => l.line));
    const shopStories = fs.readdirSync(path.join(dir, "shop")).map((f) => JSON.parse(fs.readFileSync(path.join(dir, "shop", f), "utf8")) as StoryFile);
    const frontend = shopStories.find((s) => s.workload.name === "frontend")!;
    expect(cart.pods.filter((p) => p.deletedAt !== undefined).length).toBeGreaterThan(0);
    const target = [cart, frontend]
      .flatMap((s) => s.pods.filter((p) => p.deletedAt !== undefined).map((p) => ({ story: s, pod: p.name, lines: linesOf(s, p.name) })))
      .find((c) => c.lines.length > 0);
    expect(target, "no line of any deleted pod reached the story files").toBeDefined();
    const { story, pod, lines: expected } = target!;
    const workload = story.workload.name;
    const client = await httpClient(server.url, TOKENS.shop);
    try {
      const byWorkload = data<{ lines: { pod: string; podDeleted: boolean; line: string }[]; matched: number }>(await call(client, "search_logs", { workload, namespace: "shop", limit: 500 }));
      expect(byWorkload.matched).toBe(story.timeline.filter((e) => e.kind === "log").reduce((n, e) => n + (e.data.lines as unknown[]).length, 0));
      expect(byWorkload.lines.filter((l) => l.pod === pod).every((l) => l.podDeleted)).toBe(true);

      // The instance that no longer exists, by name; with a pattern only the matching lines.
      const byPod = data<{ lines: { pod: string; line: string; podDeleted: boolean; deletedAt?: string }[]; matched: number }>(await call(client, "search_logs", { pod, limit: 500 }));
      expect(byPod.matched).toBe(expected.length);
      expect(byPod.lines.every((l) => l.pod === pod && l.podDeleted && l.deletedAt !== undefined)).toBe(true);
      expect(byPod.lines.map((l) => l.line).sort()).toEqual(expected.slice(0, 500).sort());
      const word = expected[0]!.split(" ")[0]!;
      const re = `^${word.replace(/[^A-Za-z0-9]/g, ".")}\\b`;
      const matching = data<{ lines: { line: string }[]; matched: number }>(await call(client, "search_logs", { pod, pattern: re, limit: 500 }));
      expect(matching.matched).toBe(expected.filter((l) => new RegExp(re).test(l)).length);
      expect(matching.matched).toBeGreaterThan(0);
      const none = data<{ matched: number }>(await call(client, "search_logs", { pod, pattern: "^no such line$" }));
      expect(none.matched).toBe(0);

      // Pages: the cursor continues where the page ended.
      if (byPod.lines.length >= 3) {
        const p1 = data<{ lines: unknown[]; nextCursor?: string }>(await call(client, "search_logs", { pod, limit: 2 }));
        const p2 = data<{ lines: unknown[] }>(await call(client, "search_logs", { pod, limit: 2, cursor: p1.nextCursor }));
        expect(p1.nextCursor).toBeDefined();
        expect([...p1.lines, ...p2.lines]).toEqual(byPod.lines.slice(0, 4));
      }

      const s = data<{ timeline: { kind: string; data: Record<string, unknown> }[] }>(await call(client, "get_story", { storyId: story.storyId, includeLogs: false, kinds: ["log"], limit: 500 }));
      expect(s.timeline.length).toBe(story.timeline.filter((e) => e.kind === "log").length);
      expect(s.timeline.every((e) => e.data.lines === undefined && typeof e.data.lineCount === "number")).toBe(true);
    } finally {
      await client.close();
    }
  });

  it("shows a token only its tenants' stories and incidents", async () => {
    const shop = await httpClient(server.url, TOKENS.shop);
    const teamB = await httpClient(server.url, TOKENS.teamB);
    const admin = await httpClient(server.url, TOKENS.admin);
    try {
      const paymentsIncident = payments.incidents.find((i) => i.reason === "CrashLoopBackOff")!.incidentId;
      const tenantsOf = async (c: Client) => {
        const inc = data<{ incidents: { tenant: string; incidentId: string }[] }>(await call(c, "list_incidents", { limit: 500 }));
        const st = data<{ stories: { tenant: string; storyId: string }[] }>(await call(c, "list_stories", { limit: 500 }));
        return { incidents: inc.incidents, stories: st.stories };
      };
      const b = await tenantsOf(teamB);
      expect(b.incidents.map((i) => i.incidentId)).toEqual([teamBIncidentId]);
      expect(b.stories.map((s) => s.storyId)).toEqual([teamBStoryId]);
      const s = await tenantsOf(shop);
      expect(new Set(s.incidents.map((i) => i.tenant))).toEqual(new Set(["default"]));
      expect(s.incidents.map((i) => i.incidentId)).toContain(paymentsIncident);
      expect(s.stories.map((x) => x.storyId)).not.toContain(teamBStoryId);
      const a = await tenantsOf(admin);
      expect(new Set(a.incidents.map((i) => i.tenant))).toEqual(new Set(["default", "team-b"]));

      // Nothing of another tenant by id either: tools, resources, prompt, logs.
      expect(errorText(await call(teamB, "get_incident", { incidentId: paymentsIncident }))).toMatch(/not found \(or not in your tenants\)/);
      expect(errorText(await call(shop, "get_incident", { incidentId: teamBIncidentId }))).toMatch(/not found/);
      expect(errorText(await call(teamB, "get_story", { storyId: payments.storyId }))).toMatch(/not found/);
      expect(data<{ matched: number }>(await call(teamB, "search_logs", { workload: "cart" })).matched).toBe(0);
      // team-b's copy of the payments story is visible to team-b (as many lines as the original holds).
      expect(data<{ stories: number }>(await call(teamB, "search_logs", { workload: "payments" })).stories).toBe(1);
      expect(data<{ stories: number }>(await call(shop, "search_logs", { workload: "payments", namespace: "team-b-ns" })).stories).toBe(0);
      await expect(teamB.readResource({ uri: `faro://story/${cluster}/${payments.storyId}/${payments.window}` })).rejects.toThrow(/not found/);
      await expect(teamB.getPrompt({ name: "root_cause_analysis", arguments: { incidentId: paymentsIncident } })).rejects.toThrow(/not found/);
      expect((await teamB.listResources()).resources.every((r) => !r.uri.includes(payments.storyId) && !r.uri.includes(paymentsIncident))).toBe(true);
      const b2 = data<{ incident: { tenant: string; logTail: { line: string }[] } }>(await call(teamB, "get_incident", { incidentId: teamBIncidentId }));
      expect(b2.incident.tenant).toBe("team-b");
      expect(b2.incident.logTail.at(-1)!.line).toBe(PANIC);
    } finally {
      await Promise.all([shop.close(), teamB.close(), admin.close()]);
    }
  });

  it("refuses requests without a valid token, oversized bodies and oversized arguments, and logs no token", async () => {
    const post = (body: string, token?: string) =>
      fetch(server.url, { method: "POST", headers: { "content-type": "application/json", accept: "application/json, text/event-stream", ...(token ? { authorization: `Bearer ${token}` } : {}) }, body });
    const init = JSON.stringify({ jsonrpc: "2.0", id: 1, method: "initialize", params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "raw", version: "1" } } });
    expect((await post(init)).status).toBe(401);
    const wrong = await post(init, "not-a-token-at-all-0000");
    expect(wrong.status).toBe(401);
    expect(wrong.headers.get("www-authenticate")).toMatch(/^Bearer/);
    expect((await post(init, TOKENS.shop)).status).toBe(200);

    const big = JSON.stringify({ jsonrpc: "2.0", id: 2, method: "tools/call", params: { name: "diagnose", arguments: { objects: [{ kind: "Pod", pad: "x".repeat(10_000) }] } } });
    const refused = await post(big, TOKENS.shop);
    expect(refused.status).toBe(413);
    expect(((await refused.json()) as { error: { message: string } }).error.message).toMatch(/request too large: the body is over limits.maxRequestBytes \(8192 bytes\)/);

    const client = await httpClient(server.url, TOKENS.shop);
    try {
      expect(errorText(await call(client, "list_stories", { limit: 501 }))).toMatch(/Input validation error.*limit/s);
      expect(errorText(await call(client, "search_logs", { workload: "cart", pattern: "a".repeat(300) }))).toMatch(/pattern: 300 characters, over limits.maxPatternLength \(256\)/);
      expect(errorText(await call(client, "search_logs", { workload: "cart", pattern: "(a)\\1" }))).toMatch(/not valid RE2/);
      expect(errorText(await call(client, "search_logs", { namespace: "shop" }))).toMatch(/needs a workload or a pod/);
    } finally {
      await client.close();
    }

    const metrics = await (await fetch(server.url.replace(/\/mcp$/, "/metrics"))).text();
    expect(metrics).toMatch(/faro_mcp_refused_total\{[^}]*reason="request_too_large"[^}]*\} 1/);
    expect(metrics).toMatch(/faro_mcp_refused_total\{[^}]*reason="unauthorized"[^}]*\} 2/);
    expect(metrics).toMatch(/faro_mcp_calls_total\{[^}]*tool="search_logs"/);
    expect(metrics).toMatch(/faro_queue_capacity\{[^}]*queue="mcp_calls_in_flight"[^}]*\} 8/);
    const log = server.stderr();
    expect(log).toMatch(/"call":"search_logs".*"caller":"shop"/);
    for (const t of Object.values(TOKENS)) expect(log).not.toContain(t);
  });
});
