// Configuration of `faro mcp`: transport, where stories and incidents are read, the tokens file, and every bound.
import fs from "node:fs";
import { createHash } from "node:crypto";
import { parse as parseYaml } from "yaml";
import { ConfigError, defineSchema, field, type ConfigIssue, type ConfigOf } from "@faro/config";

export const mcpConfigSchema = defineSchema("mcp", {
  transport: field.enum(["stdio", "http"], {
    description: "`stdio` for one local assistant that starts `faro mcp` itself (stdout carries the protocol); `http` for a shared server (Streamable HTTP at `/mcp`, bearer tokens).",
    default: "stdio",
    example: "http",
  }),
  dir: field.string({
    description: "Story files directory the writer writes (its `dir`), read-only.",
    default: "./faro-data/stories",
    example: "/var/lib/faro/stories",
  }),
  listen: field.object(
    {
      host: field.string({ description: "Address the HTTP transport listens on; only localhost unless set otherwise.", default: "127.0.0.1", example: "0.0.0.0" }),
      port: field.int({ description: "Port of the HTTP transport (`/mcp`, plus `/metrics` and `/healthz`); 0 picks a free port (printed on stderr).", default: 8790, example: 8080, min: 0, max: 65535 }),
    },
    { description: "The HTTP transport's listener." },
  ),
  auth: field.object(
    {
      tokensFile: field.string({
        description: "YAML file of bearer tokens (required with `transport: http`): `tokens: [{name, sha256 | token, tenants: [...]}]`; `tenants: [\"*\"]` sees every tenant. Re-read on SIGHUP.",
        optional: true,
        example: "/etc/faro/mcp-tokens.yaml",
      }),
    },
    { description: "Who may call the HTTP transport, and which tenants each caller sees." },
  ),
  stdio: field.object(
    {
      tenants: field.list({ description: "Tenants the stdio caller sees (`*` = all): the local user already reads the story files.", default: ["*"], example: ["team-a"] }),
    },
    { description: "The stdio transport's caller." },
  ),
  limits: field.object(
    {
      maxResultBytes: field.bytes({ description: "Largest result of one call (its JSON); a larger one is refused with an error that says how to narrow it.", default: "256KiB", example: "1MiB", min: 1024 }),
      maxRequestBytes: field.bytes({ description: "Largest HTTP request body (a larger one is refused with 413), and largest arguments of one call on any transport.", default: "64KiB", example: "16KiB", min: 512 }),
      maxPageSize: field.int({ description: "Most items one page of a list or search may hold (the `limit` argument's maximum).", default: 200, example: 50, min: 1, max: 10_000 }),
      maxPatternLength: field.int({ description: "Longest RE2 pattern search_logs accepts.", default: 256, example: 512, min: 1, max: 4096 }),
      ratePerMinute: field.int({ description: "Calls one caller (token, or the stdio caller) may make per minute; more are refused until the minute's budget refills.", default: 120, example: 600, min: 1 }),
      maxConcurrent: field.int({ description: "Calls served at the same time by this process; more are refused (busy) rather than queued.", default: 8, example: 32, min: 1 }),
      maxScan: field.int({ description: "Incident messages one call reads from FARO_INCIDENT at most (newest kept); the result says when it was cut.", default: 20_000, example: 100_000, min: 1 }),
      readTimeout: field.duration({ description: "A bus read that receives nothing for this long ends (the result says so).", default: "5s", example: "10s", min: 100 }),
    },
    { description: "Bounds of every call; each has a metric." },
  ),
});

export type McpConfig = ConfigOf<typeof mcpConfigSchema>;

/** Who is calling: a token's name (never the token) and the tenants it may see. */
export interface Principal {
  readonly name: string;
  /** "*" = every tenant. */
  readonly tenants: ReadonlySet<string> | "*";
}

export function canSee(p: Principal, tenant: string): boolean {
  return p.tenants === "*" || p.tenants.has(tenant);
}

export function principalOf(name: string, tenants: readonly string[]): Principal {
  return { name, tenants: tenants.includes("*") ? "*" : new Set(tenants) };
}

export interface TokenTable {
  /** The principal holding this bearer token, or undefined. Compares SHA-256 digests. */
  lookup(token: string): Principal | undefined;
  readonly size: number;
}

const sha256 = (s: string) => createHash("sha256").update(s, "utf8").digest("hex");
const TENANT = /^(\*|[A-Za-z0-9][A-Za-z0-9_-]{0,62})$/;

/** Reads and checks the tokens file; every problem at once as a ConfigError (exit 2) naming the entry and field. */
export function loadTokens(file: string): TokenTable {
  const issues: ConfigIssue[] = [];
  const src = { kind: "file" as const, file };
  let doc: unknown;
  try {
    doc = parseYaml(fs.readFileSync(file, "utf8"));
  } catch (err) {
    throw new ConfigError("mcp", [{ path: "auth.tokensFile", message: `cannot read the tokens file: ${(err as Error).message}`, value: file, source: src }]);
  }
  const list = (doc as { tokens?: unknown } | null)?.tokens;
  if (!Array.isArray(list) || list.length === 0) throw new ConfigError("mcp", [{ path: "tokens", message: "must be a non-empty list of {name, sha256 | token, tenants}", source: src }]);
  const byDigest = new Map<string, Principal>();
  const names = new Set<string>();
  list.forEach((t: unknown, i) => {
    const at = (k: string) => `tokens[${i}]${k ? `.${k}` : ""}`;
    if (typeof t !== "object" || t === null) return issues.push({ path: at(""), message: "must be a mapping", source: src });
    const { name, sha256: digest, token, tenants, ...rest } = t as Record<string, unknown>;
    for (const k of Object.keys(rest)) issues.push({ path: at(k), message: "unknown key (keys: name, sha256, token, tenants)", source: src });
    if (typeof name !== "string" || name === "") issues.push({ path: at("name"), message: "must be a non-empty string", source: src });
    else if (names.has(name)) issues.push({ path: at("name"), message: `duplicate name "${name}"`, source: src });
    else names.add(name);
    let d: string | undefined;
    if (typeof digest === "string" && /^[0-9a-f]{64}$/.test(digest) && token === undefined) d = digest;
    else if (typeof token === "string" && token.length >= 16 && digest === undefined) d = sha256(token);
    else issues.push({ path: at(typeof token === "string" ? "token" : "sha256"), message: "give exactly one of sha256 (64 lowercase hex digits of the token's SHA-256) or token (at least 16 characters)", source: src });
    if (!Array.isArray(tenants) || tenants.length === 0 || !tenants.every((x) => typeof x === "string" && TENANT.test(x)))
      issues.push({ path: at("tenants"), message: 'must be a non-empty list of tenant names or "*"', value: tenants, source: src });
    if (d !== undefined && byDigest.has(d)) issues.push({ path: at(""), message: "the same token appears twice", source: src });
    if (d !== undefined && typeof name === "string" && Array.isArray(tenants)) byDigest.set(d, principalOf(name, tenants as string[]));
  });
  if (issues.length > 0) throw new ConfigError("mcp", issues);
  return { lookup: (token) => byDigest.get(sha256(token)), size: byDigest.size };
}
