// The forwarder's configuration schema (sinks by name, routes, silences) and the checks beyond the schema,
// which compile routes and silences once and name the offending field (exit 2).
import { ConfigError, defineSchema, field, type ConfigIssue, type ConfigOf } from "@faro/config";
import { compileLabelSelector, compileNamePatterns, type LabelPredicate, type NamePattern } from "@faro/primitives";

export const SINK_TYPES = ["webhook", "grpc", "slack", "github", "jira", "s3", "directory"] as const;
export type SinkType = (typeof SINK_TYPES)[number];

const NAME = /^[a-z]([a-z0-9-]{0,30}[a-z0-9])?$/;

/** Where a secret comes from: a file (Kubernetes Secret volume) or an environment variable; never inline. */
const secret = (what: string) =>
  field.object(
    {
      file: field.string({ description: `File holding the ${what} (trailing white space is ignored).`, optional: true, example: "/var/run/secrets/faro/token" }),
      env: field.string({ description: `Environment variable holding the ${what}.`, optional: true, example: "FARO_SINK_TOKEN" }),
    },
    { description: `The ${what}: from a file or an environment variable, never inline; never logged.` },
  );

const matcher = {
  tenants: field.list({ description: "Tenant patterns (exact, glob, `/regex/`, `all`); empty: any tenant.", default: [], example: ["team-a"] }),
  namespaces: field.list({ description: "Namespace patterns (exact, glob, `/regex/`, `all`); empty: any namespace.", default: [], example: ["shop-*"] }),
  reasons: field.list({ description: "Reason patterns (`CrashLoopBackOff`, `OOM*`); empty: any reason.", default: [], example: ["OOMKilled"] }),
  severities: field.list({ description: "Severities (critical, high, medium, low, info); empty: any severity.", default: [], example: ["critical", "high"] }),
  labels: field.string({ description: "Label selector over the failing pod's labels (`app=web,tier in (a,b)`); empty: any labels.", default: "", example: "team=payments" }),
};

