// The typed schema DSL: field builders, the TypeScript types inferred from them, and value coercion.
import { SchemaError } from "./errors.js";
import { formatBytes, formatDuration, parseBytes, parseDuration } from "./units.js";

export type FieldKind =
  | "string"
  | "int"
  | "number"
  | "boolean"
  | "enum"
  | "duration"
  | "bytes"
  | "url"
  | "list"
  | "map"
  | "object"
  | "array";

/** One schema field. `T` is the value type the loaded config holds (phantom, never set at run time). */
export interface Field<T = unknown> {
  readonly kind: FieldKind;
  readonly description: string;
  /** Default in the form a user would write it (e.g. "5s"); absent when the field has none. */
  readonly default?: unknown;
  readonly example?: unknown;
  /** True when the field may stay unset (its value is then `undefined`). */
  readonly optional: boolean;
  readonly min?: number;
  readonly max?: number;
  readonly pattern?: RegExp;
  /** Human wording of `pattern` for error messages and docs. */
  readonly patternHint?: string;
  readonly values?: readonly string[];
  readonly protocols?: readonly string[];
  /** url fields: several URLs separated by commas are accepted. */
  readonly multiple?: boolean;
  readonly fields?: Fields;
  readonly item?: Field<unknown>;
  readonly __type?: T;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Fields = { readonly [key: string]: Field<any> };
export type ValueOf<F> = F extends Field<infer T> ? T : never;
export type ValuesOf<F extends Fields> = { readonly [K in keyof F]: ValueOf<F[K]> };

/** `undefined` joins the value type only for optional fields without a default. */
type OptionalOf<O> = O extends { optional: true } ? (O extends { default: unknown } ? never : undefined) : never;

interface BaseOpts<I> {
  description: string;
  default?: I;
  example?: I;
  optional?: boolean;
}
interface RangeOpts<I> extends BaseOpts<I> {
  min?: number;
  max?: number;
}
interface StringOpts extends BaseOpts<string> {
  pattern?: RegExp;
  patternHint?: string;
}

function make<T>(kind: FieldKind, o: BaseOpts<unknown> & Partial<Field<unknown>>, extra: Partial<Field<unknown>> = {}): Field<T> {
  const { optional, ...rest } = o;
  return Object.freeze({ ...rest, ...extra, kind, optional: optional === true }) as Field<T>;
}

/** Builders for schema fields: `field.int({ description, default: 4, min: 1 })`. */
export const field = {
  string<const O extends StringOpts>(o: O): Field<string | OptionalOf<O>> {
    return make("string", o);
  },
  int<const O extends RangeOpts<number>>(o: O): Field<number | OptionalOf<O>> {
    return make("int", o);
  },
  number<const O extends RangeOpts<number>>(o: O): Field<number | OptionalOf<O>> {
    return make("number", o);
  },
  boolean<const O extends BaseOpts<boolean>>(o: O): Field<boolean | OptionalOf<O>> {
    return make("boolean", o);
  },
  enum<const V extends readonly [string, ...string[]], const O extends BaseOpts<V[number]>>(
    values: V,
    o: O,
  ): Field<V[number] | OptionalOf<O>> {
    return make("enum", o, { values });
  },
  /** A duration written as "250ms", "5s", "1m30s"; the loaded value is milliseconds. */
  duration<const O extends RangeOpts<string>>(o: O): Field<number | OptionalOf<O>> {
    return make("duration", o);
  },
  /** A byte size written as "16KiB", "1MiB", "1.5GB" or a plain number; the loaded value is bytes. */
  bytes<const O extends RangeOpts<string | number>>(o: O): Field<number | OptionalOf<O>> {
    return make("bytes", o);
  },
  url<const O extends BaseOpts<string> & { protocols?: readonly string[]; multiple?: boolean }>(o: O): Field<string | OptionalOf<O>> {
    return make("url", o);
  },
  /** A list of strings; comma-separated in environment variables and flags. */
  list<const O extends BaseOpts<readonly string[]> & { pattern?: RegExp; patternHint?: string }>(o: O): Field<readonly string[] | OptionalOf<O>> {
    return make("list", o);
  },
  /** A map of string to string; `k=v,k2=v2` in environment variables and flags. */
  map<const O extends BaseOpts<Readonly<Record<string, string>>>>(o: O): Field<Readonly<Record<string, string>> | OptionalOf<O>> {
    return make("map", o);
  },
  /** A nested group of fields; always present (its fields carry the defaults). */
  object<const F extends Fields>(fields: F, o: { description: string }): Field<ValuesOf<F>> {
    return make("object", { description: o.description }, { fields });
  },
  /** An array of items (usually objects); JSON in environment variables and flags. */
  array<I extends Field<unknown>, const O extends RangeOpts<readonly unknown[]>>(
    item: I,
    o: O,
  ): Field<readonly ValueOf<I>[] | OptionalOf<O>> {
    return make("array", o, { item });
  },
};

/** Short type name plus constraints, used in docs and in "allowed:" of error messages. */
export function describeField(f: Field<unknown>): string {
  const range = (fmt: (n: number) => string) =>
    f.min !== undefined && f.max !== undefined
      ? ` ${fmt(f.min)}..${fmt(f.max)}`
      : f.min !== undefined
        ? ` >= ${fmt(f.min)}`
        : f.max !== undefined
          ? ` <= ${fmt(f.max)}`
          : "";
  switch (f.kind) {
    case "string":
      return f.pattern ? `string matching ${f.patternHint ?? f.pattern.source}` : "string";
    case "int":
      return `integer${range(String)}`;
    case "number":
      return `number${range(String)}`;
    case "boolean":
      return "boolean (true/false)";
    case "enum":
      return `one of ${f.values!.join(", ")}`;
    case "duration":
      return `duration like 250ms, 5s, 5m, 1h${range(formatDuration)}`;
    case "bytes":
      return `byte size like 16KiB, 1MiB${range(formatBytes)}`;
    case "url":
      return `${f.multiple ? "URL or comma-separated URLs" : "URL"}${f.protocols ? ` (${f.protocols.map((p) => `${p}://`).join(", ")})` : ""}`;
    case "list":
      return f.pattern ? `list of strings matching ${f.patternHint ?? f.pattern.source} (comma-separated in env/flags)` : "list of strings (comma-separated in env/flags)";
    case "map":
      return "map of strings (k=v,k2=v2 in env/flags)";
    case "object":
      return "object";
    case "array":
      return `array of ${f.item!.kind === "object" ? "objects" : describeField(f.item!)}${range(String).replace(/^ /, " with ")}${f.min !== undefined || f.max !== undefined ? " items" : ""} (JSON in env/flags)`;
  }
}

export type PathSeg = string | number;
export function formatPath(segs: readonly PathSeg[]): string {
  let out = "";
  for (const s of segs) out += typeof s === "number" ? `[${s}]` : out === "" ? s : `.${s}`;
  return out;
}

/** Receives each problem found while coercing a value. */
export type Reporter = (path: readonly PathSeg[], message: string, value: unknown, allowed?: string) => void;

const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);

