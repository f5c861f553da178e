// defineSchema and the common fields every Faro service shares (cluster, NATS, Redis, logging, HTTP, shutdown, kube).
import { SchemaError } from "./errors.js";
import { field, validateFields, type Field, type Fields, type PathSeg } from "./schema.js";

/** A service's whole configuration schema: the common fields plus its own. */
export interface Schema<F extends Fields = Fields> {
  readonly service: string;
  readonly fields: F;
  /** Top-level keys that come from the common fragment (docs render them once, in the common section). */
  readonly commonKeys: readonly string[];
}

/** The loaded, typed configuration of a schema: `type Cfg = ConfigOf<typeof configSchema>`. */
export type ConfigOf<S> = S extends Schema<infer F> ? DeepReadonly<{ [K in keyof F]: F[K] extends Field<infer T> ? T : never }> : never;
type DeepReadonly<T> = T extends (infer U)[]
  ? readonly DeepReadonly<U>[]
  : T extends object
    ? { readonly [K in keyof T]: DeepReadonly<T[K]> }
    : T;

function makeCommonFields(httpPort: number) {
  return {
    cluster: field.string({
      description:
        "Name of the watched cluster: the cluster token of every NATS subject, and the scope of the pipeline's durable consumers (`<cluster>_<service>`) and default Redis keys (`faro:<cluster>:`), so pipelines of several clusters can share one NATS and one Redis.",
      default: "local",
      example: "prod-eu1",
      pattern: /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/,
      patternHint: "a DNS label: lowercase letters, digits and '-', at most 63 characters",
    }),
    nats: field.object(
      {
        url: field.url({
          description: "NATS server URL (JetStream enabled); several servers separated by commas. `nats://user:password@host` and `nats://token@host` carry credentials.",
          default: "nats://127.0.0.1:4222",
          example: "nats://nats.faro.svc:4222",
          protocols: ["nats", "tls", "ws", "wss"],
          multiple: true,
        }),
        user: field.string({ description: "NATS user (user/password authentication); overrides the URL's user.", optional: true, example: "faro" }),
        password: field.string({ description: "NATS password for `nats.user`.", optional: true, example: "s3cret" }),
        token: field.string({ description: "NATS token authentication.", optional: true, example: "t0ken" }),
        nkeySeedFile: field.string({ description: "File holding an NKey seed (`SU…`) for NKey authentication.", optional: true, example: "/etc/faro/nats.nk" }),
        credsFile: field.string({ description: "A `.creds` file (JWT and NKey seed) for decentralised authentication.", optional: true, example: "/etc/faro/faro.creds" }),
        tls: field.object(
          {
            ca: field.string({ description: "CA certificate (PEM file) that signed the server's certificate; setting any tls.* field turns TLS on.", optional: true, example: "/etc/faro/tls/ca.pem" }),
            cert: field.string({ description: "Client certificate (PEM file) for servers that verify clients.", optional: true, example: "/etc/faro/tls/client.pem" }),
            key: field.string({ description: "Private key (PEM file) of `nats.tls.cert`.", optional: true, example: "/etc/faro/tls/client-key.pem" }),
          },
          { description: "TLS towards NATS." },
        ),
        provision: field.boolean({
          description: "Create or update the streams this service reads and writes at start; false = they must exist (provisioned elsewhere) and are only checked.",
          default: true,
          example: false,
        }),
        replicas: field.int({
          description:
            "Replicas of every stream this service provisions (JetStream R1/R3/R5): 3 on a 3-node cluster survives the loss of one node. At most the number of JetStream servers; an existing stream is updated to it.",
          default: 1,
          example: 3,
          min: 1,
          max: 5,
        }),
      },
      { description: "NATS JetStream connection." },
    ),
    redis: field.object(
      {
        url: field.url({
          description: "Redis URL (state, leases, checkpoints); `redis://user:password@host:6379/0`, `rediss://` for TLS.",
          default: "redis://127.0.0.1:6379",
          example: "redis://redis.faro.svc:6379/0",
          protocols: ["redis", "rediss"],
        }),
        sentinels: field.list({
          description:
            "Redis Sentinel addresses (`host:port`); when set, the client asks them for the primary of `redis.name` and follows failovers, and `redis.url` gives only the database, user, password and TLS (its host is not used).",
          default: [],
          example: ["redis-sentinel-0.faro.svc:26379", "redis-sentinel-1.faro.svc:26379", "redis-sentinel-2.faro.svc:26379"],
          pattern: /^[^\s:,/]+:\d{1,5}$/,
          patternHint: "host:port",
        }),
        name: field.string({ description: "Master name the sentinels monitor (`sentinel monitor <name> …`); used with `redis.sentinels`.", default: "mymaster", example: "faro" }),
        username: field.string({ description: "Redis ACL user; overrides the URL's user.", optional: true, example: "faro" }),
        password: field.string({ description: "Redis password (requirepass or the ACL user's); overrides the URL's password.", optional: true, example: "s3cret" }),
        tls: field.object(
          {
            ca: field.string({ description: "CA certificate (PEM file) for `rediss://` servers with a private CA.", optional: true, example: "/etc/faro/tls/ca.pem" }),
          },
          { description: "TLS towards Redis." },
        ),
      },
      { description: "Redis connection." },
    ),
    publish: field.object(
      {
        window: field.int({
          description: "Publishes awaiting their JetStream ack; work waits (backpressure) while the window is full.",
          default: 1024,
          example: 256,
          min: 1,
          max: 65536,
        }),
        timeout: field.duration({ description: "Wait for one PubAck before retrying with the same message id.", default: "5s", example: "10s", min: 10 }),
        retryFor: field.duration({
          description: "How long a publish retries transient failures before the work that needed it is retried (nak, restart from checkpoint).",
          default: "60s",
          example: "2m",
          min: 10,
        }),
      },
      { description: "Publishing to JetStream (every publisher of the service)." },
    ),
    deadLetters: field.object(
      {
        includePayload: field.boolean({
          description:
            "Put the original bytes into dead letters of undecodable messages. Off by default: raw messages are not redacted, and the original stays in its stream (the dead letter names its stream sequence). Redaction failures never carry their payload.",
          default: false,
          example: true,
        }),
      },
      { description: "Dead letters (FARO_DLQ, faro.v1.dlq.<service>.<stage>)." },
    ),
    log: field.object(
      {
        level: field.enum(["trace", "debug", "info", "warn", "error", "fatal", "silent"], {
          description: "Minimum log level.",
          default: "info",
          example: "debug",
        }),
        pretty: field.enum(["auto", "true", "false"], {
          description: "Human-readable logs instead of JSON lines; auto = when stdout is a terminal.",
          default: "auto",
          example: "true",
        }),
      },
      { description: "Logging." },
    ),
    http: field.object(
      {
        port: field.int({
          description: "Port of the /metrics, /healthz and /readyz server; 0 picks any free port.",
          default: httpPort,
          example: 9090,
          min: 0,
          max: 65535,
        }),
        host: field.string({
          description: "Address the metrics and health server listens on.",
          default: "0.0.0.0",
          example: "127.0.0.1",
        }),
      },
      { description: "Metrics and health endpoints." },
    ),
    shutdown: field.object(
      {
        timeout: field.duration({
          description: "How long draining may take after SIGTERM before the process stops by force (exit 1).",
          default: "10s",
          example: "30s",
        }),
      },
      { description: "Graceful shutdown." },
    ),
    kube: field.object(
      {
        kubeconfig: field.string({
          description: "Path of the kubeconfig file; unset = in-cluster config, then ~/.kube/config.",
          optional: true,
          example: "/etc/faro/kubeconfig",
        }),
        context: field.string({
          description: "kubeconfig context to use; unset = the current context.",
          optional: true,
          example: "kind-faro",
        }),
      },
      { description: "Kubernetes API access." },
    ),
  };
}

