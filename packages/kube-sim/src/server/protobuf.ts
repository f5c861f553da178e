// Decodes the Kubernetes protobuf encoding (`application/vnd.kubernetes.protobuf`) of built-in kinds into the
// JSON form the store keeps, using the field tables generated from k8s.io/api (scripts/gen-protobuf-schema.ts).
import fs from "node:fs";
import { ApiError } from "../errors.js";

/** [field number, JSON name, optional|repeated|map, type ("K,V" for maps)] */
type Field = [number, string, "o" | "r" | "m", string];
interface Schema {
  kinds: Record<string, string>;
  messages: Record<string, Field[]>;
}

export const PROTOBUF_CT = "application/vnd.kubernetes.protobuf";
/** "k8s\0": the prefix of every Kubernetes protobuf body. */
const MAGIC = Buffer.from([0x6b, 0x38, 0x73, 0x00]);
const META = "k8s.io.apimachinery.pkg.apis.meta.v1";

let schema: Schema | undefined;
function loadSchema(): Schema {
  schema ??= JSON.parse(fs.readFileSync(new URL("./protobuf-schema.json", import.meta.url), "utf8")) as Schema;
  return schema;
}

const fieldIndex = new Map<string, Map<number, Field>>();
function fieldsOf(message: string): Map<number, Field> {
  let idx = fieldIndex.get(message);
  if (!idx) {
    const fields = loadSchema().messages[message];
    if (!fields) throw new ProtobufError(`no protobuf schema for ${message}`);
    idx = new Map(fields.map((f) => [f[0], f]));
    fieldIndex.set(message, idx);
  }
  return idx;
}

class ProtobufError extends Error {
  override readonly name = "ProtobufError";
}

/** A cursor over protobuf wire data. */
class Reader {
  pos = 0;
  constructor(readonly buf: Buffer) {}
  done(): boolean {
    return this.pos >= this.buf.length;
  }
  varint(): bigint {
    let result = 0n;
    let shift = 0n;
    for (;;) {
      if (this.pos >= this.buf.length) throw new ProtobufError("truncated varint");
      const b = this.buf[this.pos++]!;
      result |= BigInt(b & 0x7f) << shift;
      if ((b & 0x80) === 0) return result;
      shift += 7n;
      if (shift > 70n) throw new ProtobufError("varint too long");
    }
  }
  bytes(): Buffer {
    const len = Number(this.varint());
    if (this.pos + len > this.buf.length) throw new ProtobufError("truncated length-delimited field");
    const b = this.buf.subarray(this.pos, this.pos + len);
    this.pos += len;
    return b;
  }
  skip(wire: number): void {
    if (wire === 0) this.varint();
    else if (wire === 1) this.pos += 8;
    else if (wire === 2) this.bytes();
    else if (wire === 5) this.pos += 4;
    else throw new ProtobufError(`unsupported wire type ${wire}`);
  }
}

function scalar(type: string, r: Reader, wire: number): unknown {
  switch (type) {
    case "string":
      return r.bytes().toString("utf8");
    case "bytes":
      return r.bytes().toString("base64");
    case "bool":
      return r.varint() !== 0n;
    case "int32":
      return Number(BigInt.asIntN(32, r.varint()));
    case "int64":
      return Number(BigInt.asIntN(64, r.varint()));
    case "uint32":
    case "uint64":
      return Number(r.varint());
    case "double": {
      const v = r.buf.readDoubleLE(r.pos);
      r.pos += 8;
      return v;
    }
    case "float": {
      const v = r.buf.readFloatLE(r.pos);
      r.pos += 4;
      return v;
    }
    default:
      throw new ProtobufError(`unsupported scalar type ${type} (wire type ${wire})`);
  }
}

/** RFC 3339 as Kubernetes writes it: whole seconds for Time, microseconds for MicroTime. */
function rfc3339(seconds: number, nanos: number, micro: boolean): string {
  const base = new Date(seconds * 1000).toISOString().slice(0, 19);
  return micro ? `${base}.${String(Math.floor(nanos / 1000)).padStart(6, "0")}Z` : `${base}Z`;
}

