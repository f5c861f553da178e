// Unit tests of the filter's configuration: defaults, rule conversion, RE2 rejection as ConfigError, linear-time patterns.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "@faro/config";
import { buildRawSubject, encodeLogBatch } from "@faro/contracts";
import { loadServiceConfig } from "@faro/kernel";
import { compileFilterConfig, configSchema, rulesConfigOf } from "./config.js";
import { filterService } from "./definition.js";

const loadFilterConfig = (o: { file: string }) => loadServiceConfig(filterService, o);
import { createProcessor } from "./processor.js";

function file(yaml: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "faro-filter-cfg-"));
  const f = path.join(dir, "filter.yaml");
  fs.writeFileSync(f, yaml);
  return f;
}

describe("filter config", () => {
  it("defaults: one catch-all tenant, shared infrastructure excluded", () => {
    const cfg = loadConfig(configSchema, {});
    expect(cfg.tenants).toEqual([{ name: "default", namespaces: ["*"], include: [], exclude: [] }]);
    expect(cfg.global.excludeNamespaces).toEqual(["kube-system", "kube-public", "kube-node-lease"]);
    const { matcher } = compileFilterConfig(cfg);
    expect(matcher.tenantsForObject({ kind: "Pod", namespace: "shop", name: "x" })).toEqual(["default"]);
    expect(matcher.tenantsForObject({ kind: "Pod", namespace: "kube-system", name: "x" })).toEqual([]);
  });

  it("passes only the fields a rule gives to the rule engine", () => {
    const cfg = loadConfig(configSchema, { file: file(`tenants: [{ name: a, namespaces: [x], exclude: [{ name: hz, log: healthz, ignoreCase: true }] }]`) });
    expect(rulesConfigOf(cfg).tenants[0]!.exclude).toEqual([{ name: "hz", log: "healthz", ignoreCase: true }]);
  });

  it("tenants can be given as JSON in the environment", () => {
    const cfg = loadConfig(configSchema, { env: { FARO_TENANTS: JSON.stringify([{ name: "t1", namespaces: ["a-*"] }]) } });
    expect(compileFilterConfig(cfg).matcher.tenantNames).toEqual(["t1"]);
  });

  it("a noise pattern RE2 cannot compile is a ConfigError naming tenant and rule", () => {
    const f = file(`tenants: [{ name: team-a, namespaces: [x], exclude: [{ name: lookahead, log: "foo(?=bar)" }] }]`);
    let err: unknown;
    try {
      loadFilterConfig({ file: f });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as Error).message).toMatch(/team-a/);
    expect((err as Error).message).toMatch(/lookahead/);
  });

  it("a redaction pattern RE2 cannot compile is a ConfigError naming the rule", () => {
    const f = file(`redaction: { rules: [{ name: backref, pattern: "(a)\\\\1" }] }`);
    expect(() => loadFilterConfig({ file: f })).toThrow(/backref/);
    expect(() => loadFilterConfig({ file: f })).toThrow(ConfigError);
  });

  it("a tenant name that cannot be a subject token is refused by the schema", () => {
    expect(() => loadFilterConfig({ file: file(`tenants: [{ name: "a.b", namespaces: [x] }]`) })).toThrow(/tenants\[0\]\.name/);
  });

  it("a catastrophic-backtracking pattern (a+)+$ completes on a long input (RE2 is linear)", () => {
    const f = file(`
tenants: [{ name: t, namespaces: ["*"], exclude: [{ name: evil, log: "(a+)+$" }] }]
redaction: { rules: [{ name: evil-redact, pattern: "(a+)+$" }] }
`);
    const cfg = loadFilterConfig({ file: f });
    const p = createProcessor(compileFilterConfig(cfg));
    const long = "a".repeat(20_000) + "!";
    const subject = buildRawSubject("c", "ns", { category: "log", pod: "p", container: "c" });
    const data = encodeLogBatch({
      cluster: "c", namespace: "ns", pod: "p", podUid: "u", container: "c", containerType: "regular", restartCount: 0, source: "follow",
      seqStart: 0,
      lines: [long, "a".repeat(20_000)].map((line) => ({ timestamp: "2026-11-22T00:00:00.000000000Z", line, truncated: false, originalBytes: line.length })),
      podOwnerRefs: [], node: "n", observedAtMs: 0, endOfStream: false, podLabels: {},
    });
    const out = p.process({ subject, data, msgId: "m", stream: "FARO_RAW", seq: 1 });
    // The line ending in "!" is kept; the all-"a" line matches and is dropped by the rule.
    expect(out.lines[0]!.kept).toBe(1);
    expect(out.lines[0]!.dropped).toEqual({ evil: 1 });
    expect(out.outputs).toHaveLength(1);
  });
});
