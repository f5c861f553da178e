// The bounds every MCP call goes through — request rate per caller, calls at once, result size — with their
// metrics, and one log line per call (to stderr: stdout is the stdio transport) that never carries a token.
import type { Logger } from "pino";
import { counter, createMetrics, histogram, type Registry, type ServiceMetrics } from "@faro/observability";
import type { McpConfig, Principal } from "./config.js";
import { RefusedError } from "./errors.js";

export interface McpMetrics {
  readonly service: ServiceMetrics;
  readonly registry: Registry;
  calls: ReturnType<typeof counter<"tool" | "outcome">>;
  refused: ReturnType<typeof counter<"reason">>;
  duration: ReturnType<typeof histogram<"tool">>;
  resultBytes: ReturnType<typeof histogram<"tool">>;
  invalidFiles: ReturnType<typeof counter>;
  undecodable: ReturnType<typeof counter<"stream">>;
}

export function createMcpMetrics(): McpMetrics {
  const service = createMetrics("mcp");
  const registry = service.registry;
  return {
    service,
    registry,
    calls: counter(registry, { name: "faro_mcp_calls_total", help: "MCP calls (tools, resources, prompts) by name and outcome (ok, error, refused).", labelNames: ["tool", "outcome"] }),
    refused: counter(registry, {
      name: "faro_mcp_refused_total",
      help: "Calls and HTTP requests refused, by reason (rate_limited, busy, result_too_large, request_too_large, unauthorized, ...).",
      labelNames: ["reason"],
    }),
    duration: histogram(registry, { name: "faro_mcp_call_duration_seconds", help: "Time to serve one MCP call.", labelNames: ["tool"], buckets: [0.005, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10] }),
    resultBytes: histogram(registry, { name: "faro_mcp_result_bytes", help: "Size of each call's result (JSON bytes).", labelNames: ["tool"], buckets: [256, 1024, 4096, 16384, 65536, 262144, 1048576] }),
    invalidFiles: counter(registry, { name: "faro_mcp_story_files_invalid_total", help: "Story files skipped because they were not JSON or did not validate." }),
    undecodable: counter(registry, { name: "faro_mcp_messages_undecodable_total", help: "Bus messages skipped because they could not be decoded.", labelNames: ["stream"] }),
  };
}

/** A caller's budget: `ratePerMinute` calls, refilled continuously. */
class TokenBucket {
  private tokens: number;
  private at = Date.now();
  constructor(private readonly perMinute: number) {
    this.tokens = perMinute;
  }
  take(): boolean {
    const now = Date.now();
    this.tokens = Math.min(this.perMinute, this.tokens + ((now - this.at) * this.perMinute) / 60_000);
    this.at = now;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}

/** Callers remembered for rate limiting; the least recently seen is forgotten beyond this. */
const MAX_BUCKETS = 10_000;

export class Limits {
  private readonly buckets = new Map<string, TokenBucket>();
  private inFlight = 0;
  private readonly depth: { setDepth(n: number): void };

  constructor(
    readonly config: McpConfig["limits"],
    private readonly metrics: McpMetrics,
    private readonly logger: Logger,
  ) {
    this.depth = metrics.service.queue("mcp_calls_in_flight", config.maxConcurrent);
    metrics.service.queue("mcp_result_bytes", config.maxResultBytes);
    metrics.service.queue("mcp_request_bytes", config.maxRequestBytes);
    metrics.service.queue("mcp_page_size", config.maxPageSize);
    metrics.service.queue("mcp_rate_per_minute", config.ratePerMinute);
    metrics.service.queue("mcp_incident_scan", config.maxScan);
  }

  /**
   * Runs one call under the bounds: refuses it when the caller is over its rate or the process is at its
   * concurrency, refuses a result over maxResultBytes, logs the call (name, caller, arguments, outcome, time).
   */
  async run<T>(name: string, who: Principal, args: Record<string, unknown>, fn: () => Promise<T>, logArgs: Record<string, unknown> = args): Promise<T> {
    const started = Date.now();
    const log = (outcome: string, extra: Record<string, unknown> = {}) =>
      this.logger.info({ call: name, caller: who.name, args: loggable(logArgs), outcome, ms: Date.now() - started, ...extra }, "mcp call");
    const refuse = (err: RefusedError): never => {
      this.metrics.refused.inc({ reason: err.reason });
      this.metrics.calls.inc({ tool: name, outcome: "refused" });
      log("refused", { reason: err.reason });
      throw err;
    };
    let bucket = this.buckets.get(who.name);
    if (bucket === undefined) {
      if (this.buckets.size >= MAX_BUCKETS) this.buckets.delete(this.buckets.keys().next().value!);
      bucket = new TokenBucket(this.config.ratePerMinute);
    } else this.buckets.delete(who.name);
    this.buckets.set(who.name, bucket);
    // The same bound as the HTTP body, for every transport (stdio has no body to measure).
    const argBytes = Buffer.byteLength(JSON.stringify(args) ?? "", "utf8");
    if (argBytes > this.config.maxRequestBytes)
      refuse(new RefusedError("request_too_large", `request too large: the arguments are ${argBytes} bytes, over limits.maxRequestBytes (${this.config.maxRequestBytes})`));
    if (!bucket.take()) refuse(new RefusedError("rate_limited", `rate limit: at most ${this.config.ratePerMinute} calls per minute per caller (limits.ratePerMinute); retry in a few seconds`));
    if (this.inFlight >= this.config.maxConcurrent) refuse(new RefusedError("busy", `busy: ${this.config.maxConcurrent} calls are being served (limits.maxConcurrent); retry shortly`));
    this.inFlight++;
    this.depth.setDepth(this.inFlight);
    const end = this.metrics.duration.startTimer({ tool: name });
    try {
      const result = await fn();
      // A tool result carries its JSON twice (text and structuredContent): the bound is on the data, once.
      const measured = (result as { structuredContent?: unknown }).structuredContent ?? result;
      const bytes = Buffer.byteLength(JSON.stringify(measured) ?? "", "utf8");
      this.metrics.resultBytes.observe({ tool: name }, bytes);
      if (bytes > this.config.maxResultBytes)
        refuse(
          new RefusedError(
            "result_too_large",
            `result too large: ${bytes} bytes, over limits.maxResultBytes (${this.config.maxResultBytes}); ask for less — a smaller limit, a narrower time range, includeLogs=false, or the next page via cursor`,
          ),
        );
      this.metrics.calls.inc({ tool: name, outcome: "ok" });
      log("ok", { bytes });
      return result;
    } catch (err) {
      if (!(err instanceof RefusedError && err.reason === "result_too_large")) {
        if (err instanceof RefusedError) {
          this.metrics.refused.inc({ reason: err.reason });
          this.metrics.calls.inc({ tool: name, outcome: "refused" });
          log("refused", { reason: err.reason });
        } else {
          this.metrics.calls.inc({ tool: name, outcome: "error" });
          log("error", { error: (err as Error).message });
        }
      }
      throw err;
    } finally {
      end();
      this.inFlight--;
      this.depth.setDepth(this.inFlight);
    }
  }
}

/** Arguments as logged: strings cut to 200 characters (patterns and ids are not secrets; tokens never reach here). */
function loggable(args: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(args).map(([k, v]) => [k, typeof v === "string" && v.length > 200 ? `${v.slice(0, 200)}…` : v]));
}
