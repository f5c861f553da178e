// Webhook sink: POSTs the incident as canonical JSON with an HMAC-SHA256 signature over `<timestamp>.<body>`
// (header `Faro-Signature: t=<unix seconds>,v1=<hex>`), the idempotency key and custom headers.
import { createHmac } from "node:crypto";
import type { Sink, SinkContext } from "../sink.js";
import { deliveryJson, type Delivery } from "../incident.js";
import { insightJson, type InsightDelivery } from "../insight.js";
import { readSecret } from "../secrets.js";
import { httpFailure, request } from "./http.js";

export const SIGNATURE_HEADER = "Faro-Signature";
export const IDEMPOTENCY_HEADER = "Idempotency-Key";

/** `t=<unix seconds>,v1=<hex hmac-sha256(secret, "<t>.<body>")>`: what a receiver recomputes to verify. */
export function signature(secret: string, body: string, unixSeconds: number): string {
  const mac = createHmac("sha256", secret).update(`${unixSeconds}.${body}`).digest("hex");
  return `t=${unixSeconds},v1=${mac}`;
}

export function createWebhookSink(ctx: SinkContext, now: () => number = Date.now): Sink {
  const cfg = ctx.config.webhook;
  const url = cfg.url!;
  let signingSecret: string | undefined;
  let token: string | undefined;
  async function post(key: string, event: string, body: string, signal: AbortSignal): Promise<void> {
    const headers: Record<string, string> = {
      ...cfg.headers,
      "content-type": "application/json",
      [IDEMPOTENCY_HEADER]: key,
      "Faro-Event": event,
      "user-agent": "faro-forwarder",
    };
    if (signingSecret !== undefined) headers[SIGNATURE_HEADER] = signature(signingSecret, body, Math.floor(now() / 1000));
    if (token !== undefined) headers["authorization"] = `Bearer ${token}`;
    const res = await request(ctx.name, key, url, { method: "POST", headers, body }, ctx.config.timeout, signal);
    if (res.ok) {
      await res.body?.cancel();
      return;
    }
    const text = await res.text().catch(() => "");
    throw httpFailure(ctx.name, key, res, text);
  }

  return {
    async start() {
      signingSecret = await readSecret(ctx.name, "webhook.signingSecret", cfg.signingSecret, ctx.env);
      token = await readSecret(ctx.name, "webhook.token", cfg.token, ctx.env);
      ctx.logger.info({ sink: ctx.name, url: new URL(url).origin, signed: signingSecret !== undefined, bearer: token !== undefined }, "webhook sink ready");
    },
    async deliver(d: Delivery, signal: AbortSignal) {
      await post(d.key, d.isRepeat ? "incident.updated" : "incident.opened", JSON.stringify(deliveryJson(d)), signal);
    },
    async deliverInsight(d: InsightDelivery, signal: AbortSignal) {
      await post(d.key, "insight.added", JSON.stringify(insightJson(d)), signal);
    },
    async stop() {},
  };
}