/** Closest candidate by edit distance, for "did you mean" hints on typos. */
export function closest(word: string, candidates: Iterable<string>): string | undefined {
  let best: string | undefined;
  let bestD = Infinity;
  for (const c of candidates) {
    const d = editDistance(word.toLowerCase(), c.toLowerCase());
    if (d < bestD) [best, bestD] = [c, d];
  }
  return best !== undefined && bestD <= Math.max(2, Math.floor(word.length / 3)) ? best : undefined;
}
function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++)
      cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = cur;
  }
  return prev[b.length]!;
}

/** Reports keys of `obj` that the schema does not know; returns whether all keys were known. */
export function checkUnknownKeys(fields: Fields, obj: Record<string, unknown>, path: readonly PathSeg[], report: Reporter): void {
  for (const key of Object.keys(obj)) {
    if (key in fields) continue;
    const hint = closest(key, Object.keys(fields));
    report([...path, key], `unknown key${hint ? ` (did you mean "${hint}"?)` : ""}`, undefined, `keys here: ${Object.keys(fields).join(", ")}`);
  }
}

const NOPE = Symbol("invalid");

/**
 * Coerces one raw value (from YAML, or text from env/flags when `fromText`) into the field's type,
 * reporting every problem; returns undefined after reporting.
 */
