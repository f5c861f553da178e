// The analyzer's configuration schema: its consumer, which built-in analyzers run, and the optional LLM provider.
import { defineSchema, field, type ConfigOf } from "@faro/config";

/** Names of the built-in analyzers (docs/analysis.md), in the order they run. */
export const BUILTIN_NAMES = ["oomkilled", "exit-code", "image-pull", "config-ref", "probe", "scheduling", "rollout", "node-pressure"] as const;
export type BuiltinName = (typeof BUILTIN_NAMES)[number];

export const LLM_PROVIDERS = ["none", "openai", "anthropic"] as const;
export type LlmProvider = (typeof LLM_PROVIDERS)[number];

export const configSchema = defineSchema(
  "analyzer",
  {
    builtins: field.list({
      description: `Built-in analyzers that run on every incident revision (offline and deterministic): ${BUILTIN_NAMES.join(", ")}. An empty list publishes \`builtin:none\` insights only.`,
      default: [...BUILTIN_NAMES],
      example: ["oomkilled", "image-pull"],
    }),
    consumer: field.object(
      {
        concurrency: field.int({ description: "Incident revisions analysed at once by one replica.", default: 8, example: 16, min: 1, max: 1024 }),
        maxAckPending: field.int({ description: "Unacknowledged incidents the durable consumer allows across all replicas.", default: 1024, example: 4096, min: 1 }),
        ackWait: field.duration({ description: "Redelivery timeout of an unacknowledged incident; handlers waiting for an LLM answer call working().", default: "60s", example: "2m", min: 1000 }),
        maxDeliver: field.int({ description: "Deliveries before an incident is dead-lettered (stage `deliver`).", default: 10, example: 20, min: 1 }),
      },
      { description: "Consumption of the incident stream (durable consumer `<cluster>_analyzer` on the cluster's FARO_INCIDENT subjects, shared by all replicas)." },
    ),
    llm: field.object(
      {
        provider: field.enum(LLM_PROVIDERS, {
          description: "LLM provider asked for a second insight per incident revision: `openai` (any OpenAI-compatible chat-completions API), `anthropic` (Messages API), `none` (built-ins only).",
          default: "none",
          example: "openai",
        }),
        endpoint: field.url({
          description: "Full URL of the API endpoint; default https://api.openai.com/v1/chat/completions for openai, https://api.anthropic.com/v1/messages for anthropic.",
          optional: true,
          example: "http://vllm.ai.svc:8000/v1/chat/completions",
          protocols: ["http", "https"],
        }),
        model: field.string({ description: "Model name sent with every request (required when a provider is set).", optional: true, example: "gpt-4o-mini" }),
        apiKey: field.string({ description: "API key (Bearer token for openai, x-api-key for anthropic). Prefer `llm.apiKeyFile`; never logged.", optional: true, example: "sk-…" }),
        apiKeyFile: field.string({ description: "File holding the API key (e.g. a mounted Kubernetes Secret); read at start, trailing whitespace removed.", optional: true, example: "/etc/faro/llm/api-key" }),
        timeout: field.duration({ description: "Time one request may take (connection and answer) before it is abandoned.", default: "30s", example: "60s", min: 100 }),
        maxTokens: field.int({ description: "Token budget of one answer (`max_tokens`).", default: 800, example: 2000, min: 16 }),
        maxPromptTokens: field.int({
          description: "Token budget of one prompt, estimated at 4 characters per token: log lines, events and manifests are trimmed (oldest log lines first) to fit.",
          default: 6000,
          example: 12_000,
          min: 256,
        }),
        maxTokensField: field.enum(["max_tokens", "max_completion_tokens"] as const, {
          description: "openai only: the request field carrying `llm.maxTokens` (`max_completion_tokens` for OpenAI's newer models, `max_tokens` for most compatible servers).",
          default: "max_tokens",
          example: "max_completion_tokens",
        }),
        concurrency: field.int({ description: "Requests to the provider in flight at once per replica; further incidents wait.", default: 2, example: 8, min: 1, max: 256 }),
        retries: field.int({ description: "Retries of a request refused with 429 (rate limit) or a 5xx, after the Retry-After the answer names (else backoff); then the LLM insight is skipped (counted).", default: 2, example: 4, min: 0, max: 10 }),
        retryMaxDelay: field.duration({ description: "Longest wait before a retry, whatever Retry-After says.", default: "20s", example: "1m", min: 0 }),
        cache: field.object(
          {
            size: field.int({ description: "Answers kept, by incident fingerprint (reason, workload, container, exit code, the shape of the last log lines and Events); 0 disables the cache.", default: 1000, example: 10_000, min: 0 }),
            ttl: field.duration({ description: "How long a cached answer is reused for incidents with the same fingerprint.", default: "1h", example: "24h", min: 1000 }),
          },
          { description: "Cache of LLM answers by incident fingerprint: a repeat or a look-alike incident does not ask again." },
        ),
      },
      { description: "Optional LLM analyzer. Only redacted incident content is sent; the prompt is checked again with the redactor's built-in detectors before sending and refused (counted, logged) if anything would leak." },
    ),
  },
  { httpPort: 9108 },
);

export type AnalyzerConfig = ConfigOf<typeof configSchema>;
