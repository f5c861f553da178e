// The filter's configuration schema (tenants, noise rules, redaction rules, consumption, publishing) and
// its load-time validation: a rule RE2 cannot compile is a configuration error (exit 2) naming the rule.
import { ConfigError, defineSchema, field, type ConfigOf } from "@faro/config";
import { RuleError, createRedactor, type Redactor, type UserRule } from "@faro/redact";
import { compileTenants, type TenantMatcher } from "./rules/index.js";
import type { FilterRulesConfig, RuleConfig, TenantConfig } from "./rules/index.js";

/** Shared infrastructure no tenant receives unless the configuration says otherwise. */
export const DEFAULT_EXCLUDED_NAMESPACES = ["kube-system", "kube-public", "kube-node-lease"] as const;

const selectorList = (what: string, example: string[]) =>
  field.list({
    description: `${what}: name patterns (docs/patterns.md) — exact names, globs (\`web-*\`), \`/RE2 regex/\` or \`all\`; any entry may match.`,
    optional: true,
    example,
  });

/** One include/exclude rule; every field given must match (AND). */
const rule = field.object(
  {
    name: field.string({
      description: "Rule id, used in metrics and error messages; default `include[i]` / `exclude[i]`.",
      optional: true,
      example: "healthz-noise",
    }),
    kinds: selectorList("Object kinds (for Events the involved object's kind; `Event` matches every Event; log lines count as `Pod`)", ["Pod", "Deployment"]),
    names: selectorList("Object names (Events: the involved object's name; log lines: the pod name)", ["web-*"]),
    pods: selectorList("Pod names (Pod objects, Events about Pods, log lines)", ["checkout-*"]),
    containers: selectorList("Container names (log lines only)", ["istio-proxy"]),
    labels: field.string({
      description:
        "Label selector in `kubectl -l` syntax (`app=web,tier in (a,b),!canary`; docs/patterns.md) on the object's labels, the pod's labels (log lines) or, for Events, the involved object's labels (`involvedLabels`, set by the watcher when it published that object before the Event; an Event that came first has none, so a rule on labels does not match it).",
      optional: true,
      example: "app=checkout,tier!=canary",
    }),
    reasons: selectorList("Event reasons (Events only)", ["Pulled", "Scheduled"]),
    types: selectorList("Event types (Events only)", ["Normal"]),
    sources: selectorList("Event source component or reporting controller (Events only)", ["default-scheduler"]),
    log: field.string({
      description: "RE2 regex searched in each log line (log lines only); lines matching an exclude rule are dropped and counted.",
      optional: true,
      example: "GET /healthz",
    }),
    ignoreCase: field.boolean({ description: "Match `log` case-insensitively.", default: false, example: true }),
  },
  { description: "A rule." },
);

export const configSchema = defineSchema(
  "filter",
  {
    tenants: field.array(
      field.object(
        {
          name: field.string({
            description: "Tenant name; it is the tenant token of every clean, story and incident subject (NATS permissions isolate tenants by it).",
            example: "team-a",
            pattern: /^[A-Za-z0-9][A-Za-z0-9_-]{0,62}$/,
            patternHint: "letters, digits, '_' and '-', at most 63 characters, starting with a letter or digit",
          }),
          namespaces: field.list({
            description: "Namespaces the tenant sees: name patterns (docs/patterns.md) — names, globs (`prod-*`), `/RE2 regex/`, or `all`/`*`, which also match cluster-scoped objects (namespace \"\").",
            example: ["shop", "prod-*"],
          }),
          include: field.array(rule, {
            description:
              "When rules apply to a message class (objects, Events, log lines), a message of that class must match one of them to reach this tenant. Several tenants may share a namespace and tell their workloads apart this way.",
            default: [],
            example: [{ name: "checkout", pods: ["checkout-*"] }],
          }),
          exclude: field.array(rule, {
            description: "A message (or log line) matching any of these never reaches this tenant; counted per rule.",
            default: [],
            example: [{ name: "healthz", log: "GET /healthz" }],
          }),
        },
        { description: "A tenant." },
      ),
      {
        description:
          "Who receives what. One message may go to several tenants (one copy each, on faro.v1.clean.<tenant>.…). A message no tenant claims is dropped and counted (faro_messages_dropped_total{reason=\"no_tenant\"}); add a tenant with namespaces [\"*\"] to catch everything. The default is one such tenant, `default`.",
        default: [{ name: "default", namespaces: ["*"] }],
        example: [
          { name: "team-a", namespaces: ["shop"], include: [{ name: "checkout", labels: "team=a" }] },
          { name: "team-b", namespaces: ["shop", "b-*"], exclude: [{ name: "healthz", log: "GET /healthz" }] },
        ],
      },
    ),
    global: field.object(
      {
        excludeNamespaces: field.list({
          description: "Namespaces nobody receives, whatever the tenants say (shared infrastructure). Name patterns: names, globs, /RE2 regex/.",
          default: [...DEFAULT_EXCLUDED_NAMESPACES],
          example: ["kube-system", "monitoring"],
        }),
        exclude: field.array(rule, {
          description: "Rules applied before any tenant: matching messages and log lines reach nobody.",
          default: [],
          example: [{ name: "probes", log: "kube-probe/" }],
        }),
      },
      { description: "Exclusions applied before the tenants." },
    ),
    redaction: field.object(
      {
        rules: field.array(
          field.object(
            {
              name: field.string({ description: "Rule name; the mask says `[REDACTED:<name>]`.", example: "internal-token" }),
              pattern: field.string({
                description: "RE2 regex masked in every text (log lines, messages, string values); only the named group `secret` when present.",
                optional: true,
                example: "itk_[A-Za-z0-9]{32}",
              }),
              keys: field.list({
                description: "Key / env var / flag names whose values are masked: name patterns (exact, glob, /RE2 regex/, all; docs/patterns.md), case-insensitive.",
                optional: true,
                example: ["*_PIN"],
              }),
              ignoreCase: field.boolean({ description: "Match `pattern` case-insensitively.", default: false, example: true }),
            },
            { description: "A user redaction rule." },
          ),
          {
            description: "User redaction rules, added to the built-in detectors. Try them with `faro redact --rules FILE`.",
            default: [],
            example: [{ name: "internal-token", pattern: "itk_[A-Za-z0-9]{32}" }],
          },
        ),
      },
      { description: "Secret redaction (built-in detectors always run)." },
    ),
    consumer: field.object(
      {
        concurrency: field.int({ description: "Raw messages processed at once by this replica.", default: 64, example: 128, min: 1, max: 4096 }),
        maxAckPending: field.int({
          description: "Unacked messages the durable `<cluster>_filter` allows across ALL replicas.",
          default: 1024,
          example: 4096,
          min: 1,
        }),
        ackWait: field.duration({ description: "Redelivery after this long without an ack.", default: "30s", example: "1m", min: 1000 }),
        maxDeliver: field.int({
          description: "Deliveries before a message is dead-lettered (stage `deliver`, reason `max deliveries exceeded`).",
          default: 10,
          example: 20,
          min: 2,
        }),
      },
      { description: "Consuming the cluster's FARO_RAW subjects (durable consumer `<cluster>_filter`, shared by every replica)." },
    ),
  },
  { httpPort: 9103 },
);

