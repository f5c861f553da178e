// `faro mcp` configuration: invalid settings and tokens files exit 2 naming the field; tokens map to tenants;
// docs/mcp.md lists every setting of the command.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { createHash } from "node:crypto";
import { afterAll, describe, expect, it } from "vitest";
import { leavesOf } from "@faro/config";
import { main } from "../../src/main.js";
import { canSee, loadTokens, mcpConfigSchema } from "../../src/mcp/index.js";

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "faro-mcp-config-"));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

async function run(args: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(["mcp", ...args], { out: (l) => out.push(l), err: (l) => err.push(l), signal: AbortSignal.abort() });
  return { code, out: out.join("\n"), err: err.join("\n") };
}

function file(name: string, text: string): string {
  const p = path.join(tmp, name);
  fs.writeFileSync(p, text);
  return p;
}

describe("faro mcp configuration", () => {
  it("exits 2 naming the field: http without a tokens file, a bad setting", async () => {
    const noTokens = await run(["--transport", "http"]);
    expect(noTokens.code).toBe(2);
    expect(noTokens.err).toMatch(/auth\.tokensFile: required with transport http/);
    const bad = await run(["--transport", "carrier-pigeon", "--limits.maxPageSize", "0"]);
    expect(bad.code).toBe(2);
    expect(bad.err).toMatch(/transport/);
    expect(bad.err).toMatch(/limits\.maxPageSize/);
  });

  it("exits 2 listing every problem of a tokens file, and never echoes a token", async () => {
    const secret = "a-secret-token-that-must-not-leak";
    const f = file(
      "bad-tokens.yaml",
      ["tokens:", `  - { name: a, token: ${secret}, tenants: [] }`, `  - { name: a, token: short, tenants: [x] }`, `  - { name: c, token: ${secret}, sha256: abc, tenants: ["bad tenant"] , extra: 1 }`].join("\n"),
    );
    const r = await run(["--transport", "http", "--auth.tokensFile", f]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/tokens\[0\]\.tenants: must be a non-empty list/);
    expect(r.err).toMatch(/tokens\[1\]\.name: duplicate name "a"/);
    expect(r.err).toMatch(/tokens\[1\]\.token: give exactly one of sha256/);
    expect(r.err).toMatch(/tokens\[2\]\.extra: unknown key/);
    expect(r.err).not.toContain(secret);
  });

  it("maps tokens (plain or as SHA-256) to the tenants they may see", () => {
    const plain = "plain-token-0123456789";
    const hashed = "hashed-token-0123456789";
    const t = loadTokens(
      file("tokens.yaml", ["tokens:", `  - { name: ops, token: ${plain}, tenants: ["*"] }`, `  - { name: team-a, sha256: ${createHash("sha256").update(hashed).digest("hex")}, tenants: [team-a, team-c] }`].join("\n")),
    );
    expect(t.size).toBe(2);
    const ops = t.lookup(plain)!;
    const a = t.lookup(hashed)!;
    expect(ops.name).toBe("ops");
    expect(canSee(ops, "anything")).toBe(true);
    expect(a.name).toBe("team-a");
    expect([canSee(a, "team-a"), canSee(a, "team-c"), canSee(a, "team-b")]).toEqual([true, true, false]);
    expect(t.lookup("unknown-token-0123456789")).toBeUndefined();
    expect(t.lookup(createHash("sha256").update(hashed).digest("hex"))).toBeUndefined();
  });

  it("documents every setting of the command in docs/mcp.md", () => {
    const doc = fs.readFileSync(path.resolve(import.meta.dirname, "../../../../docs/mcp.md"), "utf8");
    const own = leavesOf(mcpConfigSchema.fields).filter((l) => ["transport", "dir", "listen", "auth", "stdio", "limits"].includes(l.path[0]!));
    expect(own.length).toBeGreaterThan(10);
    for (const l of own) expect(doc, l.path.join(".")).toContain(`\`${l.path.join(".")}\``);
  });

  it("prints its settings with --help", async () => {
    const r = await run(["--help"]);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/--limits\.maxResultBytes/);
    expect(r.out).toMatch(/--auth\.tokensFile/);
  });
});