export const configSchema = defineSchema(
  "forwarder",
  {
    sinks: field.array(
      field.object(
        {
          name: field.string({ description: "Sink name (a DNS label): its durable is `<cluster>_forwarder-<name>`, its metrics label `sink`.", pattern: NAME, patternHint: "a lowercase DNS label", optional: true, example: "orchestrator" }),
          type: field.enum(SINK_TYPES, { description: "What the sink delivers to.", optional: true, example: "webhook" }),
          insights: field.boolean({ description: "Also deliver the analyzer's insights (FARO_INSIGHT) about incidents this sink showed: Slack thread reply, ticket comment, webhook event `insight.added` (types slack, github, jira, webhook); own durable on FARO_INSIGHT.", default: false, example: true }),
          concurrency: field.int({ description: "Deliveries of this sink in flight at once in one replica.", default: 4, example: 16, min: 1, max: 1024 }),
          maxDeliveries: field.int({ description: "Attempts before an incident is dead-lettered with the last error as the reason.", default: 10, example: 20, min: 1, max: 1000 }),
          maxAckPending: field.int({ description: "Unacknowledged incidents the sink's durable allows across all replicas.", default: 1024, example: 4096, min: 1 }),
          ackWait: field.duration({ description: "Redelivery timeout of an incident whose attempt has not finished (attempts waiting on Retry-After keep it alive).", default: "60s", example: "2m", min: 1000 }),
          timeout: field.duration({ description: "Time one delivery attempt may take (HTTP request, gRPC acknowledgement).", default: "10s", example: "30s", min: 10 }),
          retry: field.object(
            {
              base: field.duration({ description: "Delay before the second attempt; doubled per attempt, ±20% jitter.", default: "1s", example: "500ms", min: 1 }),
              max: field.duration({ description: "Longest delay between attempts.", default: "5m", example: "1m", min: 1 }),
              maxRetryAfter: field.duration({ description: "A receiver's Retry-After up to this long is waited out within the attempt (not counted as a delivery); longer ones nak with that delay.", default: "60s", example: "5m", min: 0 }),
            },
            { description: "Retries with exponential backoff and jitter." },
          ),
          rateLimit: field.object(
            {
              perSecond: field.number({ description: "Deliveries per second this replica sends to the sink; 0 = unlimited.", default: 0, example: 1, min: 0 }),
              burst: field.int({ description: "Deliveries allowed at once above the rate.", default: 1, example: 5, min: 1 }),
            },
            { description: "Client-side rate limit (token bucket) of the sink." },
          ),
          webhook: field.object(
            {
              url: field.url({ description: "URL the incident is POSTed to (type webhook).", protocols: ["http", "https"], optional: true, example: "https://hooks.example.com/faro" }),
              signingSecret: secret("HMAC-SHA256 signing key of the `Faro-Signature` header"),
              token: secret("bearer token sent as `Authorization: Bearer …`"),
              headers: field.map({ description: "Extra request headers (not secret: use `token` for credentials).", default: {}, example: { "X-Team": "payments" } }),
            },
            { description: "Webhook sink: HTTP POST of the incident as canonical JSON." },
          ),
          grpc: field.object(
            {
              address: field.string({ description: "`host:port` of the receiver implementing faro.v1.IncidentService (type grpc).", optional: true, example: "orchestrator.ai.svc:7443" }),
              insecure: field.boolean({ description: "Plain text instead of TLS (tests and loopback only).", default: false, example: false }),
              ca: field.string({ description: "CA certificate (PEM file) the receiver's certificate must chain to; the system roots when unset.", optional: true, example: "/etc/faro/tls/ca.pem" }),
              cert: field.string({ description: "Client certificate (PEM file) for mTLS.", optional: true, example: "/etc/faro/tls/client.pem" }),
              key: field.string({ description: "Client private key (PEM file) for mTLS.", optional: true, example: "/etc/faro/tls/client-key.pem" }),
              serverName: field.string({ description: "Name the receiver's certificate must carry when it differs from the address' host.", optional: true, example: "orchestrator.internal" }),
              keepaliveTime: field.duration({ description: "HTTP/2 keepalive ping interval.", default: "30s", example: "10s", min: 1000 }),
              keepaliveTimeout: field.duration({ description: "A keepalive ping unanswered this long closes the connection.", default: "10s", example: "5s", min: 100 }),
              reconnectBase: field.duration({ description: "First reconnection delay after the stream broke; doubled per failure, with jitter.", default: "250ms", example: "1s", min: 1 }),
              reconnectMax: field.duration({ description: "Longest reconnection delay.", default: "30s", example: "1m", min: 1 }),
            },
            { description: "gRPC sink: a stream of incidents, each acknowledged by the receiver." },
          ),
          slack: field.object(
            {
              apiUrl: field.url({ description: "Slack Web API base URL.", protocols: ["http", "https"], default: "https://slack.com/api", example: "https://slack.com/api" }),
              channel: field.string({ description: "Channel id or name messages are posted to (type slack).", optional: true, example: "C0123456789" }),
              token: secret("bot token (`xoxb-…`)"),
              webhookUrl: secret("incoming-webhook URL (`https://hooks.slack.com/services/…`; it is a credential)"),
            },
            { description: "Slack sink: with a bot token, chat.postMessage, repeats as thread replies and a chat.update of the first message; with an incoming-webhook URL instead (simpler mode), one message per revision, repeats as new messages marked as repeats (webhooks cannot thread)." },
          ),
          github: field.object(
            {
              apiUrl: field.url({ description: "GitHub REST API base URL (GitHub Enterprise: `https://HOST/api/v3`).", protocols: ["http", "https"], default: "https://api.github.com", example: "https://github.example.com/api/v3" }),
              repository: field.string({ description: "`owner/name` of the repository issues are opened in (type github).", pattern: /^[\w.-]+\/[\w.-]+$/, patternHint: "owner/name", optional: true, example: "acme/oncall" }),
              token: secret("token (fine-grained: Issues read and write)"),
              labels: field.list({ description: "Labels of every issue opened.", default: ["faro"], example: ["faro", "incident"] }),
              assignees: field.list({ description: "Logins every issue is assigned to.", default: [], example: ["oncall-bot"] }),
            },
            { description: "GitHub Issues sink: an issue per incident, a comment per repeat." },
          ),
          jira: field.object(
            {
              url: field.url({ description: "Jira Cloud site (type jira); the REST API v3 is under `/rest/api/3`.", protocols: ["http", "https"], optional: true, example: "https://acme.atlassian.net" }),
              project: field.string({ description: "Project key issues are created in.", optional: true, example: "OPS" }),
              issueType: field.string({ description: "Issue type name.", default: "Bug", example: "Incident" }),
              email: field.string({ description: "Account email of the API token (basic auth).", optional: true, example: "faro@acme.com" }),
              token: secret("API token"),
              labels: field.list({ description: "Labels of every issue created (plus the incident's own `faro-<incidentId>`).", default: ["faro"], example: ["faro"] }),
              priorities: field.map({ description: "Jira priority name per severity; a severity without one leaves the priority unset.", default: { critical: "Highest", high: "High", medium: "Medium", low: "Low", info: "Lowest" }, example: { critical: "P1", high: "P2" } }),
            },
            { description: "Jira Cloud sink (REST API v3): an issue per incident with an ADF description, a comment per repeat." },
          ),
          s3: field.object(
            {
              bucket: field.string({ description: "Bucket bundles are written to (type s3).", optional: true, example: "faro-incidents" }),
              prefix: field.string({ description: "Key prefix: a bundle's objects are `<prefix><cluster>/<namespace>/<incidentId>/<repeatCount>/<file>` (docs/forwarder.md).", default: "faro/", example: "prod/faro/" }),
              region: field.string({ description: "Region of the bucket.", default: "us-east-1", example: "eu-central-1" }),
              endpoint: field.url({ description: "Endpoint of an S3-compatible store (MinIO, SeaweedFS, Ceph…); AWS when unset.", protocols: ["http", "https"], optional: true, example: "http://minio.storage.svc:9000" }),
              forcePathStyle: field.boolean({ description: "Path-style URLs (`endpoint/bucket/key`), as most S3-compatible stores need.", default: false, example: true }),
              accessKeyId: secret("access key id (unset: the AWS SDK's default chain — IRSA, instance profile, AWS_* variables)"),
              secretAccessKey: secret("secret access key"),
              serverSideEncryption: field.enum(["none", "AES256", "aws:kms"], { description: "Server-side encryption of every object.", default: "none", example: "aws:kms" }),
              kmsKeyId: field.string({ description: "KMS key for `aws:kms` (the bucket's default key when unset).", optional: true, example: "arn:aws:kms:eu-central-1:111122223333:key/abcd" }),
            },
            { description: "Object storage sink: one bundle (incident, story file, logs) per incident revision in any S3-compatible store (AWS SDK v3)." },
          ),
          directory: field.object(
            {
              path: field.string({ description: "Directory bundles are written to (type directory): `<path>/<cluster>/<namespace>/<incidentId>/<repeatCount>/<file>`.", optional: true, example: "/var/lib/faro/incidents" }),
            },
            { description: "Local-directory sink (an EFS or other shared volume) for clusters without object storage." },
          ),
          bundle: field.object(
            {
              storyDir: field.string({ description: "The writer's story directory (its `dir`, e.g. a shared volume): the bundle's story.json is the story's newest window file there; unset or not found: rebuilt from FARO_STORY.", optional: true, example: "/var/lib/faro/stories" }),
              readTimeout: field.duration({ description: "A read of the story from FARO_STORY that receives nothing for this long fails the attempt (retried).", default: "5s", example: "30s", min: 100 }),
            },
            { description: "What the s3 and directory sinks bundle besides the incident: the story file and the failing container's logs." },
          ),
        },
        { description: "One sink." },
      ),
      { description: "Sinks by name; each has its own durable consumer on FARO_INCIDENT, so a slow or broken sink never holds back another.", default: [], example: [{ name: "hooks", type: "webhook", webhook: { url: "https://hooks.example.com/faro" } }] },
    ),
    routes: field.array(
      field.object(
        {
          sinks: field.list({ description: "Sinks this route sends to; empty: every sink.", default: [], example: ["pager"] }),
          ...matcher,
        },
        { description: "One route: an incident matching every non-empty matcher goes to the route's sinks." },
      ),
      { description: "Which incidents go to which sink. Without routes every incident goes to every sink; with routes, a sink gets an incident only when a route naming it (or naming none) matches.", default: [], example: [{ sinks: ["pager"], severities: ["critical"] }] },
    ),
    silences: field.array(
      field.object(
        {
          name: field.string({ description: "Name in logs and in `faro_forwarder_silenced_total{silence}`.", optional: true, example: "maintenance-shop" }),
          starts: field.string({ description: "Start of the window (RFC3339); unset: already started.", optional: true, example: "2026-01-10T22:00:00Z" }),
          ends: field.string({ description: "End of the window (RFC3339); unset: until removed.", optional: true, example: "2026-01-11T02:00:00Z" }),
          sinks: field.list({ description: "Sinks silenced; empty: every sink.", default: [], example: ["slack"] }),
          ...matcher,
        },
        { description: "One silence: matching incidents are not delivered during the window (counted, acked)." },
      ),
      { description: "Silences: a time window plus a matcher.", default: [], example: [{ name: "maintenance", namespaces: ["shop"], ends: "2026-01-11T02:00:00Z" }] },
    ),
  },
  { httpPort: 9106 },
);

