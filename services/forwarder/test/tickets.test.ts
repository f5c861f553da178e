// The ticket sinks against local servers speaking the GitHub REST and Jira Cloud REST v3 shapes: an issue per
// incident and a comment per repeat; after a restart the issue is found in Redis, and when Redis lost it, by the
// marker in the body (GitHub search) or label (Jira JQL) — never a duplicate; 429/5xx retried, 401 dead-lettered.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Redis } from "ioredis";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { decodeDeadLetter } from "@faro/contracts";
import { startNats, startRedis, until, type ManagedServer } from "@faro/test-harness";
import { incident, publish, startForwarder, startRecorder, type RecordedRequest, type Recorder } from "./helpers.js";

const GH_TOKEN = "ghp_forwarderTestToken000000000000000000";
const JIRA_TOKEN = "ATATT-jira-test-token";
let nats: ManagedServer;
let redisServer: ManagedServer;
let redis: Redis;
let nc: NatsConnection;
let dir: string;

beforeAll(async () => {
  [nats, redisServer] = await Promise.all([startNats(), startRedis()]);
  nc = await connect({ servers: nats.url });
  redis = new Redis(redisServer.url);
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "faro-fwd-tickets-"));
  fs.writeFileSync(path.join(dir, "gh"), GH_TOKEN);
  fs.writeFileSync(path.join(dir, "jira"), JIRA_TOKEN);
});

afterAll(async () => {
  await nc?.close();
  redis?.disconnect();
  await Promise.all([nats?.stop(), redisServer?.stop()]);
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

const env = (cluster: string) => ({ FARO_NATS_URL: nats.url, FARO_REDIS_URL: redisServer.url, FARO_CLUSTER: cluster });
const json = (status: number, body: unknown, headers: Record<string, string> = {}) => ({ status, headers, body: JSON.stringify(body) });

interface GhIssue {
  number: number;
  title: string;
  body: string;
  labels: string[];
  assignees: string[];
  comments: string[];
}

/** GitHub's issues, comments and search endpoints as documented, with a Bearer token. */
function github(rec: Recorder, opts: { failFirstComment?: boolean } = {}): GhIssue[] {
  const issues: GhIssue[] = [];
  let failed = false;
  rec.respond = (r: RecordedRequest) => {
    if (r.headers["authorization"] !== `Bearer ${GH_TOKEN}`) return json(401, { message: "Bad credentials", documentation_url: "https://docs.github.com/rest" });
    const url = new URL(r.path, "http://x");
    if (r.path === "/repos/acme/oncall/issues") {
      const b = JSON.parse(r.body) as { title: string; body: string; labels: string[]; assignees: string[] };
      const issue = { number: issues.length + 1, ...b, comments: [] };
      issues.push(issue);
      return json(201, { id: 1000 + issue.number, number: issue.number, html_url: `https://github.com/acme/oncall/issues/${issue.number}`, state: "open" });
    }
    const m = /^\/repos\/acme\/oncall\/issues\/(\d+)\/comments$/.exec(r.path);
    if (m) {
      const issue = issues.find((i) => i.number === Number(m[1]));
      if (!issue) return json(404, { message: "Not Found" });
      if (opts.failFirstComment && !failed) {
        failed = true;
        return json(502, { message: "Server Error" });
      }
      issue.comments.push((JSON.parse(r.body) as { body: string }).body);
      return json(201, { id: 5000 + issue.comments.length });
    }
    if (url.pathname === "/search/issues") {
      const term = /"([^"]+)"/.exec(url.searchParams.get("q") ?? "")?.[1] ?? "";
      const items = issues.filter((i) => i.body.includes(term)).map((i) => ({ number: i.number, title: i.title }));
      return json(200, { total_count: items.length, incomplete_results: false, items });
    }
    return json(404, { message: "Not Found" });
  };
  return issues;
}

interface JiraIssue {
  key: string;
  fields: { project: { key: string }; issuetype: { name: string }; summary: string; description: { type: string; version: number; content: unknown[] }; labels: string[]; priority?: { name: string } };
  comments: { type: string }[];
}

