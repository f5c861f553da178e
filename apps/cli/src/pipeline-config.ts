// Configuration of several services in one process: one YAML file with per-service sections, plus overrides.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { parse } from "yaml";
import { CommandError } from "./errors.js";
import { loadService, SERVICE_NAMES, type LoadedService, type ServiceName } from "./services.js";

export interface PipelineConfigOptions {
  services?: readonly ServiceName[];
  /** YAML file: common keys at the top, each service's own keys under its name (`correlator: {story: …}`). */
  configFile?: string;
  env: Readonly<Record<string, string | undefined>>;
  /** Settings by dotted path that win over file and environment, for every service (e.g. `cluster`). */
  overrides?: Readonly<Record<string, string>>;
  /** Settings for one service only, by dotted path. */
  serviceOverrides?: Partial<Record<ServiceName, Readonly<Record<string, string>>>>;
}

/** Turns dotted-path settings into the flags loadConfig knows (`--nats.url=…`): flags win over everything. */
export function overrideFlags(settings: Readonly<Record<string, string>> = {}): string[] {
  return Object.entries(settings).map(([k, v]) => `--${k}=${v}`);
}

/**
 * Splits a multi-service YAML file into one file per service (common keys + that service's section) in a
 * temp directory; a file without service sections is given to every service as it is.
 */
export function splitConfigFile(file: string): { files: Partial<Record<ServiceName, string>>; cleanup(): void } {
  let doc: unknown;
  try {
    doc = parse(fs.readFileSync(file, "utf8"));
  } catch (err) {
    throw new CommandError(`cannot read config file ${file}: ${(err as Error).message}`, "config", { cause: err });
  }
  const obj = doc && typeof doc === "object" && !Array.isArray(doc) ? (doc as Record<string, unknown>) : {};
  const sections = SERVICE_NAMES.filter((n) => n in obj);
  if (sections.length === 0) return { files: Object.fromEntries(SERVICE_NAMES.map((n) => [n, file])), cleanup: () => {} };
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "faro-config-"));
  const commonKeys = Object.fromEntries(Object.entries(obj).filter(([k]) => !SERVICE_NAMES.includes(k as ServiceName)));
  const files: Partial<Record<ServiceName, string>> = {};
  for (const n of SERVICE_NAMES) {
    const own = obj[n];
    const merged = { ...commonKeys, ...(own && typeof own === "object" ? (own as object) : {}) };
    const p = path.join(dir, `${n}.json`);
    // JSON is YAML: the loader reads it and its errors still name the field.
    fs.writeFileSync(p, JSON.stringify(merged));
    files[n] = p;
  }
  return { files, cleanup: () => fs.rmSync(dir, { recursive: true, force: true }) };
}

/** Loads and validates every service's configuration; throws the first ConfigError (exit 2). */
export async function loadPipelineConfig(options: PipelineConfigOptions): Promise<LoadedService[]> {
  const names = options.services ?? SERVICE_NAMES;
  const split = options.configFile ? splitConfigFile(options.configFile) : undefined;
  try {
    const out: LoadedService[] = [];
    for (const name of names) {
      const argv = [...overrideFlags(options.overrides), ...overrideFlags(options.serviceOverrides?.[name])];
      const file = split?.files[name];
      out.push(await loadService(name, { argv: file ? ["--config", file, ...argv] : argv, env: options.env }));
    }
    return out;
  } finally {
    split?.cleanup();
  }
}
