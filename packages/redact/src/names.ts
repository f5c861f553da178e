// Decides whether a field, env var, flag or annotation NAME says its value is a secret.

/** Last name segments that make a value a reference or metadata, not a secret (secretName, TOKEN_URL…). */
const NOT_SECRET_LAST = new Set([
  "name", "names", "ref", "refs", "file", "files", "path", "dir", "ttl", "type", "length", "policy",
  "id", "ids", "enabled", "expiry", "expires", "expiration", "seconds", "url", "uri", "endpoint",
  "header", "prefix", "version", "count", "size", "mode", "format", "algorithm", "secrets", "keys",
  "tokens", "required", "timeout", "namespace", "selector",
]);
/** Segments that make a name secret wherever they appear. */
const SECRET_ANYWHERE = ["password", "passwd", "passphrase", "credential", "secret"];
/** Segments that make a name secret when they end it. `key` and `auth` need a prefix (`API_KEY`, not `key`). */
const SECRET_LAST = new Set(["token", "pass", "pwd", "pw", "apikey", "secret"]);
const SECRET_LAST_WITH_PREFIX = new Set(["key", "auth"]);

// Linear: single character classes and lookarounds of one character, no nested quantifiers.
const SPLIT = /[^A-Za-z0-9]+|(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])/;

/** Splits `apiKey`, `DB_PASSWORD`, `x-api-key`, `DBPassword` into lower-case segments. */
export function nameSegments(name: string): string[] {
  return name.split(SPLIT).filter((s) => s !== "").map((s) => s.toLowerCase());
}

const cache = new Map<string, boolean>();

/** True when a value stored under `name` should be treated as a secret. */
export function isSecretName(name: string): boolean {
  const hit = cache.get(name);
  if (hit !== undefined) return hit;
  const result = classify(name);
  // Names repeat endlessly (env names, log keys); the cache is bounded so odd input cannot grow it.
  if (cache.size > 10_000) cache.clear();
  cache.set(name, result);
  return result;
}

function classify(name: string): boolean {
  const segs = nameSegments(name);
  const last = segs[segs.length - 1];
  if (last === undefined || NOT_SECRET_LAST.has(last)) return false;
  if (segs.includes("public")) return false;
  if (SECRET_LAST.has(last)) return true;
  if (SECRET_LAST_WITH_PREFIX.has(last) && segs.length > 1) return true;
  return segs.some((s) => SECRET_ANYWHERE.some((w) => s.includes(w)));
}

/** Rule name for a secret found by its name: AWS secret keys get their own label. */
export function ruleForSecretName(name: string, fallback: string): string {
  const segs = nameSegments(name);
  if (segs.includes("aws") && (segs.includes("secret") || segs.includes("key"))) return "aws-secret-key";
  return fallback;
}