/** Jira Cloud REST v3: create issue, add comment, JQL search; basic auth; one 429 with Retry-After on demand. */
function jira(rec: Recorder, opts: { throttleFirstComment?: boolean } = {}): JiraIssue[] {
  const issues: JiraIssue[] = [];
  let throttled = false;
  const auth = `Basic ${Buffer.from(`faro@acme.com:${JIRA_TOKEN}`).toString("base64")}`;
  rec.respond = (r: RecordedRequest) => {
    if (r.headers["authorization"] !== auth) return json(401, { errorMessages: ["Client must be authenticated to access this resource."], errors: {} });
    if (r.path === "/rest/api/3/issue") {
      const { fields } = JSON.parse(r.body) as { fields: JiraIssue["fields"] };
      if (fields.description.type !== "doc" || fields.description.version !== 1) return json(400, { errorMessages: [], errors: { description: "Operation value must be an Atlassian Document" } });
      const key = `OPS-${issues.length + 1}`;
      issues.push({ key, fields, comments: [] });
      return json(201, { id: String(10000 + issues.length), key, self: `https://acme.atlassian.net/rest/api/3/issue/${10000 + issues.length}` });
    }
    const m = /^\/rest\/api\/3\/issue\/([A-Z]+-\d+)\/comment$/.exec(r.path);
    if (m) {
      if (opts.throttleFirstComment && !throttled) {
        throttled = true;
        return json(429, { errorMessages: ["Rate limit exceeded."] }, { "retry-after": "1" });
      }
      const issue = issues.find((i) => i.key === m[1]);
      if (!issue) return json(404, { errorMessages: ["Issue does not exist or you do not have permission to see it."], errors: {} });
      issue.comments.push((JSON.parse(r.body) as { body: { type: string } }).body);
      return json(201, { id: String(20000 + issue.comments.length) });
    }
    if (r.path === "/rest/api/3/search/jql") {
      const { jql } = JSON.parse(r.body) as { jql: string };
      const label = /labels = "([^"]+)"/.exec(jql)?.[1];
      return json(200, { issues: issues.filter((i) => label && i.fields.labels.includes(label)).map((i) => ({ id: i.key, key: i.key })), isLast: true });
    }
    return json(404, { errorMessages: ["not found"] });
  };
  return issues;
}

