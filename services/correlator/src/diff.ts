// Structural diff of two versions of a Kubernetes object, without the fields that change on every write.

export interface DiffOp {
  /** JSON-pointer-like path, e.g. "/spec/template/spec/containers/0/image". */
  path: string;
  op: "add" | "remove" | "replace";
  from?: unknown;
  to?: unknown;
}

// Bookkeeping the API server rewrites on every update; a diff that shows them says nothing.
const NOISE_PATHS = new Set([
  "/metadata/resourceVersion",
  "/metadata/managedFields",
  "/metadata/generation",
  "/status/observedGeneration",
]);
const NOISE_ANNOTATIONS = new Set(["kubectl.kubernetes.io/last-applied-configuration", "deployment.kubernetes.io/revision"]);

function escapePointer(key: string): string {
  return key.replace(/~/g, "~0").replace(/\//g, "~1");
}

// Heartbeats (Node conditions) are rewritten every few seconds without anything happening.
const NOISE_LEAVES = new Set(["lastHeartbeatTime"]);

function isNoise(path: string): boolean {
  if (NOISE_PATHS.has(path)) return true;
  if (NOISE_LEAVES.has(path.slice(path.lastIndexOf("/") + 1))) return true;
  if (path.startsWith("/metadata/managedFields/")) return true;
  if (path.startsWith("/metadata/annotations/")) {
    const key = path.slice("/metadata/annotations/".length).replace(/~1/g, "/").replace(/~0/g, "~");
    return NOISE_ANNOTATIONS.has(key);
  }
  return false;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === "object" && !Array.isArray(v);
}

function walk(a: unknown, b: unknown, path: string, out: DiffOp[], limit: number): void {
  if (out.length >= limit || isNoise(path)) return;
  if (isObject(a) && isObject(b)) {
    const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
    for (const k of [...keys].sort()) {
      const p = `${path}/${escapePointer(k)}`;
      if (!(k in b)) {
        if (!isNoise(p)) out.push({ path: p, op: "remove", from: a[k] });
      } else if (!(k in a)) {
        if (!isNoise(p)) out.push({ path: p, op: "add", to: b[k] });
      } else {
        walk(a[k], b[k], p, out, limit);
      }
      if (out.length >= limit) return;
    }
    return;
  }
  if (Array.isArray(a) && Array.isArray(b)) {
    const n = Math.max(a.length, b.length);
    for (let i = 0; i < n; i++) {
      const p = `${path}/${i}`;
      if (i >= b.length) out.push({ path: p, op: "remove", from: a[i] });
      else if (i >= a.length) out.push({ path: p, op: "add", to: b[i] });
      else walk(a[i], b[i], p, out, limit);
      if (out.length >= limit) return;
    }
    return;
  }
  if (a === b) return;
  if (typeof a !== "object" && typeof b !== "object" && a === b) return;
  if (JSON.stringify(a) === JSON.stringify(b)) return;
  out.push({ path: path || "/", op: "replace", from: a, to: b });
}

/** The changes from `prev` to `next`, noise left out, at most `limit` operations, in a stable order. */
export function diffObjects(prev: unknown, next: unknown, limit = 200): DiffOp[] {
  const out: DiffOp[] = [];
  walk(prev, next, "", out, limit);
  return out;
}
