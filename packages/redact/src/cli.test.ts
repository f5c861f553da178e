// Unit tests for the `faro redact` core: formats, rules file, errors on unparsable input.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { RedactCliError, RuleError } from "./errors.js";
import { parseRules, redactCli } from "./cli.js";

describe("redactCli", () => {
  it("redacts text line by line, keeping the trailing newline", () => {
    expect(redactCli("a password=x\nb\n", { format: "text" })).toBe("a password=[REDACTED:secret-field]\nb\n");
  });

  it("redacts one JSON document or JSON lines", () => {
    expect(JSON.parse(redactCli('{"token":"abc"}', { format: "json" }))).toEqual({ token: "[REDACTED:secret-field]" });
    const out = redactCli('{"token":"abc"}\n{"a":1}\n', { format: "json" });
    expect(out.trim().split("\n").map((l) => JSON.parse(l))).toEqual([{ token: "[REDACTED:secret-field]" }, { a: 1 }]);
  });

  it("throws RedactCliError on unparsable input", () => {
    expect(() => redactCli("{nope", { format: "json" })).toThrow(RedactCliError);
    expect(() => redactCli("a: [unclosed", { format: "yaml" })).toThrow(RedactCliError);
  });

  it("loads user rules from a YAML file", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "redact-"));
    const file = path.join(dir, "rules.yaml");
    fs.writeFileSync(file, "rules:\n  - name: order-id\n    pattern: 'ORD-[0-9]+'\n");
    try {
      expect(redactCli("see ORD-991\n", { format: "text", rulesFile: file })).toBe("see [REDACTED:order-id]\n");
      fs.writeFileSync(file, "- name: bad\n  pattern: '(?<=a)b'\n");
      expect(() => redactCli("x", { format: "text", rulesFile: file })).toThrow(RuleError);
      expect(() => redactCli("x", { format: "text", rulesFile: path.join(dir, "missing.yaml") })).toThrow(RedactCliError);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it("parses a bare list of rules", () => {
    expect(parseRules("- name: a\n  keys: [x]\n")).toEqual([{ name: "a", keys: ["x"] }]);
    expect(() => parseRules("rules: 3")).toThrow(RuleError);
  });
});