export type CommonFields = ReturnType<typeof makeCommonFields>;

/**
 * Defines a service's schema: the common fields plus `fields`. Service keys may not redefine a
 * common key (a service groups its own settings under its own top-level keys instead).
 */
export function defineSchema<const F extends Fields>(
  service: string,
  fields: F,
  options: { httpPort?: number } = {},
): Schema<CommonFields & F> {
  const common = makeCommonFields(options.httpPort ?? 0);
  for (const key of Object.keys(fields)) {
    if (key in common) throw new SchemaError(`"${key}" is a common key and cannot be redefined by ${service}`, key);
    if (key === "config") throw new SchemaError(`"config" is reserved for --config / FARO_CONFIG`, key);
  }
  const all = { ...common, ...fields } as CommonFields & F;
  validateFields(all);
  checkNameCollisions(all);
  return Object.freeze({ service, fields: all, commonKeys: Object.freeze(Object.keys(common)) });
}

/** The common fragment alone (what `faro` tools that are not services load, and the docs' common section). */
export const commonSchema: Schema<CommonFields> = defineSchema("common", {});

/** A leaf is every field that is not a nested object: the unit that env vars and flags set. */
export interface Leaf {
  readonly path: readonly string[];
  readonly field: Field<unknown>;
}
export function leavesOf(fields: Fields, prefix: readonly string[] = []): Leaf[] {
  return Object.entries(fields).flatMap(([key, f]) =>
    f.kind === "object" ? leavesOf(f.fields!, [...prefix, key]) : [{ path: [...prefix, key], field: f }],
  );
}

function snake(key: string): string {
  return key.replace(/([a-z0-9])([A-Z])/g, "$1_$2").toUpperCase();
}
function kebab(key: string): string {
  return key.replace(/([a-z0-9])([A-Z])/g, "$1-$2").toLowerCase();
}

/** `nats.url` → `FARO_NATS_URL`; `queue.maxInFlight` → `FARO_QUEUE_MAX_IN_FLIGHT`. */
export function envNameOf(path: readonly PathSeg[]): string {
  return `FARO_${path.map((s) => snake(String(s))).join("_")}`;
}
/** `nats.url` → `--nats.url` (the kebab form `--nats-url` is accepted too). */
export function flagNameOf(path: readonly PathSeg[]): string {
  return `--${path.join(".")}`;
}
export function kebabFlagNameOf(path: readonly PathSeg[]): string {
  return `--${path.map((s) => kebab(String(s))).join("-")}`;
}

function checkNameCollisions(fields: Fields): void {
  const seen = new Map<string, string>();
  for (const leaf of leavesOf(fields)) {
    const p = leaf.path.join(".");
    for (const name of [envNameOf(leaf.path), kebabFlagNameOf(leaf.path)]) {
      const other = seen.get(name);
      if (other !== undefined && other !== p) throw new SchemaError(`${name} would name both ${other} and ${p}`, p);
      seen.set(name, p);
    }
  }
}
