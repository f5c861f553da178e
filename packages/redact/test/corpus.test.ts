// Corpus test: every planted secret in realistic manifests, Events and logs is masked, every
// innocent value survives, and the output stays valid JSON / YAML.
import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import YAML from "yaml";
import { createRedactor, redactCli } from "@faro/redact";

const dir = path.join(import.meta.dirname, "corpus");
const read = (f: string) => fs.readFileSync(path.join(dir, f), "utf8");
const planted = JSON.parse(read("planted.json")) as Record<string, string>;
const innocent = JSON.parse(read("innocent.json")) as string[];

const redactor = createRedactor();

function outputs(): Record<string, string> {
  const deployment = redactor.redactObject(JSON.parse(read("deployment.json"))).object;
  const secret = redactor.redactObject(JSON.parse(read("secret.json"))).object;
  const cm = redactor.redactObject(YAML.parse(read("configmap.yaml"))).object;
  const events = (JSON.parse(read("events.json")) as unknown[]).map((e) => redactor.redactEvent(e).object);
  const logs = redactor.redactLogLines(read("logs.txt").split("\n")).lines.join("\n");
  return {
    deployment: JSON.stringify(deployment),
    secret: JSON.stringify(secret),
    configmap: YAML.stringify(cm),
    events: JSON.stringify(events),
    logs,
  };
}

describe("redaction corpus", () => {
  const out = outputs();
  const all = Object.values(out).join("\n");

  it.each(Object.entries(planted))("masks planted secret %s", (_name, value) => {
    expect(all).not.toContain(value);
  });

  it.each(innocent)("keeps innocent value %s", (value) => {
    const input = ["deployment.json", "secret.json", "configmap.yaml", "events.json", "logs.txt"].map(read).join("\n");
    // Compare on the same serialisation family: innocent values are plain substrings of some output.
    expect(input).toContain(value.replace(/"/g, input.includes(value) ? '"' : '\\"'));
    expect(all.includes(value) || JSON.stringify(all).includes(value)).toBe(true);
  });

  it("keeps structure: keys, env names, valueFrom refs, Secret keys", () => {
    const d = JSON.parse(out.deployment!);
    const c = d.spec.template.spec.containers[0];
    expect(c.env.map((e: { name: string }) => e.name)).toContain("DB_PASSWORD");
    expect(c.env.find((e: { name: string }) => e.name === "DB_PASSWORD").value).toBe("[REDACTED:secret-env]");
    expect(c.env.find((e: { name: string }) => e.name === "AWS_SECRET_ACCESS_KEY").value).toBe("[REDACTED:aws-secret-key]");
    expect(c.env.find((e: { name: string }) => e.name === "SECRET_FROM_REF").valueFrom).toEqual({
      secretKeyRef: { name: "api-secrets", key: "token" },
    });
    expect(c.env.find((e: { name: string }) => e.name === "LOG_LEVEL").value).toBe("info");
    expect(c.args).toContain("--db-password");
    expect(c.args).toContain("--log-format");
    expect(c.args).toContain("json");
    const la = JSON.parse(d.metadata.annotations["kubectl.kubernetes.io/last-applied-configuration"]);
    expect(la.spec.template.spec.containers[0].env[0]).toEqual({ name: "DB_PASSWORD", value: "[REDACTED:secret-env]" });
    const s = JSON.parse(out.secret!);
    expect(s.data).toEqual({ token: "[REDACTED:secret-value]", username: "[REDACTED:secret-value]" });
    expect(s.stringData).toEqual({ "config.yaml": "[REDACTED:secret-value]" });
    expect(s.metadata.name).toBe("api-secrets");
  });

  it("names the rule that fired in the mask", () => {
    expect(out.logs).toContain("[REDACTED:jwt]");
    expect(out.logs).toContain("[REDACTED:aws-access-key-id]");
    expect(out.logs).toContain("[REDACTED:aws-secret-key]");
    expect(out.logs).toContain("[REDACTED:github-token]");
    expect(out.logs).toContain("[REDACTED:slack-token]");
    expect(out.logs).toContain("[REDACTED:stripe-key]");
    expect(out.logs).toContain("[REDACTED:google-api-key]");
    expect(out.logs).toContain("[REDACTED:sendgrid-key]");
    expect(out.logs).toContain("[REDACTED:pem-private-key]");
    expect(out.events).toContain("[REDACTED:authorization-header]");
  });

  it("CLI output stays valid JSON and YAML", () => {
    const json = redactCli(read("deployment.json"), { format: "json" });
    expect(() => JSON.parse(json)).not.toThrow();
    expect(json).not.toContain(planted.db_password);
    const yaml = redactCli(read("configmap.yaml") + "---\n" + YAML.stringify(JSON.parse(read("secret.json"))), { format: "yaml" });
    const docs = YAML.parseAllDocuments(yaml);
    expect(docs).toHaveLength(2);
    expect(docs.every((d) => d.errors.length === 0)).toBe(true);
    expect(yaml).not.toContain(planted.cm_password);
    expect(yaml).not.toContain(planted.secret_data);
  });
});
