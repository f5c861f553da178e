// Slack sink (Web API with a bot token): the first revision of an incident is a chat.postMessage with Block Kit;
// every repeat is a reply in that message's thread plus a chat.update of the first message (new count). The
// thread (channel + ts) is kept in Redis by incident id, so a restarted forwarder never opens a second one.
// HTTP 429 carries Retry-After (honoured by the sink runner); `ok: false` errors are classified below.
// Incoming-webhook mode (slack.webhookUrl instead of a token): one POST per revision to the hook URL. A webhook
// cannot thread or update, so a repeat is a new message in the hook's channel whose text and header begin
// "Repeat ×<count>" and whose context names the incident id — readers see the repeats as a sequence of short
// follow-ups; the revision already posted is remembered in Redis so a redelivery never posts it twice.
import type { IncidentContext } from "@faro/contracts";
import { SecretError, permanent, retryable } from "../errors.js";
import { workloadOf, type Delivery } from "../incident.js";
import { insightLines, type InsightDelivery } from "../insight.js";
import { readSecret } from "../secrets.js";
import type { Sink, SinkContext } from "../sink.js";
import { httpFailure, request } from "./http.js";

/** Slack `error` codes another attempt may fix; every other `ok: false` is permanent (invalid_auth, channel_not_found…). */
const RETRYABLE_ERRORS = new Set(["ratelimited", "rate_limited", "internal_error", "fatal_error", "service_unavailable", "request_timeout"]);
/** How long the thread of an incident is remembered (FARO_INCIDENT keeps incidents 30 days). */
const THREAD_TTL_SECONDS = 30 * 24 * 3600;

type Block = Record<string, unknown>;

const mrkdwn = (text: string) => ({ type: "mrkdwn", text });
const clip = (s: string, n: number) => (s.length > n ? `${s.slice(0, n - 1)}…` : s);

/** The Block Kit message of an incident revision: reason, workload, namespace, cluster, count, exit, logs, story. */
export function incidentBlocks(i: IncidentContext): { text: string; blocks: Block[] } {
  const workload = workloadOf(i);
  const text = `${i.reason} in ${i.namespace}/${workload} (${i.cluster}) ×${i.repeatCount}`;
  const exit = i.exitCode !== undefined ? `exit code ${i.exitCode}` : "";
  const fields = [
    mrkdwn(`*Workload*\n${workload}`),
    mrkdwn(`*Namespace*\n${i.namespace}`),
    mrkdwn(`*Cluster*\n${i.cluster}`),
    mrkdwn(`*Count*\n${i.repeatCount}`),
    mrkdwn(`*Severity*\n${i.severity}`),
    mrkdwn(`*Container*\n${i.container || "-"}`),
  ];
  const blocks: Block[] = [
    { type: "header", text: { type: "plain_text", text: clip(`${i.reason}: ${workload}`, 150) } },
    { type: "section", fields },
  ];
  if (exit || i.message) blocks.push({ type: "section", text: mrkdwn(clip([exit, i.message].filter(Boolean).join(" — "), 2900)) });
  const lines = (i.logTail.length ? i.logTail : i.previousLog).slice(-10).map((l) => l.line);
  if (lines.length) blocks.push({ type: "section", text: mrkdwn(`*Last log lines (redacted)*\n\`\`\`${clip(lines.join("\n").replace(/```/g, "'''"), 2800)}\`\`\``) });
  blocks.push({ type: "context", elements: [mrkdwn(`story \`${i.storyId}\` · incident \`${i.incidentId}\` · last seen ${i.lastSeen}`)] });
  return { text, blocks };
}

/** The incoming-webhook message of a revision: the Block Kit message, marked as a repeat from the second revision on. */
export function webhookMessage(i: IncidentContext): { text: string; blocks: Block[] } {
  const msg = incidentBlocks(i);
  if (i.repeatCount <= 1) return msg;
  const text = `Repeat ×${i.repeatCount}: ${msg.text}`;
  const [header, ...rest] = msg.blocks;
  const h = header as { text: { text: string } };
  return { text, blocks: [{ type: "header", text: { type: "plain_text", text: clip(`Repeat ×${i.repeatCount} — ${h.text.text}`, 150) } }, ...rest] };
}

