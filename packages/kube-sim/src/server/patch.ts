// PATCH bodies: JSON merge patch (RFC 7386), JSON patch (RFC 6902) and Kubernetes strategic merge patch.
import { ApiError, badRequest } from "../errors.js";

type Json = unknown;
type Obj = Record<string, Json>;

const isObj = (v: Json): v is Obj => typeof v === "object" && v !== null && !Array.isArray(v);

/** RFC 7386: objects merge recursively, null deletes, everything else replaces. */
export function mergePatch(target: Json, patch: Json): Json {
  if (!isObj(patch)) return structuredClone(patch);
  const out: Obj = isObj(target) ? { ...target } : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = mergePatch(out[k], v);
  }
  return out;
}

function unescape(tok: string): string {
  return tok.replace(/~1/g, "/").replace(/~0/g, "~");
}

function pointer(path: string): string[] {
  if (path === "") return [];
  if (!path.startsWith("/")) throw badRequest(`invalid JSON pointer "${path}"`);
  return path.slice(1).split("/").map(unescape);
}

function failed(msg: string): ApiError {
  return new ApiError(422, "Invalid", `the server rejected our request due to an error in our request: ${msg}`);
}

function getAt(doc: Json, toks: string[]): Json {
  let cur = doc;
  for (const t of toks) {
    if (Array.isArray(cur)) cur = cur[Number(t)];
    else if (isObj(cur)) cur = cur[t];
    else return undefined;
  }
  return cur;
}

function parentOf(doc: Json, toks: string[], op: string, path: string): { parent: Obj | Json[]; key: string } {
  if (toks.length === 0) throw failed(`${op} at the document root is not supported`);
  const parent = getAt(doc, toks.slice(0, -1));
  if (!isObj(parent) && !Array.isArray(parent)) throw failed(`${op} operation does not apply: doc is missing path: "${path}"`);
  return { parent, key: toks[toks.length - 1]! };
}

/** RFC 6902 operations add/remove/replace/move/copy/test. */
export function jsonPatch(doc: Json, ops: Json): Json {
  if (!Array.isArray(ops)) throw badRequest("json patch must be an array of operations");
  let out = structuredClone(doc);
  for (const raw of ops) {
    if (!isObj(raw) || typeof raw.op !== "string" || typeof raw.path !== "string") throw badRequest("invalid json patch operation");
    const op = raw.op;
    const path = raw.path;
    const toks = pointer(path);
    const add = (target: string[], value: Json) => {
      if (target.length === 0) {
        out = structuredClone(value);
        return;
      }
      const { parent, key } = parentOf(out, target, op, path);
      if (Array.isArray(parent)) {
        const i = key === "-" ? parent.length : Number(key);
        if (!Number.isInteger(i) || i < 0 || i > parent.length) throw failed(`add operation does not apply: index out of range: "${path}"`);
        parent.splice(i, 0, structuredClone(value));
      } else parent[key] = structuredClone(value);
    };
    const remove = (target: string[]): Json => {
      const { parent, key } = parentOf(out, target, op, path);
      if (Array.isArray(parent)) {
        const i = Number(key);
        if (!Number.isInteger(i) || i < 0 || i >= parent.length) throw failed(`remove operation does not apply: doc is missing path: "${path}"`);
        return parent.splice(i, 1)[0];
      }
      if (!(key in parent)) throw failed(`remove operation does not apply: doc is missing path: "${path}"`);
      const v = parent[key];
      delete parent[key];
      return v;
    };
    switch (op) {
      case "add":
        add(toks, raw.value);
        break;
      case "remove":
        remove(toks);
        break;
      case "replace":
        remove(toks);
        add(toks, raw.value);
        break;
      case "move": {
        const from = pointer(String(raw.from ?? ""));
        add(toks, remove(from));
        break;
      }
      case "copy":
        add(toks, getAt(out, pointer(String(raw.from ?? ""))));
        break;
      case "test":
        if (JSON.stringify(getAt(out, toks)) !== JSON.stringify(raw.value)) throw failed(`testing value ${path} failed`);
        break;
      default:
        throw badRequest(`unknown json patch operation "${op}"`);
    }
  }
  return out;
}