export type ForwarderConfig = ConfigOf<typeof configSchema>;
export type SinkConfig = ForwarderConfig["sinks"][number];
type MatcherConfig = ForwarderConfig["routes"][number];

/** What routes and silences look at in an incident. */
export interface MatchTarget {
  tenant: string;
  namespace: string;
  reason: string;
  severity: string;
  labels: Readonly<Record<string, string>>;
}

export interface CompiledMatcher {
  (t: MatchTarget): boolean;
}

export interface CompiledRoute {
  sinks: ReadonlySet<string>;
  matches: CompiledMatcher;
}

export interface CompiledSilence {
  name: string;
  sinks: ReadonlySet<string>;
  startsMs: number;
  endsMs: number;
  matches: CompiledMatcher;
}

export interface CompiledForwarderConfig {
  routes: readonly CompiledRoute[];
  silences: readonly CompiledSilence[];
}

const SEVERITY_VALUES = new Set(["critical", "high", "medium", "low", "info"]);

function compileMatcher(m: Omit<MatcherConfig, "sinks">, at: string, issues: ConfigIssue[]): CompiledMatcher {
  const pats = (key: "tenants" | "namespaces" | "reasons"): NamePattern | undefined => {
    const list = m[key];
    if (list.length === 0) return undefined;
    try {
      return compileNamePatterns(list);
    } catch (err) {
      issues.push({ path: `${at}.${key}`, message: (err as Error).message, value: list });
      return undefined;
    }
  };
  const tenants = pats("tenants");
  const namespaces = pats("namespaces");
  const reasons = pats("reasons");
  m.severities.forEach((s, i) => {
    if (!SEVERITY_VALUES.has(s)) issues.push({ path: `${at}.severities[${i}]`, message: "not a severity", value: s, allowed: [...SEVERITY_VALUES].join(", ") });
  });
  const severities = m.severities.length ? new Set(m.severities) : undefined;
  let labels: LabelPredicate | undefined;
  if (m.labels.trim() !== "") {
    try {
      labels = compileLabelSelector(m.labels);
    } catch (err) {
      issues.push({ path: `${at}.labels`, message: (err as Error).message, value: m.labels });
    }
  }
  return (t) =>
    (!tenants || tenants(t.tenant)) &&
    (!namespaces || namespaces(t.namespace)) &&
    (!reasons || reasons(t.reason)) &&
    (!severities || severities.has(t.severity)) &&
    (!labels || labels(t.labels));
}