/** The message of an insight: a thread reply (bot) or a follow-up message (incoming webhook). */
export function insightMessage(d: InsightDelivery): { text: string; blocks: Block[] } {
  const t = insightLines(d.insight);
  const text = `${t.title}: ${d.insight.probableCause || "unknown"}`;
  return {
    text,
    blocks: [
      { type: "section", text: mrkdwn(clip(`*${t.title}*\n${t.lines.join("\n")}`, 2900)) },
      { type: "context", elements: [mrkdwn(`story \`${d.insight.storyId}\` · incident \`${d.insight.incidentId}\``)] },
    ],
  };
}

/** Incoming-webhook mode: answers are plain text (`ok`, or an error such as `invalid_payload`, `no_service`). */
function createSlackWebhookSink(ctx: SinkContext): Sink {
  const cfg = ctx.config.slack;
  let url = "";
  const doneKey = (key: string) => `${ctx.keyPrefix}done:${key}`;
  const newestKey = (incidentId: string) => `${ctx.keyPrefix}newest:${incidentId}`;
  async function post(key: string, msg: { text: string; blocks: Block[] }, signal: AbortSignal): Promise<void> {
    const res = await request(
      ctx.name,
      key,
      url,
      { method: "POST", headers: { "content-type": "application/json; charset=utf-8" }, body: JSON.stringify({ text: msg.text, blocks: msg.blocks, unfurl_links: false }) },
      ctx.config.timeout,
      signal,
    );
    const text = await res.text().catch(() => "");
    if (!res.ok) throw httpFailure(ctx.name, key, res, text);
  }
  return {
    async start() {
      url = (await readSecret(ctx.name, "slack.webhookUrl", cfg.webhookUrl, ctx.env))!;
      let parsed: URL;
      try {
        parsed = new URL(url);
      } catch {
        throw new SecretError(ctx.name, "slack.webhookUrl", "is not a URL");
      }
      if (parsed.protocol !== "https:" && parsed.protocol !== "http:") throw new SecretError(ctx.name, "slack.webhookUrl", "must be an http(s) URL");
      // The path of a hook URL is its credential: only the origin is logged.
      ctx.logger.info({ sink: ctx.name, hook: parsed.origin, mode: "incoming-webhook" }, "slack sink ready");
    },
    async deliver(d, signal) {
      const redis = ctx.redis();
      if ((await redis.exists(doneKey(d.key))) === 1) return;
      const newest = Number((await redis.get(newestKey(d.incident.incidentId))) ?? 0);
      if (d.incident.repeatCount < newest) return;
      await post(d.key, webhookMessage(d.incident), signal);
      await redis.set(doneKey(d.key), "1", "EX", THREAD_TTL_SECONDS);
      await redis.set(newestKey(d.incident.incidentId), String(Math.max(newest, d.incident.repeatCount)), "EX", THREAD_TTL_SECONDS);
    },
    async deliverInsight(d, signal) {
      const redis = ctx.redis();
      if ((await redis.exists(doneKey(d.key))) === 1) return;
      await post(d.key, insightMessage(d), signal);
      await redis.set(doneKey(d.key), "1", "EX", THREAD_TTL_SECONDS);
    },
    async stop() {},
  };
}

