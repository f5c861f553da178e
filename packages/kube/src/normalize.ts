// Makes objects from lists, watches and client-node's typed APIs identical (no managedFields, Dates
// as RFC3339 strings, no undefined) and strips Secret values so they never leave this process.
export type JsonObject = { [k: string]: unknown };

/** RFC3339 like the API server: whole seconds when there is no fraction, else milliseconds. */
export function formatTime(d: Date): string {
  const iso = d.toISOString(); // YYYY-MM-DDTHH:MM:SS.mmmZ
  return d.getUTCMilliseconds() === 0 ? iso.slice(0, 19) + "Z" : iso;
}

function normalizeValue(v: unknown): unknown {
  if (v instanceof Date) return formatTime(v);
  if (Array.isArray(v)) return v.filter((x) => x !== undefined).map(normalizeValue);
  if (v !== null && typeof v === "object") {
    const out: JsonObject = {};
    for (const [k, x] of Object.entries(v as JsonObject)) {
      if (x === undefined) continue;
      out[k] = normalizeValue(x);
    }
    return out;
  }
  return v;
}

/**
 * Returns a normalised copy: metadata.managedFields removed, Date instances (client-node typed
 * results) turned into RFC3339 strings, undefined values dropped. Strings are left as the API sent
 * them, so raw list and watch JSON of the same object come out identical.
 */
export function normalizeObject<T = JsonObject>(obj: T): T {
  const out = normalizeValue(obj) as JsonObject;
  const meta = out.metadata as JsonObject | undefined;
  if (meta && typeof meta === "object" && "managedFields" in meta) delete meta.managedFields;
  return out as T;
}

export const LAST_APPLIED_ANNOTATION = "kubectl.kubernetes.io/last-applied-configuration";

export function isSecret(obj: unknown): boolean {
  const o = obj as JsonObject | null;
  return !!o && typeof o === "object" && o.kind === "Secret" && (o.apiVersion === undefined || o.apiVersion === "v1");
}

/**
 * For a Secret: keeps the keys of data/stringData with values replaced by "" and removes the
 * last-applied annotation (which holds the values too). Other objects are returned unchanged.
 * Always returns a copy for Secrets; never mutates the input.
 */
export function stripSecretValues<T = JsonObject>(obj: T): T {
  if (!isSecret(obj)) return obj;
  const src = obj as JsonObject;
  const out: JsonObject = { ...src };
  for (const field of ["data", "stringData"]) {
    const v = src[field];
    if (v && typeof v === "object") out[field] = Object.fromEntries(Object.keys(v as JsonObject).map((k) => [k, ""]));
    else if (v !== undefined) delete out[field]; // unexpected shape: drop rather than risk a value leaking
  }
  const meta = src.metadata as JsonObject | undefined;
  if (meta && typeof meta === "object") {
    const m: JsonObject = { ...meta };
    delete m.managedFields; // managedFields can list field paths only, but drop them for Secrets regardless
    const ann = meta.annotations as Record<string, string> | undefined;
    if (ann && LAST_APPLIED_ANNOTATION in ann) {
      const a = { ...ann };
      delete a[LAST_APPLIED_ANNOTATION];
      m.annotations = a;
    }
    out.metadata = m;
  }
  return out as T;
}
