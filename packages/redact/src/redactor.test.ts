// Unit tests for the Redactor: user rules, fail-safe errors, log batches, object edge cases.
import { describe, expect, it } from "vitest";
import { RedactionError, RuleError } from "./errors.js";
import { createRedactor } from "./redactor.js";

describe("createRedactor", () => {
  it("applies user pattern rules with RE2, masking the `secret` group when present", () => {
    const r = createRedactor({
      rules: [
        { name: "acme-ticket", pattern: "ACME-[0-9]{6}" },
        { name: "pin", pattern: "pin (?P<secret>[0-9]{4})\\b", ignoreCase: true },
      ],
    });
    const { text, hits } = r.redactText("ticket ACME-123456 approved, PIN 4821 sent");
    expect(text).toBe("ticket [REDACTED:acme-ticket] approved, PIN [REDACTED:pin] sent");
    expect(hits.map((h) => h.rule).sort()).toEqual(["acme-ticket", "pin"]);
  });

  it("applies user key rules to object keys, env names and key=value text", () => {
    const r = createRedactor({ rules: [{ name: "session", keys: ["session*", "/^sid$/"] }] });
    expect(r.redactText("user=bob sessionCookie=abc123 sid=42").text).toBe(
      "user=bob sessionCookie=[REDACTED:session] sid=[REDACTED:session]",
    );
    const { object } = r.redactObject({ env: [{ name: "SESSION_SEED", value: "s33d" }], sid: "x" });
    expect(object).toEqual({ env: [{ name: "SESSION_SEED", value: "[REDACTED:session]" }], sid: "[REDACTED:session]" });
  });

  it("finds user-pattern matches on every line of a batch, including after line-spanning matches", () => {
    const r = createRedactor({
      builtins: false,
      rules: [
        { name: "span", pattern: "x[^y]+z" },
        { name: "ord", pattern: "^ORD-[0-9]+$" },
        { name: "pin", pattern: "pin=(?P<secret>[0-9]+)" },
      ],
    });
    const { lines } = r.redactLogLines(["x start", "ORD-1", "nothing", "pin=1234 and xaz", "ORD-2 tail", "ORD-3"]);
    expect(lines).toEqual(["x start", "[REDACTED:ord]", "nothing", "pin=[REDACTED:pin] and [REDACTED:span]", "ORD-2 tail", "[REDACTED:ord]"]);
    // Same answers line by line.
    expect(["x start", "ORD-1", "ORD-3"].map((l) => r.redactLogLine(l).text)).toEqual(["x start", "[REDACTED:ord]", "[REDACTED:ord]"]);
  });

  it("masks key=value secrets that follow a `word: ` prefix", () => {
    const r = createRedactor();
    expect(r.redactText("pull failed: password=s3cr3t").text).toBe("pull failed: password=[REDACTED:secret-field]");
    expect(r.redactText("msg: password=x").text).toBe("msg: password=[REDACTED:secret-field]");
    expect(r.redactText("error: token=abcdef123456 rejected").text).toBe("error: token=[REDACTED:secret-field] rejected");
    expect(r.redactText("status: ok, retries=3").text).toBe("status: ok, retries=3");
  });

  it("completes a catastrophic user pattern on a long input", () => {
    const r = createRedactor({ rules: [{ name: "evil", pattern: "(a+)+$" }] });
    const input = "a".repeat(100_000) + "b";
    expect(r.redactText(input).text).toBe(input);
  });

  it("rejects a rule RE2 cannot compile with RuleError naming it", () => {
    expect(() => createRedactor({ rules: [{ name: "backref", pattern: "(x)\\1" }] })).toThrow(/backref/);
    expect(() => createRedactor({ rules: [{ name: "backref", pattern: "(x)\\1" }] })).toThrow(RuleError);
    expect(() => createRedactor({ rules: [{ name: "empty" }] })).toThrow(RuleError);
    expect(() => createRedactor({ rules: [{ name: "a", pattern: "a" }, { name: "a", pattern: "b" }] })).toThrow(/duplicate/);
  });

  it("returns on adversarial inputs for the built-in patterns", () => {
    const r = createRedactor();
    const inputs = [
      "eyJ-".repeat(50_000),
      "eyJabcd.".repeat(20_000),
      "a-".repeat(50_000) + "=",
      "authorization" + " ".repeat(100_000),
      "password" + " ".repeat(100_000) + "x",
      " -token".repeat(20_000),
      "bearer " + "a".repeat(100_000),
      "-----BEGIN RSA PRIVATE KEY-----".repeat(5_000),
      "x://" + "a".repeat(100_000),
    ];
    for (const input of inputs) expect(typeof r.redactText(input).text).toBe("string");
    expect(r.redactText("-----BEGIN RSA PRIVATE KEY-----".repeat(3)).text).toBe("[REDACTED:pem-private-key]");
  });

  it("can run user rules only", () => {
    const r = createRedactor({ builtins: false, rules: [{ name: "x", pattern: "xyz" }] });
    expect(r.redactText("password=hunter2 xyz").text).toBe("password=hunter2 [REDACTED:x]");
  });

  it("throws RedactionError instead of returning partial output", () => {
    const r = createRedactor();
    let deep: unknown = "password=x";
    for (let i = 0; i < 200; i++) deep = { nested: deep };
    expect(() => r.redactObject(deep)).toThrow(RedactionError);
    expect(() => r.redactText(42 as unknown as string)).toThrow(RedactionError);
    expect(() => r.redactLogLines(["ok", null as unknown as string])).toThrow(RedactionError);
  });

  it("masks PEM key blocks that span log lines, and only those lines", () => {
    const r = createRedactor();
    const { lines } = r.redactLogLines([
      "before",
      "key: -----BEGIN OPENSSH PRIVATE KEY-----",
      "b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW",
      "-----END OPENSSH PRIVATE KEY----- done",
      "after",
    ]);
    expect(lines).toEqual([
      "before",
      "key: [REDACTED:pem-private-key]",
      "[REDACTED:pem-private-key]",
      "[REDACTED:pem-private-key] done",
      "after",
    ]);
  });

  it("masks an unparsable last-applied-configuration whole and keeps other annotations", () => {
    const r = createRedactor();
    const { object, hits } = r.redactObject({
      metadata: { annotations: { "kubectl.kubernetes.io/last-applied-configuration": "{not json", team: "payments" } },
    });
    expect(object.metadata.annotations).toEqual({
      "kubectl.kubernetes.io/last-applied-configuration": "[REDACTED:last-applied-configuration]",
      team: "payments",
    });
    expect(hits[0]?.path).toContain("last-applied-configuration");
  });

  it("does not modify its input and keeps non-string values", () => {
    const r = createRedactor();
    const input = { spec: { replicas: 3, paused: false, env: [{ name: "DB_PASSWORD", value: "p" }] } };
    const copy = structuredClone(input);
    const { object } = r.redactObject(input);
    expect(input).toEqual(copy);
    expect(object.spec.replicas).toBe(3);
    expect(object.spec.paused).toBe(false);
    expect(object.spec.env[0]!.value).toBe("[REDACTED:secret-env]");
  });
});
