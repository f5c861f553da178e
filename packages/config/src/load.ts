// loadConfig: layers defaults < YAML file < FARO_* environment < CLI flags, validated against a schema.
import fs from "node:fs";
import { isMap, isPair, isScalar, isSeq, LineCounter, parseDocument, type Node } from "yaml";
import { ConfigError, type ConfigIssue, type ConfigSource } from "./errors.js";
import { envNameOf, flagNameOf, kebabFlagNameOf, leavesOf, type ConfigOf, type Leaf, type Schema } from "./define.js";
import { checkUnknownKeys, closest, coerce, defaultValue, formatPath, type Fields, type PathSeg, type Reporter } from "./schema.js";

export interface LoadOptions {
  /** Command-line arguments without the node binary and script (i.e. `process.argv.slice(2)`). */
  argv?: readonly string[];
  /** Environment (defaults to none, so tests stay hermetic; pass `process.env` in services). */
  env?: Readonly<Record<string, string | undefined>>;
  /** Config file used when neither `--config` nor `FARO_CONFIG` names one. */
  file?: string;
  /**
   * Read one service's view of a multi-service file (`faro up`): the top-level keys, minus the other
   * services' sections, deep-merged with this service's own section. Problems still name the user's file
   * and line. Top-level keys listed in `sharedKeys` that this schema does not know belong to another
   * service and are not reported as unknown.
   */
  section?: { name: string; others: readonly string[]; sharedKeys?: ReadonlySet<string> };
}

interface RawValue {
  readonly raw: unknown;
  readonly fromText: boolean;
  readonly source: (path: readonly PathSeg[]) => ConfigSource;
}

/** Loads, validates and freezes a configuration; throws ConfigError listing every problem. */
export function loadConfig<S extends Schema>(schema: S, options: LoadOptions = {}): ConfigOf<S> {
  const issues: ConfigIssue[] = [];
  const env = options.env ?? {};
  const leaves = leavesOf(schema.fields);
  const flags = parseFlags(leaves, options.argv ?? [], issues);
  const file = flags.configFile ?? nonEmpty(env.FARO_CONFIG) ?? options.file;
  const fromFile = file === undefined ? new Map<string, RawValue>() : readFileLayer(schema.fields, file, issues, options.section);
  const fromEnv = readEnvLayer(schema.fields, leaves, env, issues);

  const result: Record<string, unknown> = {};
  for (const leaf of leaves) {
    const key = leaf.path.join(".");
    const winner = flags.values.get(key) ?? fromEnv.get(key) ?? fromFile.get(key);
    const report: Reporter = (path, message, value, allowed) =>
      issues.push({ path: formatPath(path), message, value, allowed, source: winner?.source(path) ?? { kind: "default" } });
    const value =
      winner === undefined ? defaultValue(leaf.field, leaf.path, report) : coerce(leaf.field, winner.raw, leaf.path, winner.fromText, report);
    setPath(result, leaf.path, value);
  }
  if (issues.length > 0) throw new ConfigError(schema.service, issues);
  return deepFreeze(result) as ConfigOf<S>;
}

const nonEmpty = (s: string | undefined) => (s === undefined || s === "" ? undefined : s);

function setPath(target: Record<string, unknown>, path: readonly string[], value: unknown): void {
  let node = target;
  for (const seg of path.slice(0, -1)) node = (node[seg] ??= {}) as Record<string, unknown>;
  node[path[path.length - 1]!] = value;
}

function deepFreeze<T>(v: T): T {
  if (typeof v === "object" && v !== null && !Object.isFrozen(v)) {
    Object.freeze(v);
    for (const child of Object.values(v)) deepFreeze(child);
  }
  return v;
}