/** Merge keys of the lists Kubernetes merges by key (from the API's patchMergeKey tags). */
function mergeKeyFor(field: string, items: Json[]): string | undefined {
  switch (field) {
    case "containers":
    case "initContainers":
    case "ephemeralContainers":
    case "env":
    case "volumes":
    case "imagePullSecrets":
    case "hostAliases":
      return field === "hostAliases" ? "ip" : "name";
    case "volumeMounts":
      return "mountPath";
    case "volumeDevices":
      return "devicePath";
    case "ports":
      return items.some((i) => isObj(i) && "containerPort" in i) ? "containerPort" : "port";
    case "conditions":
      return "type";
    case "ownerReferences":
      return "uid";
    case "topologySpreadConstraints":
      return "topologyKey";
    default:
      return undefined;
  }
}

/** Kubernetes strategic merge patch: like merge patch, but lists of known fields merge by key and directives apply. */
export function strategicMergePatch(target: Json, patch: Json): Json {
  if (!isObj(patch)) return structuredClone(patch);
  if (patch.$patch === "delete") return undefined;
  if (patch.$patch === "replace") {
    const { $patch: _p, ...rest } = patch;
    return stripDirectives(rest);
  }
  let out: Obj = isObj(target) ? { ...target } : {};
  const retain = patch.$retainKeys;
  const orders = new Map<string, Json[]>();
  for (const [k, v] of Object.entries(patch)) {
    if (k === "$patch" || k === "$retainKeys") continue;
    if (k.startsWith("$setElementOrder/")) {
      if (Array.isArray(v)) orders.set(k.slice("$setElementOrder/".length), v);
      continue;
    }
    if (k.startsWith("$deleteFromPrimitiveList/")) {
      const f = k.slice("$deleteFromPrimitiveList/".length);
      const cur = out[f];
      if (Array.isArray(cur) && Array.isArray(v)) out[f] = cur.filter((x) => !v.includes(x));
      continue;
    }
    if (v === null) {
      delete out[k];
      continue;
    }
    if (Array.isArray(v)) {
      const merged = mergeList(k, out[k], v);
      if (merged === undefined) delete out[k];
      else out[k] = merged;
      continue;
    }
    const m = strategicMergePatch(out[k], v);
    if (m === undefined) delete out[k];
    else out[k] = m;
  }
  for (const [f, order] of orders) {
    const cur = out[f];
    if (!Array.isArray(cur)) continue;
    const key = mergeKeyFor(f, cur);
    const pos = (x: Json) => {
      const i = order.findIndex((o) => (key && isObj(o) && isObj(x) ? o[key] === x[key] : o === x));
      return i < 0 ? order.length : i;
    };
    out[f] = [...cur].sort((a, b) => pos(a) - pos(b));
  }
  if (Array.isArray(retain)) {
    const keep = new Set(retain.map(String));
    out = Object.fromEntries(Object.entries(out).filter(([k]) => keep.has(k)));
  }
  return out;
}

function mergeList(field: string, cur: Json, patch: Json[]): Json[] | undefined {
  if (patch.some((p) => isObj(p) && p.$patch === "replace" && Object.keys(p).length === 1)) {
    return patch.filter((p) => !(isObj(p) && p.$patch === "replace")).map(stripDirectives) as Json[];
  }
  const key = mergeKeyFor(field, patch.length ? patch : Array.isArray(cur) ? cur : []);
  if (!key || !patch.every(isObj)) return patch.map(stripDirectives) as Json[];
  const out: Json[] = Array.isArray(cur) ? [...cur] : [];
  for (const p of patch as Obj[]) {
    const i = out.findIndex((x) => isObj(x) && x[key] === p[key]);
    if (p.$patch === "delete") {
      if (i >= 0) out.splice(i, 1);
      continue;
    }
    if (i >= 0) out[i] = strategicMergePatch(out[i], p);
    else out.push(stripDirectives(p));
  }
  return out;
}

function stripDirectives(v: Json): Json {
  if (Array.isArray(v)) return v.map(stripDirectives);
  if (!isObj(v)) return v;
  const out: Obj = {};
  for (const [k, x] of Object.entries(v)) if (!k.startsWith("$")) out[k] = stripDirectives(x);
  return out;
}