export function coerce(f: Field<unknown>, raw: unknown, path: readonly PathSeg[], fromText: boolean, report: Reporter): unknown {
  const bad = (message: string) => {
    report(path, message, raw, describeField(f));
    return NOPE;
  };
  const inRange = (n: number, fmt: (n: number) => string = String) => {
    if (f.min !== undefined && n < f.min) return bad(`must be at least ${fmt(f.min)}`);
    if (f.max !== undefined && n > f.max) return bad(`must be at most ${fmt(f.max)}`);
    return n;
  };
  const scalarText = (v: unknown) => (typeof v === "string" || typeof v === "number" || typeof v === "boolean" ? String(v) : undefined);
  const out = ((): unknown => {
    switch (f.kind) {
      case "string": {
        const s = scalarText(raw);
        if (s === undefined) return bad("expected a string");
        if (f.pattern && !f.pattern.test(s)) return bad("does not match the required format");
        return s;
      }
      case "int":
      case "number": {
        let n: number;
        if (typeof raw === "number") n = raw;
        else if (typeof raw === "string" && /^\s*-?\d+(\.\d+)?([eE][-+]?\d+)?\s*$/.test(raw)) n = Number(raw);
        else return bad(`expected ${f.kind === "int" ? "an integer" : "a number"}`);
        if (!Number.isFinite(n) || (f.kind === "int" && !Number.isInteger(n)))
          return bad(`expected ${f.kind === "int" ? "an integer" : "a finite number"}`);
        return inRange(n);
      }
      case "boolean": {
        if (typeof raw === "boolean") return raw;
        const s = typeof raw === "string" ? raw.trim().toLowerCase() : undefined;
        if (s !== undefined && ["true", "1", "yes", "on"].includes(s)) return true;
        if (s !== undefined && ["false", "0", "no", "off"].includes(s)) return false;
        return bad("expected a boolean");
      }
      case "enum": {
        const s = scalarText(raw);
        if (s === undefined || !f.values!.includes(s)) return bad("not an allowed value");
        return s;
      }
      case "duration": {
        const ms = raw === 0 ? 0 : typeof raw === "string" ? parseDuration(raw) : undefined;
        if (ms === undefined)
          return bad(typeof raw === "number" ? "a bare number is ambiguous; add a unit" : "expected a duration");
        return inRange(ms, formatDuration);
      }
      case "bytes": {
        const n = typeof raw === "number" && Number.isInteger(raw) && raw >= 0 ? raw : typeof raw === "string" ? parseBytes(raw) : undefined;
        if (n === undefined) return bad("expected a byte size");
        return inRange(n, formatBytes);
      }
      case "url": {
        if (typeof raw !== "string") return bad("expected a URL string");
        // A multi-URL field (nats.url) holds several servers separated by commas; each must be valid.
        const parts = f.multiple ? raw.split(",").map((p) => p.trim()).filter((p) => p !== "") : [raw];
        if (parts.length === 0) return bad("not a valid URL");
        for (const part of parts) {
          let u: URL;
          try {
            u = new URL(part);
          } catch {
            // Not swallowed: reported to the user as the config problem it is.
            return bad(parts.length > 1 ? `not a valid URL: "${part}"` : "not a valid URL");
          }
          if (f.protocols && !f.protocols.includes(u.protocol.replace(/:$/, ""))) return bad(`unsupported scheme ${u.protocol}//`);
        }
        return raw;
      }
      case "list": {
        const list = fromText && typeof raw === "string" ? raw.split(",").map((s) => s.trim()).filter((s) => s !== "") : raw;
        if (!Array.isArray(list)) return bad("expected a list");
        const items = list.map((v, i) => {
          const s = scalarText(v);
          if (s === undefined) report([...path, i], "expected a string", v, "string");
          else if (f.pattern && !f.pattern.test(s)) {
            report([...path, i], "does not match the required format", v, `string matching ${f.patternHint ?? f.pattern.source}`);
            return undefined;
          }
          return s;
        });
        return items.some((s) => s === undefined) ? NOPE : items;
      }
      case "map": {
        if (fromText && typeof raw === "string") {
          const m: Record<string, string> = {};
          for (const part of raw.split(",").map((s) => s.trim()).filter((s) => s !== "")) {
            const eq = part.indexOf("=");
            if (eq <= 0) return bad(`entry "${part}" is not key=value`);
            m[part.slice(0, eq).trim()] = part.slice(eq + 1).trim();
          }
          return m;
        }
        if (!isPlainObject(raw)) return bad("expected a mapping of strings");
        const m: Record<string, string> = {};
        let ok = true;
        for (const [k, v] of Object.entries(raw)) {
          const s = scalarText(v);
          if (s === undefined) {
            report([...path, k], "expected a string", v, "string");
            ok = false;
          } else m[k] = s;
        }
        return ok ? m : NOPE;
      }
      case "object": {
        if (!isPlainObject(raw)) return bad("expected a mapping");
        return coerceObject(f.fields!, raw, path, report);
      }
      case "array": {
        let value = raw;
        if (fromText && typeof raw === "string") {
          try {
            value = JSON.parse(raw);
          } catch (err) {
            return bad(`not valid JSON (${(err as Error).message})`);
          }
        }
        if (!Array.isArray(value)) return bad("expected an array");
        if (f.min !== undefined && value.length < f.min) return bad(`needs at least ${f.min} items`);
        if (f.max !== undefined && value.length > f.max) return bad(`allows at most ${f.max} items`);
        let ok = true;
        const items = value.map((v, i) => {
          const c = coerce(f.item!, v, [...path, i], false, (...a) => {
            ok = false;
            report(...a);
          });
          return c;
        });
        return ok ? items : NOPE;
      }
    }
  })();
  return out === NOPE ? undefined : out;
}