export type FilterConfig = ConfigOf<typeof configSchema>;

/** Drops keys whose value is undefined: the rule engine treats a present key as a given field. */
function defined<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}

function ruleConfig(r: FilterConfig["tenants"][number]["include"][number]): RuleConfig {
  return defined({
    name: r.name,
    kinds: r.kinds === undefined ? undefined : [...r.kinds],
    names: r.names === undefined ? undefined : [...r.names],
    pods: r.pods === undefined ? undefined : [...r.pods],
    containers: r.containers === undefined ? undefined : [...r.containers],
    labels: r.labels,
    reasons: r.reasons === undefined ? undefined : [...r.reasons],
    types: r.types === undefined ? undefined : [...r.types],
    sources: r.sources === undefined ? undefined : [...r.sources],
    log: r.log,
    ignoreCase: r.ignoreCase ? true : undefined,
  });
}

/** The rule engine's view of the loaded configuration. */
export function rulesConfigOf(config: Pick<FilterConfig, "tenants" | "global">): FilterRulesConfig {
  return {
    tenants: config.tenants.map(
      (t): TenantConfig => ({
        name: t.name,
        namespaces: [...t.namespaces],
        include: t.include.map(ruleConfig),
        exclude: t.exclude.map(ruleConfig),
      }),
    ),
    global: { excludeNamespaces: [...config.global.excludeNamespaces], exclude: config.global.exclude.map(ruleConfig) },
  };
}

/** The user redaction rules of the loaded configuration. */
export function redactionRulesOf(config: Pick<FilterConfig, "redaction">): UserRule[] {
  return config.redaction.rules.map((r) =>
    defined({ name: r.name, pattern: r.pattern, keys: r.keys === undefined ? undefined : [...r.keys], ignoreCase: r.ignoreCase ? true : undefined }),
  );
}

/** What the rules compile into. */
export interface CompiledFilterConfig {
  matcher: TenantMatcher;
  redactor: Redactor;
}

/**
 * Compiles tenants, noise rules and redaction rules. A RuleError (a pattern RE2 rejects, a bad selector,
 * duplicate names) becomes a ConfigError whose message names the tenant and rule, so it takes the same
 * exit-2 path as every other configuration problem.
 */
export function compileFilterConfig(config: Pick<FilterConfig, "tenants" | "global" | "redaction">): CompiledFilterConfig {
  let matcher: TenantMatcher;
  try {
    matcher = compileTenants(rulesConfigOf(config));
  } catch (err) {
    if (err instanceof RuleError) throw new ConfigError("filter", [{ path: "tenants", message: err.message }], { cause: err });
    throw err;
  }
  let redactor: Redactor;
  try {
    redactor = createRedactor({ rules: redactionRulesOf(config) });
  } catch (err) {
    if (err instanceof RuleError) throw new ConfigError("filter", [{ path: "redaction.rules", message: err.message }], { cause: err });
    throw err;
  }
  return { matcher, redactor };
}