function parseFlags(leaves: readonly Leaf[], argv: readonly string[], issues: ConfigIssue[]) {
  const byName = new Map<string, Leaf>();
  for (const leaf of leaves) {
    byName.set(flagNameOf(leaf.path), leaf);
    byName.set(kebabFlagNameOf(leaf.path), leaf);
  }
  const values = new Map<string, RawValue>();
  let configFile: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (!arg.startsWith("--")) {
      issues.push({ path: "", message: `unexpected argument "${arg}" (settings are --name=value flags)`, source: { kind: "flag", name: arg } });
      continue;
    }
    const eq = arg.indexOf("=");
    const name = eq === -1 ? arg : arg.slice(0, eq);
    const leaf = byName.get(name);
    if (name !== "--config" && leaf === undefined) {
      const hint = closest(name, byName.keys());
      issues.push({
        path: "",
        message: `unknown flag ${name}${hint ? ` (did you mean ${hint}?)` : ""}`,
        source: { kind: "flag", name },
      });
      // Skip a following value so one typo gives one issue, not two.
      if (eq === -1 && argv[i + 1] !== undefined && !argv[i + 1]!.startsWith("--")) i++;
      continue;
    }
    let value: string | undefined;
    if (eq !== -1) value = arg.slice(eq + 1);
    else if (leaf?.field.kind === "boolean") {
      // A bare boolean flag means true; an explicit true/false may follow it.
      const next = argv[i + 1];
      value = next !== undefined && /^(true|false|1|0|yes|no|on|off)$/i.test(next) ? (i++, next) : "true";
    } else if (argv[i + 1] !== undefined) value = argv[++i];
    if (value === undefined) {
      issues.push({ path: leaf ? leaf.path.join(".") : "", message: `flag ${name} needs a value`, source: { kind: "flag", name } });
      continue;
    }
    if (leaf === undefined) configFile = value;
    else values.set(leaf.path.join("."), { raw: value, fromText: true, source: () => ({ kind: "flag", name }) });
  }
  return { values, configFile };
}

function readEnvLayer(fields: Fields, leaves: readonly Leaf[], env: Readonly<Record<string, string | undefined>>, issues: ConfigIssue[]) {
  const values = new Map<string, RawValue>();
  const known = new Map(leaves.map((l) => [envNameOf(l.path), l]));
  for (const [name, leaf] of known) {
    const raw = env[name];
    if (raw !== undefined) values.set(leaf.path.join("."), { raw, fromText: true, source: () => ({ kind: "env", name }) });
  }
  // Typo protection without rejecting other services' variables in a shared environment: an unknown
  // FARO_* variable is an error only when it falls under one of this schema's groups (FARO_NATS_…).
  const groups = Object.entries(fields)
    .filter(([, f]) => f.kind === "object")
    .map(([k]) => `${envNameOf([k])}_`);
  for (const name of Object.keys(env)) {
    if (known.has(name) || !groups.some((g) => name.startsWith(g))) continue;
    const hint = closest(name, known.keys());
    issues.push({ path: "", message: `unknown environment variable ${name}${hint ? ` (did you mean ${hint}?)` : ""}`, value: env[name], source: { kind: "env", name } });
  }
  return values;
}

const isMapping = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

/** `over` deep-merged onto `base`: mappings merge key by key, anything else in `over` wins. */
function deepMerge(base: Record<string, unknown>, over: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(over)) out[k] = isMapping(v) && isMapping(out[k]) ? deepMerge(out[k] as Record<string, unknown>, v) : v;
  return out;
}

function hasPath(obj: unknown, path: readonly PathSeg[]): boolean {
  let node = obj;
  for (const seg of path) {
    if (isMapping(node) && String(seg) in node) node = node[String(seg)];
    else if (Array.isArray(node) && typeof seg === "number" && seg < node.length) node = node[seg];
    else return false;
  }
  return true;
}

