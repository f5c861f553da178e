import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, expectTypeOf, it } from "vitest";
import { commonSchema, defineSchema, type ConfigOf } from "./define.js";
import { ConfigError } from "./errors.js";
import { loadConfig } from "./load.js";
import { field } from "./schema.js";

const schema = defineSchema(
  "unit",
  {
    queue: field.object(
      {
        maxInFlight: field.int({ description: "In flight.", default: 100, min: 1, max: 1000 }),
        flush: field.duration({ description: "Flush.", default: "250ms" }),
        maxBytes: field.bytes({ description: "Bound.", default: "1MiB" }),
      },
      { description: "Queue." },
    ),
    mode: field.enum(["fast", "safe"], { description: "Mode.", default: "safe" }),
    namespaces: field.list({ description: "Namespaces.", default: ["default"] }),
    labels: field.map({ description: "Labels.", default: {} }),
    dryRun: field.boolean({ description: "Dry run.", default: false }),
    token: field.string({ description: "Token.", optional: true }),
    rules: field.array(
      field.object({ name: field.string({ description: "Name." }) }, { description: "Rule." }),
      { description: "Rules.", default: [] },
    ),
  },
  { httpPort: 9100 },
);
type Cfg = ConfigOf<typeof schema>;

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "faro-config-"));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
function writeFile(name: string, text: string): string {
  const p = path.join(dir, name);
  fs.writeFileSync(p, text);
  return p;
}
function issuesOf(fn: () => unknown): ConfigError["issues"] {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).issues;
  }
  throw new Error("expected a ConfigError");
}

describe("loadConfig", () => {
  it("returns typed, frozen defaults", () => {
    const cfg = loadConfig(schema);
    expectTypeOf(cfg.queue.maxInFlight).toEqualTypeOf<number>();
    expectTypeOf(cfg.mode).toEqualTypeOf<"fast" | "safe">();
    expectTypeOf(cfg.token).toEqualTypeOf<string | undefined>();
    expectTypeOf(cfg.nats.url).toEqualTypeOf<string>();
    expectTypeOf<Cfg["rules"][number]["name"]>().toEqualTypeOf<string>();
    expect(cfg.queue).toEqual({ maxInFlight: 100, flush: 250, maxBytes: 1_048_576 });
    expect(cfg.http.port).toBe(9100);
    expect(cfg.shutdown.timeout).toBe(10_000);
    expect(cfg.nats.url).toBe("nats://127.0.0.1:4222");
    expect(cfg.token).toBeUndefined();
    expect(Object.isFrozen(cfg) && Object.isFrozen(cfg.queue) && Object.isFrozen(cfg.namespaces)).toBe(true);
  });

  it("layers file < env < flags", () => {
    const file = writeFile("layers.yaml", "mode: fast\nqueue:\n  maxInFlight: 5\n  flush: 1s\nnamespaces: [a, b]\n");
    const env = { FARO_QUEUE_MAX_IN_FLIGHT: "6", FARO_QUEUE_FLUSH: "2s", FARO_NAMESPACES: "x, y,", FARO_LABELS: "team=sre,tier=1" };
    const cfg = loadConfig(schema, { file, env, argv: ["--queue.flush=3s", "--dry-run", "--rules", '[{"name":"r"}]'] });
    expect(cfg.mode).toBe("fast"); // file only
    expect(cfg.queue.maxInFlight).toBe(6); // env beats file
    expect(cfg.queue.flush).toBe(3000); // flag beats env and file
    expect(cfg.namespaces).toEqual(["x", "y"]);
    expect(cfg.labels).toEqual({ team: "sre", tier: "1" });
    expect(cfg.dryRun).toBe(true);
    expect(cfg.rules).toEqual([{ name: "r" }]);
  });

  it("takes the file from --config, then FARO_CONFIG", () => {
    const a = writeFile("a.yaml", "mode: fast\n");
    const b = writeFile("b.yaml", "mode: safe\n");
    expect(loadConfig(schema, { env: { FARO_CONFIG: a } }).mode).toBe("fast");
    expect(loadConfig(schema, { env: { FARO_CONFIG: a }, argv: ["--config", b] }).mode).toBe("safe");
  });

  it("reports every problem with path, value, allowed and source", () => {
    const file = writeFile("bad.yaml", "mode: fast\nqueue:\n  maxInFlgiht: 5\n  flush: 5\nrules:\n  - name: ok\n  - nmae: typo\n");
    const issues = issuesOf(() =>
      loadConfig(schema, { file, env: { FARO_HTTP_PORT: "abc", FARO_NATS_ULR: "x" }, argv: ["--mode=slow", "--queue-max-in-flight", "0"] }),
    );
    const byPath = (p: string) => issues.find((i) => i.path === p);
    expect(byPath("queue.maxInFlgiht")).toMatchObject({ message: expect.stringContaining('did you mean "maxInFlight"'), source: { kind: "file", file, line: 3 } });
    expect(byPath("queue.flush")).toMatchObject({ value: 5, source: { kind: "file", line: 4 } });
    expect(byPath("rules[1].nmae")).toMatchObject({ source: { kind: "file", line: 7 } });
    expect(byPath("rules[1].name")?.message).toBe("required but not set");
    expect(byPath("http.port")).toMatchObject({ value: "abc", allowed: "integer 0..65535", source: { kind: "env", name: "FARO_HTTP_PORT" } });
    expect(byPath("mode")).toMatchObject({ value: "slow", allowed: "one of fast, safe", source: { kind: "flag", name: "--mode" } });
    expect(byPath("queue.maxInFlight")).toMatchObject({ value: "0", message: "must be at least 1" });
    expect(issues.some((i) => i.message.includes("FARO_NATS_ULR") && i.message.includes("FARO_NATS_URL"))).toBe(true);
    expect(issues).toHaveLength(8);
  });

  it("ignores FARO_* variables outside this schema's groups", () => {
    expect(loadConfig(schema, { env: { FARO_WRITER_DIR: "/x", FARO_CONFIG: "" } }).mode).toBe("safe");
  });

  it("rejects malformed YAML with the line", () => {
    const file = writeFile("broken.yaml", "mode: fast\nqueue:\n  maxInFlight: [1, 2\n");
    const [issue] = issuesOf(() => loadConfig(schema, { file }));
    expect(issue?.message).toMatch(/^malformed YAML/);
    expect(issue?.source).toMatchObject({ kind: "file", file });
    expect((issue?.source as { line?: number }).line).toBeGreaterThanOrEqual(3);
  });

  it("rejects unknown flags and a missing file", () => {
    const issues = issuesOf(() => loadConfig(schema, { argv: ["--mdoe=fast", "--config=/nonexistent/faro.yaml"] }));
    expect(issues.map((i) => i.message)).toEqual([
      "unknown flag --mdoe (did you mean --mode?)",
      expect.stringContaining("cannot read config file"),
    ]);
  });
});

describe("defineSchema", () => {
  it("refuses to redefine common keys and bad defaults", () => {
    expect(() => defineSchema("x", { nats: field.string({ description: "x" }) })).toThrow(/common key/);
    expect(() => defineSchema("x", { n: field.int({ description: "x", default: 0, min: 1 }) })).toThrow(/must be at least 1/);
    expect(() => defineSchema("x", { bad_key: field.int({ description: "x", default: 1 }) })).toThrow(/camelCase/);
  });
  it("shares the common fields", () => {
    expect(Object.keys(commonSchema.fields)).toEqual(["cluster", "nats", "redis", "publish", "deadLetters", "log", "http", "shutdown", "kube"]);
  });
});