/** Messages whose JSON form is not an object. `undefined` drops the field (a zero Time is omitted in JSON). */
function special(type: string, m: Record<string, unknown>): { value: unknown } | undefined {
  switch (type) {
    case `${META}.Time`:
    case `${META}.MicroTime`: {
      const s = (m.seconds as number | undefined) ?? 0;
      const n = (m.nanos as number | undefined) ?? 0;
      return { value: s === 0 && n === 0 ? undefined : rfc3339(s, n, type.endsWith("MicroTime")) };
    }
    case "k8s.io.apimachinery.pkg.api.resource.Quantity":
      return { value: m.string ?? "0" };
    case "k8s.io.apimachinery.pkg.util.intstr.IntOrString":
      return { value: m.type === 1 ? (m.strVal ?? "") : (m.intVal ?? 0) };
    case "k8s.io.apimachinery.pkg.runtime.RawExtension":
    case `${META}.FieldsV1`: {
      const raw = (m.raw ?? m.Raw) as string | undefined;
      return { value: raw ? JSON.parse(Buffer.from(raw, "base64").toString("utf8")) : undefined };
    }
    case `${META}.Duration`:
      return { value: `${((m.duration as number | undefined) ?? 0) / 1e9}s` };
    default:
      return undefined;
  }
}

function value(type: string, r: Reader, wire: number): unknown {
  if (type.includes(".")) {
    const m = decodeMessage(type, r.bytes());
    const s = special(type, m);
    return s ? s.value : m;
  }
  return scalar(type, r, wire);
}

function decodeMessage(type: string, buf: Buffer): Record<string, unknown> {
  const fields = fieldsOf(type);
  const r = new Reader(buf);
  const out: Record<string, unknown> = {};
  while (!r.done()) {
    const tag = Number(r.varint());
    const num = tag >>> 3;
    const wire = tag & 7;
    const f = fields.get(num);
    if (!f) {
      r.skip(wire);
      continue;
    }
    const [, name, mode, ftype] = f;
    if (mode === "m") {
      const [kt, vt] = ftype.split(",") as [string, string];
      const entry = new Reader(r.bytes());
      let k: unknown = "";
      let v: unknown = vt === "string" || vt === "bytes" ? "" : vt.includes(".") ? special(vt, {})?.value ?? {} : 0;
      while (!entry.done()) {
        const et = Number(entry.varint());
        if (et >>> 3 === 1) k = value(kt, entry, et & 7);
        else if (et >>> 3 === 2) v = value(vt, entry, et & 7);
        else entry.skip(et & 7);
      }
      const map = (out[name] ??= {}) as Record<string, unknown>;
      map[String(k)] = v;
    } else if (mode === "r") {
      const list = (out[name] ??= []) as unknown[];
      if (wire === 2 && !ftype.includes(".") && ftype !== "string" && ftype !== "bytes") {
        const packed = new Reader(r.bytes()); // packed scalars
        while (!packed.done()) list.push(scalar(ftype, packed, 0));
      } else list.push(value(ftype, r, wire));
    } else {
      const v = value(ftype, r, wire);
      // Go writes every non-pointer string; JSON omits empty ones (omitempty), and so does the store.
      if (v === undefined || v === "") delete out[name];
      else out[name] = v;
    }
  }
  return out;
}

/**
 * The JSON object of a protobuf request body: the `k8s\0` magic, a runtime.Unknown envelope naming
 * apiVersion and kind, and the object's own message. Kinds without a schema answer 415 like an API
 * server that cannot decode the media type.
 */
export function decodeProtobufObject(body: Buffer): Record<string, unknown> {
  if (body.length < 4 || !body.subarray(0, 4).equals(MAGIC)) {
    throw new ApiError(400, "BadRequest", "provided data does not appear to be a protobuf message, expected prefix [107 56 115 0]");
  }
  try {
    const envelope = decodeMessage("k8s.io.apimachinery.pkg.runtime.Unknown", body.subarray(4));
    const tm = (envelope.typeMeta ?? {}) as { apiVersion?: string; kind?: string };
    const apiVersion = tm.apiVersion ?? "";
    const kind = tm.kind ?? "";
    const message = loadSchema().kinds[`${apiVersion}/${kind}`];
    if (!message) {
      throw new ApiError(415, "UnsupportedMediaType", `the body of the request was in an unknown format - accepted media types include: ${ACCEPTED_BODY_TYPES.join(", ")} (no protobuf schema for ${apiVersion}, Kind=${kind})`);
    }
    const raw = Buffer.from((envelope.raw as string | undefined) ?? "", "base64");
    return { apiVersion, kind, ...decodeMessage(message, raw) };
  } catch (err) {
    if (err instanceof ApiError) throw err;
    throw new ApiError(400, "BadRequest", `the object provided is unrecognized (protobuf): ${(err as Error).message}`, undefined, { cause: err });
  }
}

/** Media types a create/update body may use (what 415 answers list). */
export const ACCEPTED_BODY_TYPES = ["application/json", "application/yaml", PROTOBUF_CT];