function readFileLayer(fields: Fields, file: string, issues: ConfigIssue[], section?: LoadOptions["section"]): Map<string, RawValue> {
  const values = new Map<string, RawValue>();
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch (err) {
    issues.push({ path: "", message: `cannot read config file: ${(err as Error).message}`, source: { kind: "file", file } });
    return values;
  }
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, uniqueKeys: true, prettyErrors: true });
  if (doc.errors.length > 0) {
    for (const e of doc.errors) {
      const pos = e.linePos?.[0];
      issues.push({
        path: "",
        message: `malformed YAML: ${e.message.split("\n")[0]}`,
        source: { kind: "file", file, line: pos?.line, column: pos?.col },
      });
    }
    return values;
  }
  let data: unknown = doc.toJS();
  let own: unknown;
  if (section && isMapping(data)) {
    own = data[section.name];
    const top = Object.fromEntries(Object.entries(data).filter(([k]) => k !== section.name && !section.others.includes(k)));
    data = isMapping(own) ? deepMerge(top, own) : top;
  }
  const locate = (path: readonly PathSeg[]): ConfigSource => {
    // A value from the service's own section is found under its name; everything else at the top.
    const docPath = section && hasPath(own, path) ? [section.name, ...path] : path;
    const node = findNode(doc.contents, docPath);
    const pos = node?.range ? lineCounter.linePos(node.range[0]) : undefined;
    return { kind: "file", file, line: pos?.line, column: pos?.col };
  };
  if (data === null || data === undefined) return values;
  const report: Reporter = (path, message, value, allowed) => {
    if (section?.sharedKeys && path.length === 1 && message.startsWith("unknown key") && section.sharedKeys.has(String(path[0])) && !hasPath(own, path)) return;
    issues.push({ path: formatPath(path), message, value, allowed, source: locate(path) });
  };
  if (typeof data !== "object" || Array.isArray(data)) {
    report([], "the config file must be a YAML mapping", data);
    return values;
  }
  const walk = (group: Fields, obj: Record<string, unknown>, path: readonly string[]) => {
    checkUnknownKeys(group, obj, path, report);
    for (const [key, f] of Object.entries(group)) {
      const v = obj[key];
      const p = [...path, key];
      // An empty key (`nats:` with nothing under it) leaves the default in place.
      if (v === undefined || v === null) continue;
      if (f.kind !== "object") values.set(p.join("."), { raw: v, fromText: false, source: locate });
      else if (typeof v === "object" && !Array.isArray(v)) walk(f.fields!, v as Record<string, unknown>, p);
      else report(p, "expected a mapping", v, "object");
    }
  };
  walk(fields, data as Record<string, unknown>, []);
  return values;
}

/** The YAML node at a path (the key node for a missing last segment), for line numbers in messages. */
function findNode(root: unknown, path: readonly PathSeg[]): Node | undefined {
  let node = root;
  let last: Node | undefined = isMap(root) || isSeq(root) ? (root as Node) : undefined;
  for (const seg of path) {
    if (isMap(node)) {
      const pair = node.items.find((p) => isPair(p) && isScalar(p.key) && String(p.key.value) === String(seg));
      if (!pair) return last;
      // Scalars: the key's position (same line, and present even when the value is empty).
      last = (isMap(pair.value) || isSeq(pair.value) ? pair.value : pair.key) as Node;
      node = pair.value;
    } else if (isSeq(node) && typeof seg === "number") {
      const item = node.items[seg];
      if (!item) return last;
      last = item as Node;
      node = item;
    } else return last;
  }
  return last;
}

/** Prints a ConfigError to stderr and exits with code 2; anything else is rethrown. */
export function exitOnConfigError(err: unknown): never {
  if (err instanceof ConfigError) {
    process.stderr.write(`${err.message}\n`);
    process.exit(2);
  }
  throw err;
}

/** loadConfig for a service's main: on invalid configuration prints every problem and exits 2. */
export function loadConfigOrExit<S extends Schema>(schema: S, options: LoadOptions = {}): ConfigOf<S> {
  try {
    return loadConfig(schema, options);
  } catch (err) {
    return exitOnConfigError(err);
  }
}
