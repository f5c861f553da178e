// Retention of story files: removes files older than the maximum age of the first policy matching their tenant and
// namespace (else the default maximum age), and temp files a crashed writer left.
import fs from "node:fs/promises";
import path from "node:path";
import { CLUSTER_SCOPE_TOKEN } from "@faro/contracts";
import { compileNamePattern, type NamePattern } from "@faro/primitives";
import { isTempFile } from "./atomic.js";

/** One policy as configured (`retention.policies[i]`). */
export interface RetentionPolicyConfig {
  name?: string | undefined;
  tenant?: string | undefined;
  namespace?: string | undefined;
  maxAge: number;
}

/** A compiled policy: patterns ready to match. */
export interface RetentionPolicy {
  name: string;
  tenant: NamePattern | undefined;
  namespace: NamePattern | undefined;
  /** 0 keeps matching files forever. */
  maxAgeMs: number;
}

/** The policies in order and the maximum age of files none matches (policy `default`). */
export interface RetentionRules {
  policies: readonly RetentionPolicy[];
  defaultMaxAgeMs: number;
}

export interface RetentionResult {
  deleted: string[];
  tempRemoved: string[];
  errors: Array<{ file: string; err: unknown }>;
  /** Files deleted by each policy's name (`default` for files no policy matched). */
  byPolicy: Record<string, number>;
}

/** A temp file this old belongs to a writer that died mid-write (a write takes milliseconds). */
export const STALE_TEMP_MS = 5 * 60_000;

/** The label of files no policy matched. */
export const DEFAULT_POLICY = "default";

/** Compiles the configured policies; a bad pattern throws PatternError (the service definition turns it into a ConfigError naming the field). */
export function compileRetentionPolicies(policies: readonly RetentionPolicyConfig[], defaultMaxAgeMs: number): RetentionRules {
  return {
    defaultMaxAgeMs,
    policies: policies.map((p, i) => ({
      name: p.name ?? `policy-${i}`,
      tenant: p.tenant === undefined ? undefined : compileNamePattern(p.tenant),
      namespace: p.namespace === undefined ? undefined : compileNamePattern(p.namespace),
      maxAgeMs: p.maxAge,
    })),
  };
}

/** The story's tenant as its file says (undefined when unreadable: then no tenant-bound policy matches). */
async function tenantOf(file: string): Promise<string | undefined> {
  try {
    const v = JSON.parse(await fs.readFile(file, "utf8")) as { tenant?: unknown };
    return typeof v.tenant === "string" ? v.tenant : undefined;
  } catch {
    // A file being replaced or not JSON: it keeps the policies that need no tenant (and is retried next scan).
    return undefined;
  }
}

/** The first policy matching the file (namespace from its folder, tenant read from it only when a policy needs it). */
async function policyFor(rules: RetentionRules, namespace: string, file: string, ageMs: number, tenants: Map<string, string | undefined>): Promise<{ name: string; maxAgeMs: number }> {
  const candidates = rules.policies.filter((p) => !p.namespace || p.namespace(namespace));
  // Files younger than every maximum age that could apply are kept without reading them.
  const ages = [...candidates.map((p) => p.maxAgeMs), rules.defaultMaxAgeMs].filter((a) => a > 0);
  if (ages.length === 0 || ageMs <= Math.min(...ages)) return { name: "", maxAgeMs: 0 };
  let tenant: string | undefined | null = null;
  for (const p of candidates) {
    if (p.tenant) {
      if (tenant === null) {
        tenant = tenants.has(file) ? tenants.get(file) : await tenantOf(file);
        tenants.set(file, tenant);
      }
      if (tenant === undefined || !p.tenant(tenant)) continue;
    }
    return p;
  }
  return { name: DEFAULT_POLICY, maxAgeMs: rules.defaultMaxAgeMs };
}

/**
 * Removes `*.json` story files (and their `*.html` pages) in `dir`'s namespace folders not modified for the maximum age of
 * their policy (a number: one maximum age for all; 0 = keep forever), and temp files older than STALE_TEMP_MS. Missing
 * directories are fine. An HTML page follows the policy of its story file (same folder, same stem, same tenant).
 */
export async function scanRetention(dir: string, rules: number | RetentionRules, nowMs: number = Date.now()): Promise<RetentionResult> {
  const r: RetentionRules = typeof rules === "number" ? { policies: [], defaultMaxAgeMs: rules } : rules;
  const result: RetentionResult = { deleted: [], tempRemoved: [], errors: [], byPolicy: {} };
  let namespaces: string[];
  try {
    namespaces = (await fs.readdir(dir, { withFileTypes: true })).filter((d) => d.isDirectory()).map((d) => d.name);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "ENOENT") result.errors.push({ file: dir, err });
    return result;
  }
  for (const ns of namespaces) {
    const nsDir = path.join(dir, ns);
    // The folder of cluster-scoped stories stands for the empty namespace; others are the namespace (encoded when unsafe).
    const namespace = ns === CLUSTER_SCOPE_TOKEN ? "" : decodeURIComponent(ns);
    let names: string[];
    try {
      names = await fs.readdir(nsDir);
    } catch (err) {
      result.errors.push({ file: nsDir, err });
      continue;
    }
    // Tenants read in this folder, so a page removed after its story file still finds the story's tenant.
    const tenants = new Map<string, string | undefined>();
    names.sort((a, b) => Number(a.endsWith(".html")) - Number(b.endsWith(".html")));
    for (const name of names) {
      const temp = isTempFile(name);
      // Story files, and the HTML pages written beside them (html.enabled).
      if (!temp && !name.endsWith(".json") && !name.endsWith(".html")) continue;
      const file = path.join(nsDir, name);
      try {
        const st = await fs.stat(file);
        const age = nowMs - st.mtimeMs;
        if (temp) {
          if (age > STALE_TEMP_MS) {
            await fs.rm(file, { force: true });
            result.tempRemoved.push(file);
          }
          continue;
        }
        // A page's tenant is its story file's.
        const source = name.endsWith(".html") ? file.replace(/\.html$/, ".json") : file;
        const policy = await policyFor(r, namespace, source, age, tenants);
        if (policy.maxAgeMs > 0 && age > policy.maxAgeMs) {
          await fs.rm(file, { force: true });
          result.deleted.push(file);
          result.byPolicy[policy.name] = (result.byPolicy[policy.name] ?? 0) + 1;
        }
      } catch (err) {
        // Another replica removed or replaced it between readdir and stat: nothing to do.
        if ((err as NodeJS.ErrnoException).code !== "ENOENT") result.errors.push({ file, err });
      }
    }
  }
  return result;
}