export function createSlackSink(ctx: SinkContext): Sink {
  const cfg = ctx.config.slack;
  if (cfg.webhookUrl.file !== undefined || cfg.webhookUrl.env !== undefined) return createSlackWebhookSink(ctx);
  const base = cfg.apiUrl.replace(/\/+$/, "");
  let token = "";
  const threadKey = (incidentId: string) => `${ctx.keyPrefix}thread:${incidentId}`;
  const doneKey = (key: string) => `${ctx.keyPrefix}done:${key}`;
  const replyKey = (key: string) => `${ctx.keyPrefix}reply:${key}`;
  const newestKey = (incidentId: string) => `${ctx.keyPrefix}newest:${incidentId}`;

  async function call(method: string, d: { key: string }, body: Record<string, unknown>, signal: AbortSignal): Promise<{ channel?: string; ts?: string }> {
    const res = await request(
      ctx.name,
      d.key,
      `${base}/${method}`,
      { method: "POST", headers: { "content-type": "application/json; charset=utf-8", authorization: `Bearer ${token}` }, body: JSON.stringify(body) },
      ctx.config.timeout,
      signal,
    );
    const text = await res.text().catch(() => "");
    if (!res.ok) throw httpFailure(ctx.name, d.key, res, text);
    let json: { ok?: boolean; error?: string; channel?: string; ts?: string };
    try {
      json = JSON.parse(text) as typeof json;
    } catch {
      throw retryable(ctx.name, d.key, `${method}: response is not JSON`, { kind: "bad_response" });
    }
    if (json.ok === true) return json;
    const error = json.error ?? "unknown_error";
    if (RETRYABLE_ERRORS.has(error)) throw retryable(ctx.name, d.key, `${method}: ${error}`, { kind: `slack_${error}` });
    throw permanent(ctx.name, d.key, `${method}: ${error}`, { kind: `slack_${error}` });
  }

  return {
    async start() {
      token = (await readSecret(ctx.name, "slack.token", cfg.token, ctx.env))!;
      ctx.logger.info({ sink: ctx.name, api: new URL(base).origin, channel: cfg.channel }, "slack sink ready");
    },
    async deliver(d, signal) {
      const redis = ctx.redis();
      // A revision already shown (a redelivery after a lost ack): nothing to do, the receiver accepted it before.
      if ((await redis.exists(doneKey(d.key))) === 1) return;
      // A revision retried after a newer one was shown would turn the count back: the thread already says more.
      const newest = Number((await redis.get(newestKey(d.incident.incidentId))) ?? 0);
      if (d.incident.repeatCount < newest) return;
      const msg = incidentBlocks(d.incident);
      const thread = await redis.get(threadKey(d.incident.incidentId));
      if (thread === null) {
        const r = await call("chat.postMessage", d, { channel: cfg.channel, text: msg.text, blocks: msg.blocks, unfurl_links: false }, signal);
        if (!r.ts) throw retryable(ctx.name, d.key, "chat.postMessage: no ts in the response", { kind: "bad_response" });
        await redis.set(threadKey(d.incident.incidentId), `${r.channel ?? cfg.channel}|${r.ts}`, "EX", THREAD_TTL_SECONDS);
      } else {
        const sep = thread.indexOf("|");
        const channel = thread.slice(0, sep);
        const ts = thread.slice(sep + 1);
        // The reply is remembered on its own: when only the update failed (429), the retry does not reply twice.
        if ((await redis.exists(replyKey(d.key))) === 0) {
          await call("chat.postMessage", d, { channel, thread_ts: ts, text: msg.text, blocks: msg.blocks, unfurl_links: false }, signal);
          await redis.set(replyKey(d.key), "1", "EX", THREAD_TTL_SECONDS);
        }
        await call("chat.update", d, { channel, ts, text: msg.text, blocks: msg.blocks }, signal);
      }
      await redis.set(doneKey(d.key), "1", "EX", THREAD_TTL_SECONDS);
      await redis.set(newestKey(d.incident.incidentId), String(Math.max(newest, d.incident.repeatCount)), "EX", THREAD_TTL_SECONDS);
    },
    async deliverInsight(d: InsightDelivery, signal: AbortSignal) {
      const redis = ctx.redis();
      if ((await redis.exists(doneKey(d.key))) === 1) return;
      const thread = await redis.get(threadKey(d.insight.incidentId));
      if (thread === null) throw retryable(ctx.name, d.key, `no thread for incident ${d.insight.incidentId} yet`, { kind: "thread_pending" });
      const sep = thread.indexOf("|");
      const msg = insightMessage(d);
      await call("chat.postMessage", d, { channel: thread.slice(0, sep), thread_ts: thread.slice(sep + 1), text: msg.text, blocks: msg.blocks, unfurl_links: false }, signal);
      await redis.set(doneKey(d.key), "1", "EX", THREAD_TTL_SECONDS);
    },
    async stop() {},
  };
}
