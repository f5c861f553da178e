// `faro redact` as a child process: JSON, YAML and text in, redacted out; user rules; exit 2 on unparsable input.
import { spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import YAML from "yaml";

const ROOT = path.resolve(import.meta.dirname, "../../../..");
const MAIN = path.join(ROOT, "apps/cli/src/main.ts");
const TSX = path.join(ROOT, "node_modules/.bin/tsx");

function faro(args: string[], stdin: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(TSX, [MAIN, "redact", ...args], { cwd: ROOT, stdio: ["pipe", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (b: Buffer) => (stdout += b.toString()));
    child.stderr.on("data", (b: Buffer) => (stderr += b.toString()));
    child.on("error", reject);
    child.on("exit", (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(stdin);
  });
}

const SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";

describe("faro redact", () => {
  it("redacts a JSON manifest, keeps it valid and readable", async () => {
    const pod = { kind: "Pod", metadata: { name: "web" }, spec: { containers: [{ name: "app", env: [{ name: "AWS_SECRET_ACCESS_KEY", value: SECRET }, { name: "MODE", value: "prod" }] }] } };
    const r = await faro(["--format", "json"], JSON.stringify(pod));
    expect(r.code).toBe(0);
    expect(r.stdout).not.toContain(SECRET);
    const out = JSON.parse(r.stdout);
    expect(out.spec.containers[0].env[1]).toEqual({ name: "MODE", value: "prod" });
    expect(out.spec.containers[0].env[0].value).toMatch(/^\[REDACTED:/);
  });

  it("redacts YAML and text with user rules from --rules", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "faro-redact-"));
    const rules = path.join(dir, "rules.yaml");
    fs.writeFileSync(rules, "rules:\n  - name: internal-token\n    pattern: 'itk_[A-Za-z0-9]{8}'\n");
    const y = await faro(["--format=yaml", "--rules", rules], "kind: ConfigMap\ndata:\n  note: use itk_ABCDEFGH here\n  color: blue\n");
    expect(y.code).toBe(0);
    expect(YAML.parse(y.stdout).data).toEqual({ note: "use [REDACTED:internal-token] here", color: "blue" });
    const t = await faro(["--rules", rules], "starting\ncalling with itk_ABCDEFGH\n");
    expect(t.code).toBe(0);
    expect(t.stdout).toBe("starting\ncalling with [REDACTED:internal-token]\n");
  });

  it("exits 2 on unparsable input, a bad rule or a bad format, and prints nothing of the input", async () => {
    const bad = await faro(["--format", "json"], `{"password": "${SECRET}"`);
    expect(bad.code).toBe(2);
    expect(bad.stdout).toBe("");
    expect(bad.stderr).toMatch(/not JSON/);
    const badYaml = await faro(["--format", "yaml"], "a: [1, 2\nb: c: d\n");
    expect(badYaml.code).toBe(2);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "faro-redact-"));
    const rules = path.join(dir, "rules.yaml");
    fs.writeFileSync(rules, "- name: lookahead\n  pattern: 'a(?=b)'\n");
    const badRule = await faro(["--rules", rules], "x\n");
    expect(badRule.code).toBe(2);
    expect(badRule.stderr).toMatch(/lookahead/);
    expect((await faro(["--format", "xml"], "x")).code).toBe(2);
  });
});
