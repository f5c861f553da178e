// Configuration of several services in one process: one YAML file (common keys at the top, each service's
// own keys under its name), validated in memory for every service; every problem of every service is
// reported with the user's file and line.
import { ConfigError, type ConfigIssue } from "@faro/config";
import { definitionOf, loadService, SERVICE_NAMES, type LoadedService, type ServiceName } from "./services.js";

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

/** Loads and validates every service's configuration; throws one ConfigError listing every problem (exit 2). */
export async function loadPipelineConfig(options: PipelineConfigOptions): Promise<LoadedService[]> {
  const names = options.services ?? SERVICE_NAMES;
  // A top-level key that some service knows is not "unknown" to the others.
  const sharedKeys = new Set<string>();
  for (const n of SERVICE_NAMES) for (const k of Object.keys((await definitionOf(n)).schema.fields)) sharedKeys.add(k);
  const out: LoadedService[] = [];
  const issues: ConfigIssue[] = [];
  const seen = new Set<string>();
  for (const name of names) {
    const argv = [...overrideFlags(options.overrides), ...overrideFlags(options.serviceOverrides?.[name])];
    try {
      out.push(
        await loadService(name, {
          argv,
          env: options.env,
          ...(options.configFile === undefined
            ? {}
            : { file: options.configFile, section: { name, others: SERVICE_NAMES.filter((n) => n !== name), sharedKeys } }),
        }),
      );
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      for (const issue of err.issues) {
        // A problem with a common key shows up once per service: report it once.
        const key = `${issue.path}|${issue.message}|${JSON.stringify(issue.source)}`;
        if (seen.has(key)) continue;
        seen.add(key);
        issues.push({ ...issue, path: issue.path === "" ? `${name}` : `${name}: ${issue.path}` });
      }
    }
  }
  if (issues.length > 0) throw new ConfigError("the pipeline", issues);
  return out;
}