function parseTime(v: string | undefined, path: string, issues: ConfigIssue[], fallback: number): number {
  if (v === undefined) return fallback;
  const ms = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/.test(v) ? Date.parse(v) : NaN;
  if (Number.isNaN(ms)) {
    issues.push({ path, message: "not an RFC3339 time", value: v, allowed: "2026-01-10T22:00:00Z" });
    return fallback;
  }
  return ms;
}

function requireField(issues: ConfigIssue[], at: string, value: unknown, why: string): void {
  if (value === undefined || value === "") issues.push({ path: at, message: `required ${why}` });
}

function checkSecret(issues: ConfigIssue[], at: string, s: { file?: string | undefined; env?: string | undefined }, required: boolean, why: string): void {
  if (s.file !== undefined && s.env !== undefined) issues.push({ path: at, message: "set either file or env, not both" });
  else if (required && s.file === undefined && s.env === undefined) issues.push({ path: `${at}.file`, message: `required ${why} (or ${at}.env)` });
}

/** Checks every sink, route and silence; throws one ConfigError naming every problem (exit 2). */
export function compileForwarderConfig(config: ForwarderConfig): CompiledForwarderConfig {
  const issues: ConfigIssue[] = [];
  const names = new Set<string>();
  config.sinks.forEach((s, i) => {
    const at = `sinks[${i}]`;
    requireField(issues, `${at}.name`, s.name, "for every sink");
    requireField(issues, `${at}.type`, s.type, `(one of ${SINK_TYPES.join(", ")})`);
    if (s.name !== undefined) {
      if (names.has(s.name)) issues.push({ path: `${at}.name`, message: "another sink has this name", value: s.name });
      names.add(s.name);
    }
    if (s.insights && (s.type === "grpc" || s.type === "s3" || s.type === "directory")) issues.push({ path: `${at}.insights`, message: `a ${s.type} sink takes no insights (slack, github, jira and webhook do)` });
    if (s.retry.max < s.retry.base) issues.push({ path: `${at}.retry.max`, message: "must not be below retry.base", value: s.retry.max });
    switch (s.type) {
      case "webhook":
        requireField(issues, `${at}.webhook.url`, s.webhook.url, "for a webhook sink");
        checkSecret(issues, `${at}.webhook.signingSecret`, s.webhook.signingSecret, false, "");
        checkSecret(issues, `${at}.webhook.token`, s.webhook.token, false, "");
        for (const h of Object.keys(s.webhook.headers)) {
          if (/^(authorization|content-type|faro-signature|faro-idempotency-key|idempotency-key)$/i.test(h)) issues.push({ path: `${at}.webhook.headers.${h}`, message: "set by the forwarder itself" });
        }
        break;
      case "grpc": {
        requireField(issues, `${at}.grpc.address`, s.grpc.address, "for a grpc sink");
        if (s.grpc.address !== undefined && !/^[^\s:]+:\d{1,5}$|^\[[0-9a-fA-F:]+\]:\d{1,5}$/.test(s.grpc.address)) issues.push({ path: `${at}.grpc.address`, message: "expected host:port", value: s.grpc.address });
        if ((s.grpc.cert === undefined) !== (s.grpc.key === undefined)) issues.push({ path: `${at}.grpc.${s.grpc.cert === undefined ? "cert" : "key"}`, message: "cert and key go together" });
        if (s.grpc.insecure && (s.grpc.cert !== undefined || s.grpc.ca !== undefined)) issues.push({ path: `${at}.grpc.insecure`, message: "insecure excludes ca/cert/key" });
        break;
      }
      case "slack":
      {
        const hook = s.slack.webhookUrl.file !== undefined || s.slack.webhookUrl.env !== undefined;
        const bot = s.slack.token.file !== undefined || s.slack.token.env !== undefined;
        if (hook && bot) issues.push({ path: `${at}.slack.webhookUrl`, message: "set either webhookUrl (incoming webhook) or token (bot), not both" });
        if (hook) {
          checkSecret(issues, `${at}.slack.webhookUrl`, s.slack.webhookUrl, true, "");
          if (s.slack.channel !== undefined) issues.push({ path: `${at}.slack.channel`, message: "an incoming webhook posts to its own channel; channel is for the bot token mode" });
        } else {
          requireField(issues, `${at}.slack.channel`, s.slack.channel, "for a slack sink with a bot token");
          checkSecret(issues, `${at}.slack.token`, s.slack.token, true, "for a slack sink (or slack.webhookUrl for an incoming webhook)");
        }
        break;
      }
      case "github":
        requireField(issues, `${at}.github.repository`, s.github.repository, "for a github sink");
        checkSecret(issues, `${at}.github.token`, s.github.token, true, "for a github sink");
        break;
      case "jira":
        requireField(issues, `${at}.jira.url`, s.jira.url, "for a jira sink");
        requireField(issues, `${at}.jira.project`, s.jira.project, "for a jira sink");
        requireField(issues, `${at}.jira.email`, s.jira.email, "for a jira sink");
        checkSecret(issues, `${at}.jira.token`, s.jira.token, true, "for a jira sink");
        break;
      case "s3":
        requireField(issues, `${at}.s3.bucket`, s.s3.bucket, "for an s3 sink");
        checkSecret(issues, `${at}.s3.accessKeyId`, s.s3.accessKeyId, false, "");
        checkSecret(issues, `${at}.s3.secretAccessKey`, s.s3.secretAccessKey, false, "");
        if ((s.s3.accessKeyId.file ?? s.s3.accessKeyId.env) === undefined !== ((s.s3.secretAccessKey.file ?? s.s3.secretAccessKey.env) === undefined)) {
          issues.push({ path: `${at}.s3.secretAccessKey`, message: "accessKeyId and secretAccessKey go together" });
        }
        if (s.s3.kmsKeyId !== undefined && s.s3.serverSideEncryption !== "aws:kms") issues.push({ path: `${at}.s3.kmsKeyId`, message: "needs serverSideEncryption aws:kms" });
        break;
      case "directory":
        requireField(issues, `${at}.directory.path`, s.directory.path, "for a directory sink");
        break;
      case undefined:
        break;
    }
  });
  const routes = config.routes.map((r, i) => {
    r.sinks.forEach((n, j) => {
      if (!names.has(n)) issues.push({ path: `routes[${i}].sinks[${j}]`, message: "no sink has this name", value: n, allowed: [...names].join(", ") || "(no sinks)" });
    });
    return { sinks: new Set(r.sinks), matches: compileMatcher(r, `routes[${i}]`, issues) };
  });
  const silences = config.silences.map((s, i) => {
    const at = `silences[${i}]`;
    s.sinks.forEach((n, j) => {
      if (!names.has(n)) issues.push({ path: `${at}.sinks[${j}]`, message: "no sink has this name", value: n, allowed: [...names].join(", ") || "(no sinks)" });
    });
    const startsMs = parseTime(s.starts, `${at}.starts`, issues, -Infinity);
    const endsMs = parseTime(s.ends, `${at}.ends`, issues, Infinity);
    if (endsMs <= startsMs) issues.push({ path: `${at}.ends`, message: "must be after starts", value: s.ends });
    return { name: s.name ?? `silence-${i}`, sinks: new Set(s.sinks), startsMs, endsMs, matches: compileMatcher(s, at, issues) };
  });
  if (issues.length > 0) throw new ConfigError("forwarder", issues);
  return { routes, silences };
}
