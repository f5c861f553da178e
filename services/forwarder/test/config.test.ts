// Invalid forwarder configuration names the field and the reason: loadServiceConfig throws one ConfigError with
// every problem, and `faro run forwarder` exits 2 printing them.
import { spawnSync } from "node:child_process";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { ConfigError } from "@faro/config";
import { loadServiceConfig } from "@faro/kernel";
import { forwarderService } from "../src/definition.js";
import { compileForwarderConfig } from "../src/config.js";

const root = path.resolve(import.meta.dirname, "../../..");

function problems(settings: Record<string, unknown>): string[] {
  const argv = Object.entries(settings).map(([k, v]) => `--${k}=${JSON.stringify(v)}`);
  try {
    loadServiceConfig(forwarderService, { env: {}, argv });
  } catch (err) {
    if (err instanceof ConfigError) return err.issues.map((i) => `${i.path}: ${i.message}`);
    throw err;
  }
  return [];
}

describe("forwarder configuration", () => {
  it("accepts no sinks (idle) and a complete sink of every type", () => {
    expect(problems({})).toEqual([]);
    expect(
      problems({
        sinks: [
          { name: "hooks", type: "webhook", webhook: { url: "https://hooks.example.com/x", signingSecret: { env: "S" } } },
          { name: "ai", type: "grpc", grpc: { address: "orchestrator:7443", ca: "/ca.pem", cert: "/c.pem", key: "/k.pem" } },
          { name: "chat", type: "slack", slack: { channel: "C1", token: { file: "/t" } } },
          { name: "hook", type: "slack", slack: { webhookUrl: { env: "SLACK_HOOK" } } },
          { name: "files", type: "directory", directory: { path: "/var/lib/faro/incidents" } },
          { name: "gh", type: "github", github: { repository: "acme/oncall", token: { env: "GH" } } },
          { name: "ops", type: "jira", jira: { url: "https://acme.atlassian.net", project: "OPS", email: "f@acme.com", token: { file: "/t" } } },
          { name: "archive", type: "s3", s3: { bucket: "b", serverSideEncryption: "aws:kms", kmsKeyId: "k" } },
        ],
        routes: [{ sinks: ["chat"], severities: ["critical"], namespaces: ["shop-*"], labels: "team in (a,b)" }],
        silences: [{ name: "m", starts: "2026-01-10T22:00:00Z", ends: "2026-01-11T02:00:00Z", reasons: ["OOM*"] }],
      }),
    ).toEqual([]);
  });

  it("names every missing or contradictory field of every sink", () => {
    expect(
      problems({
        sinks: [
          { name: "a", type: "webhook", webhook: { token: { env: "T", file: "/t" } } },
          { name: "a", type: "grpc", grpc: { address: "no-port", cert: "/c.pem" } },
          { type: "slack", slack: {} },
          { name: "gh", type: "github" },
          { name: "ops", type: "jira", jira: { url: "https://acme.atlassian.net" } },
          { name: "archive", type: "s3", s3: { accessKeyId: { env: "K" }, kmsKeyId: "k" } },
          { name: "hook", type: "slack", slack: { channel: "C1", token: { env: "T" }, webhookUrl: { env: "H" } } },
          { name: "files", type: "directory", insights: true, directory: { path: "/x" } },
        ],
      }),
    ).toEqual(
      expect.arrayContaining([
        "sinks[0].webhook.url: required for a webhook sink",
        "sinks[0].webhook.token: set either file or env, not both",
        "sinks[1].name: another sink has this name",
        "sinks[1].grpc.address: expected host:port",
        "sinks[1].grpc.key: cert and key go together",
        "sinks[2].name: required for every sink",
        "sinks[2].slack.channel: required for a slack sink with a bot token",
        "sinks[2].slack.token.file: required for a slack sink (or slack.webhookUrl for an incoming webhook) (or sinks[2].slack.token.env)",
        "sinks[3].github.repository: required for a github sink",
        "sinks[3].github.token.file: required for a github sink (or sinks[3].github.token.env)",
        "sinks[4].jira.project: required for a jira sink",
        "sinks[4].jira.email: required for a jira sink",
        "sinks[5].s3.bucket: required for an s3 sink",
        "sinks[5].s3.secretAccessKey: accessKeyId and secretAccessKey go together",
        "sinks[5].s3.kmsKeyId: needs serverSideEncryption aws:kms",
        "sinks[6].slack.webhookUrl: set either webhookUrl (incoming webhook) or token (bot), not both",
        "sinks[6].slack.channel: an incoming webhook posts to its own channel; channel is for the bot token mode",
        "sinks[7].insights: a directory sink takes no insights (slack, github, jira and webhook do)",
      ]),
    );
    // Problems the schema itself finds (checked before the rest).
    expect(problems({ sinks: [{ name: "Bad_Name", type: "directory" }, { name: "b", type: "smtp" }] })).toEqual(
      expect.arrayContaining(["sinks[0].name: does not match the required format", "sinks[1].type: not an allowed value"]),
    );
  });

  it("checks routes and silences: unknown sinks, bad patterns, severities, selectors and times", () => {
    const found = problems({
      sinks: [{ name: "hooks", type: "webhook", webhook: { url: "http://127.0.0.1:1/x" } }],
      routes: [{ sinks: ["pager"], severities: ["urgent"], namespaces: ["/[/"], labels: "a in" }],
      silences: [{ starts: "yesterday", ends: "2026-01-01T00:00:00Z", sinks: ["nope"] }],
    });
    expect(found).toEqual(
      expect.arrayContaining([
        "routes[0].sinks[0]: no sink has this name",
        "routes[0].severities[0]: not a severity",
        expect.stringMatching(/^routes\[0\]\.namespaces: /),
        expect.stringMatching(/^routes\[0\]\.labels: /),
        "silences[0].sinks[0]: no sink has this name",
        "silences[0].starts: not an RFC3339 time",
      ]),
    );
  });

  it("compiles routes and silences into matchers", () => {
    const config = loadServiceConfig(forwarderService, {
      env: {},
      argv: [
        `--sinks=${JSON.stringify([{ name: "p", type: "directory", directory: { path: "/tmp/x" } }])}`,
        `--routes=${JSON.stringify([{ severities: ["critical"], namespaces: ["pay*"], labels: "team=payments" }])}`,
        `--silences=${JSON.stringify([{ reasons: ["OOM*"], starts: "2026-01-01T00:00:00Z", ends: "2026-01-02T00:00:00Z" }])}`,
      ],
    });
    const c = compileForwarderConfig(config);
    const t = { tenant: "x", namespace: "payments", reason: "OOMKilled", severity: "critical", labels: { team: "payments" } };
    expect(c.routes[0]!.matches(t)).toBe(true);
    expect(c.routes[0]!.matches({ ...t, severity: "high" })).toBe(false);
    expect(c.routes[0]!.matches({ ...t, labels: { team: "shop" } })).toBe(false);
    expect(c.routes[0]!.matches({ ...t, namespace: "shop" })).toBe(false);
    const s = c.silences[0]!;
    expect([s.startsMs, s.endsMs]).toEqual([Date.parse("2026-01-01T00:00:00Z"), Date.parse("2026-01-02T00:00:00Z")]);
    expect(s.matches(t)).toBe(true);
    expect(s.matches({ ...t, reason: "CrashLoopBackOff" })).toBe(false);
  });

  it("`faro run forwarder` exits 2 naming the field", { timeout: 30_000 }, () => {
    const r = spawnSync(path.join(root, "node_modules/.bin/tsx"), [path.join(root, "apps/cli/src/main.ts"), "run", "forwarder", `--sinks=${JSON.stringify([{ name: "hooks", type: "webhook" }])}`], {
      cwd: root,
      encoding: "utf8",
      env: { ...process.env, FARO_LOG_LEVEL: "silent" },
    });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain("sinks[0].webhook.url");
    expect(r.stderr).toContain("required for a webhook sink");
  });
});
