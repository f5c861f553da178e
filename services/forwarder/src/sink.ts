// The one interface every sink implements; the sink runner (service.ts) owns retries, rate limits, routes and acks.
import type { Logger } from "@faro/observability";
import type { Bus } from "@faro/bus";
import type { Redis } from "ioredis";
import type { SinkConfig } from "./config.js";
import type { Delivery } from "./incident.js";
import type { InsightDelivery } from "./insight.js";
import type { ForwarderMetrics } from "./metrics.js";

export interface SinkContext {
  readonly name: string;
  readonly config: SinkConfig;
  readonly logger: Logger;
  readonly metrics: ForwarderMetrics;
  readonly env: Readonly<Record<string, string | undefined>>;
  /** The kernel's Redis connection (sinks that remember what they created: Slack threads). */
  readonly redis: () => Redis;
  /** The kernel's JetStream client and manager (bundles read the story from FARO_STORY). */
  readonly bus: Pick<Bus, "js" | "jsm">;
  /** Prefix of this sink's Redis keys: `faro:<cluster>:fwd:<sink>:`. */
  readonly keyPrefix: string;
}

export interface Sink {
  /** Reads secrets and certificates; throws SecretError / ForwarderError naming the field. */
  start(): Promise<void>;
  /**
   * Delivers one incident; resolves only once the receiver accepted it. Throws DeliveryError (retryable or
   * permanent, with Retry-After when the receiver gave one). Must pass `d.key` on as the idempotency key.
   */
  deliver(d: Delivery, signal: AbortSignal): Promise<void>;
  /**
   * Shows an insight about an incident this sink delivered (sinks with `insights: true`): a thread reply, a ticket
   * comment, an `insight.added` event. Throws a retryable DeliveryError while the incident's message or ticket is not
   * known yet. Sinks without it take no insights (the configuration refuses `insights: true` for them).
   */
  deliverInsight?(d: InsightDelivery, signal: AbortSignal): Promise<void>;
  /** Releases connections and timers. Idempotent. */
  stop(): Promise<void>;
  /** For readiness: `true`, or why not. */
  health?(): true | string;
}