describe("forwarder: ticket sinks", () => {
  it("GitHub: an issue, comments on repeats, found again after a restart and after Redis lost it — never a duplicate", { timeout: 40_000 }, async () => {
    const rec = await startRecorder();
    const issues = github(rec, { failFirstComment: true });
    const sink = { name: "gh", type: "github", retry: { base: "50ms", max: "100ms" }, github: { apiUrl: rec.url, repository: "acme/oncall", token: { file: path.join(dir, "gh") }, labels: ["faro", "oncall"], assignees: ["octo"] } };
    let fwd = await startForwarder(env("tk1"), { sinks: [sink] });
    try {
      await publish(nc, incident("crasher", 1, { cluster: "tk1" }));
      await publish(nc, incident("crasher", 2, { cluster: "tk1" }));
      await until(() => issues[0]?.comments.length === 1, "issue and first comment");
      expect(issues).toHaveLength(1);
      expect(issues[0]).toMatchObject({ title: "CrashLoopBackOff: Deployment/crasher in shop (tk1)", labels: ["faro", "oncall"], assignees: ["octo"] });
      expect(issues[0]!.body).toContain("faro-incident-crasher");
      expect(issues[0]!.body).toContain("panic: boom");
      expect(issues[0]!.comments[0]).toContain("Repeat ×2");
      expect(await fwd.metric("faro_forwarder_retried_total", { sink: "gh", kind: "http_502" })).toBe(1);
      await fwd.running.stop();

      fwd = await startForwarder(env("tk1"), { sinks: [sink] });
      await publish(nc, incident("crasher", 3, { cluster: "tk1" }));
      await until(() => issues[0]!.comments.length === 2, "comment after the restart");
      await fwd.running.stop();

      // Redis lost the mapping: the marker in the body finds the issue.
      expect(await redis.del("faro:tk1:fwd:gh:ticket:crasher")).toBe(1);
      fwd = await startForwarder(env("tk1"), { sinks: [sink] });
      await publish(nc, incident("crasher", 4, { cluster: "tk1" }));
      await until(() => issues[0]!.comments.length === 3, "comment found by marker");
      expect(issues).toHaveLength(1);
      expect(rec.requests.some((r) => r.path.startsWith("/search/issues"))).toBe(true);
      // The receiver recorded the comment before the forwarder read its answer: wait for the count.
      await until(async () => (await fwd.metric("faro_forwarder_delivered_total", { sink: "gh", event: "updated" })) === 1, "delivered{updated} = 1", 5_000);
      expect(fwd.logs()).not.toContain(GH_TOKEN);
    } finally {
      await fwd.running.stop();
      await rec.close();
    }
  });

  it("GitHub: a 401 is dead-lettered with the reason", { timeout: 20_000 }, async () => {
    const rec = await startRecorder();
    github(rec);
    fs.writeFileSync(path.join(dir, "gh-bad"), "ghp_wrong");
    const letters: string[] = [];
    const sub = nc.subscribe("faro.v1.dlq.forwarder.deliver", { callback: (_e, m) => void letters.push(decodeDeadLetter(m.data).error) });
    const fwd = await startForwarder(env("tk2"), { sinks: [{ name: "gh", type: "github", github: { apiUrl: rec.url, repository: "acme/oncall", token: { file: path.join(dir, "gh-bad") } } }] });
    try {
      await publish(nc, incident("oom", 1, { cluster: "tk2" }));
      await until(() => letters.length === 1, "the dead letter");
      expect(letters[0]).toMatch(/^sink gh: delivery of oom:1 failed: HTTP 401 .*Bad credentials/);
    } finally {
      sub.unsubscribe();
      await fwd.running.stop();
      await rec.close();
    }
  });

  it("Jira: an issue with an ADF description, priority and marker label; comments on repeats (429 honoured); found by JQL when Redis lost it", { timeout: 40_000 }, async () => {
    const rec = await startRecorder();
    const issues = jira(rec, { throttleFirstComment: true });
    const sink = { name: "ops", type: "jira", jira: { url: rec.url, project: "OPS", issueType: "Incident", email: "faro@acme.com", token: { file: path.join(dir, "jira") } } };
    let fwd = await startForwarder(env("tk3"), { sinks: [sink] });
    try {
      await publish(nc, incident("hungry", 1, { cluster: "tk3", reason: "OOMKilled", severity: "critical" }));
      await publish(nc, incident("hungry", 2, { cluster: "tk3", reason: "OOMKilled", severity: "critical" }));
      await until(() => issues[0]?.comments.length === 1, "issue and comment");
      const f = issues[0]!.fields;
      expect(f).toMatchObject({ project: { key: "OPS" }, issuetype: { name: "Incident" }, summary: "OOMKilled: Deployment/hungry in shop (tk3)", priority: { name: "Highest" } });
      expect(f.labels).toEqual(["faro", "faro-incident-hungry"]);
      expect(JSON.stringify(f.description)).toContain("panic: boom");
      expect(issues[0]!.comments[0]).toMatchObject({ type: "doc" });
      expect(await fwd.metric("faro_forwarder_retried_total", { sink: "ops", kind: "retry_after" })).toBe(1);
      await fwd.running.stop();

      expect(await redis.del("faro:tk3:fwd:ops:ticket:hungry")).toBe(1);
      fwd = await startForwarder(env("tk3"), { sinks: [sink] });
      await publish(nc, incident("hungry", 3, { cluster: "tk3", reason: "OOMKilled", severity: "critical" }));
      await until(() => issues[0]!.comments.length === 2, "comment found by JQL");
      expect(issues).toHaveLength(1);
      expect(fwd.logs()).not.toContain(JIRA_TOKEN);
    } finally {
      await fwd.running.stop();
      await rec.close();
    }
  });
});
