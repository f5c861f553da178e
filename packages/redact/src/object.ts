// Deep redaction of Kubernetes objects and Events: structure and keys kept, secret values masked.
import { mask } from "./builtins.js";
import type { RuleHit, TextRedactor } from "./text.js";

const LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration";
const MAX_DEPTH = 100;

/** Thrown inside the walk; the redactor turns it into a RedactionError. */
export class WalkError extends Error {}

/** Walks a JSON-like value and returns a redacted copy; the input is never modified. */
export function redactValue(tr: TextRedactor, value: unknown, hits: RuleHit[]): unknown {
  return walk(tr, value, "", hits, 0);
}

function walk(tr: TextRedactor, value: unknown, path: string, hits: RuleHit[], depth: number): unknown {
  if (depth > MAX_DEPTH) throw new WalkError(`object nested deeper than ${MAX_DEPTH} at ${path || "(root)"}`);
  if (typeof value === "string") return tr.redact(value, (rule) => hits.push({ rule, path: path || "(root)" }));
  if (value === null || typeof value !== "object") return value;
  if (Array.isArray(value)) return walkArray(tr, value, path, hits, depth);
  return walkObject(tr, value as Record<string, unknown>, path, hits, depth);
}

function walkArray(tr: TextRedactor, arr: unknown[], path: string, hits: RuleHit[], depth: number): unknown[] {
  const out = arr.map((v, i) => walk(tr, v, `${path}[${i}]`, hits, depth + 1));
  // Container args / command lists: `--password` followed by its value as the next element.
  for (let i = 0; i + 1 < out.length; i++) {
    const flag = out[i];
    const next = out[i + 1];
    if (typeof flag !== "string" || typeof next !== "string" || !/^--?[A-Za-z]/.test(flag) || flag.includes("=")) continue;
    if (next.startsWith("-") || next.startsWith("[REDACTED")) continue;
    const rule = tr.ruleForName(flag.replace(/^-+/, ""), "secret-arg");
    if (rule === undefined) continue;
    out[i + 1] = mask(rule);
    hits.push({ rule, path: `${path}[${i + 1}]` });
  }
  return out;
}

function walkObject(tr: TextRedactor, obj: Record<string, unknown>, path: string, hits: RuleHit[], depth: number): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const isSecret = obj.kind === "Secret" && (obj.apiVersion === undefined || obj.apiVersion === "v1");
  // An env entry ({name, value}): the name says whether the value is secret. valueFrom refs stay.
  const envRule = typeof obj.name === "string" && typeof obj.value === "string" ? tr.ruleForName(obj.name, "secret-env") : undefined;
  for (const [key, v] of Object.entries(obj)) {
    const p = path === "" ? key : `${path}.${key}`;
    if (isSecret && (key === "data" || key === "stringData") && v !== null && typeof v === "object" && !Array.isArray(v)) {
      out[key] = maskAll(v as Record<string, unknown>, p, "secret-value", hits);
      continue;
    }
    if (key === "value" && envRule !== undefined) {
      out[key] = mask(envRule);
      hits.push({ rule: envRule, path: p });
      continue;
    }
    if (key === "annotations" && v !== null && typeof v === "object" && !Array.isArray(v)) {
      out[key] = walkAnnotations(tr, v as Record<string, unknown>, p, hits, depth + 1);
      continue;
    }
    if (typeof v === "string" || typeof v === "number") {
      const rule = tr.ruleForName(key, "secret-field");
      if (rule !== undefined && v !== "") {
        out[key] = mask(rule);
        hits.push({ rule, path: p });
        continue;
      }
    }
    out[key] = walk(tr, v, p, hits, depth + 1);
  }
  return out;
}

function maskAll(data: Record<string, unknown>, path: string, rule: string, hits: RuleHit[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(data)) {
    out[k] = mask(rule);
    hits.push({ rule, path: `${path}.${k}` });
  }
  return out;
}

function walkAnnotations(tr: TextRedactor, ann: Record<string, unknown>, path: string, hits: RuleHit[], depth: number): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(ann)) {
    const p = `${path}.${key}`;
    if (key === LAST_APPLIED && typeof v === "string") {
      out[key] = redactEmbeddedManifest(tr, v, p, hits, depth);
      continue;
    }
    const rule = typeof v === "string" && v !== "" ? tr.ruleForName(key, "secret-field") : undefined;
    if (rule !== undefined) {
      out[key] = mask(rule);
      hits.push({ rule, path: p });
      continue;
    }
    out[key] = walk(tr, v, p, hits, depth + 1);
  }
  return out;
}

/** The annotation holds a whole manifest (Secrets included): parse, redact, re-serialise; mask if unparsable. */
function redactEmbeddedManifest(tr: TextRedactor, text: string, path: string, hits: RuleHit[], depth: number): string {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    // Not an error of ours: an unparsable annotation is masked whole and the hit says so.
    hits.push({ rule: "last-applied-configuration", path });
    return mask("last-applied-configuration");
  }
  const redacted = walk(tr, parsed, path, hits, depth + 1);
  return JSON.stringify(redacted) + (text.endsWith("\n") ? "\n" : "");
}