/** Coerces a mapping against a group of fields, filling defaults and reporting unknown or missing keys. */
export function coerceObject(fields: Fields, raw: Record<string, unknown>, path: readonly PathSeg[], report: Reporter): Record<string, unknown> {
  checkUnknownKeys(fields, raw, path, report);
  const out: Record<string, unknown> = {};
  for (const [key, f] of Object.entries(fields)) {
    const p = [...path, key];
    const v = raw[key];
    if (v === undefined || v === null) out[key] = defaultValue(f, p, report);
    else out[key] = coerce(f, v, p, false, report);
  }
  return out;
}

/** The loaded value of a field nobody set: its coerced default, undefined if optional, else "required". */
export function defaultValue(f: Field<unknown>, path: readonly PathSeg[], report: Reporter): unknown {
  if (f.kind === "object") return coerceObject(f.fields!, {}, path, report);
  if ("default" in f && f.default !== undefined) return coerce(f, f.default, path, false, report);
  if (!f.optional) report(path, "required but not set", undefined, describeField(f));
  return undefined;
}

/** Checks a group of fields for programming errors: key names, invalid defaults and examples. */
export function validateFields(fields: Fields, path: readonly PathSeg[] = []): void {
  for (const [key, f] of Object.entries(fields)) {
    const p = [...path, key];
    // camelCase keys keep the env-var and flag mappings unambiguous (no "_" or "-" inside a key).
    if (!/^[a-z][a-zA-Z0-9]*$/.test(key)) throw new SchemaError(`key "${key}" must be camelCase letters and digits`, formatPath(p));
    if (!f.description) throw new SchemaError("every field needs a description", formatPath(p));
    const fail: Reporter = (at, message) => {
      throw new SchemaError(`invalid default or example: ${message}`, formatPath(at));
    };
    if (f.kind === "object") validateFields(f.fields!, p);
    else if (f.kind === "array" && f.item!.kind === "object") validateFields(f.item!.fields!, [...p, 0]);
    if (f.default !== undefined) coerce(f, f.default, p, false, fail);
    if (f.example !== undefined) coerce(f, f.example, p, false, fail);
  }
}
