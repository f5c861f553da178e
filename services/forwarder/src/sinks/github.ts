// GitHub Issues sink (REST): POST /repos/{owner}/{repo}/issues for an incident, POST …/issues/{n}/comments for each
// repeat, GET /search/issues for the marker when Redis does not know the issue. Primary (403/429 + Retry-After)
// and exhausted (x-ratelimit-remaining: 0, x-ratelimit-reset) rate limits are retried after the given time.
import { retryable } from "../errors.js";
import type { Delivery } from "../incident.js";
import { insightLines } from "../insight.js";
import { readSecret } from "../secrets.js";
import type { Sink, SinkContext } from "../sink.js";
import { httpFailure, parseRetryAfter, request } from "./http.js";
import { createTicketSink, ticketContent, ticketMarker, type TicketBackend } from "./tickets.js";

/** The issue body (Markdown): facts, exit, the last redacted log lines and the marker. */
export function githubBody(d: Delivery, repeat: boolean): string {
  const c = ticketContent(d.incident);
  const lines = [
    repeat ? `**Repeat ×${d.incident.repeatCount}** of this incident (last seen ${d.incident.lastSeen}).` : `**${c.title}**`,
    "",
    "| | |",
    "|---|---|",
    ...c.facts.map(([k, v]) => `| ${k} | ${v.replace(/\|/g, "\\|")} |`),
  ];
  if (c.detail) lines.push("", c.detail);
  if (c.logs.length) lines.push("", "Last log lines (redacted):", "", "```", ...c.logs.map((l) => l.replace(/```/g, "'''")), "```");
  lines.push("", `<sub>${ticketMarker(d.incident.incidentId)} · idempotency key ${d.key} · sent by Faro</sub>`);
  return lines.join("\n");
}

export function createGithubSink(ctx: SinkContext): Sink {
  const cfg = ctx.config.github;
  const base = cfg.apiUrl.replace(/\/+$/, "");
  const repo = cfg.repository!;
  let token = "";

  async function call<T>(method: string, path: string, key: string, body: unknown, signal: AbortSignal): Promise<T> {
    const res = await request(
      ctx.name,
      key,
      `${base}${path}`,
      {
        method,
        headers: { accept: "application/vnd.github+json", authorization: `Bearer ${token}`, "x-github-api-version": "2022-11-28", "content-type": "application/json", "user-agent": "faro-forwarder" },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      },
      ctx.config.timeout,
      signal,
    );
    const text = await res.text().catch(() => "");
    if (res.ok) return (text ? JSON.parse(text) : {}) as T;
    // An exhausted rate limit is a 403 (or 429) that says when to come back.
    if ((res.status === 403 || res.status === 429) && (res.headers.get("retry-after") || res.headers.get("x-ratelimit-remaining") === "0")) {
      const reset = Number(res.headers.get("x-ratelimit-reset"));
      const after = parseRetryAfter(res.headers.get("retry-after")) ?? (Number.isFinite(reset) && reset > 0 ? Math.max(0, reset * 1000 - Date.now()) : 60_000);
      throw retryable(ctx.name, key, `HTTP ${res.status} rate limited`, { status: res.status, retryAfterMs: after });
    }
    throw httpFailure(ctx.name, key, res, text);
  }

  const backend: TicketBackend = {
    async start() {
      token = (await readSecret(ctx.name, "github.token", cfg.token, ctx.env))!;
      ctx.logger.info({ sink: ctx.name, api: new URL(base).origin, repository: repo }, "github sink ready");
    },
    async create(d, signal) {
      const issue = await call<{ number: number }>(
        "POST",
        `/repos/${repo}/issues`,
        d.key,
        { title: ticketContent(d.incident).title, body: githubBody(d, false), labels: [...cfg.labels], assignees: [...cfg.assignees] },
        signal,
      );
      return String(issue.number);
    },
    async comment(ref, d, signal) {
      await call("POST", `/repos/${repo}/issues/${ref}/comments`, d.key, { body: githubBody(d, true) }, signal);
    },
    async commentInsight(ref, d, signal) {
      const t = insightLines(d.insight);
      const body = [`**${t.title}**`, "", ...t.lines, "", `<sub>${ticketMarker(d.insight.incidentId)} · idempotency key ${d.key} · sent by Faro</sub>`].join("\n");
      await call("POST", `/repos/${repo}/issues/${ref}/comments`, d.key, { body }, signal);
    },
    async find(incidentId, key, signal) {
      const q = encodeURIComponent(`repo:${repo} is:issue in:body "${ticketMarker(incidentId)}"`);
      const r = await call<{ items?: { number: number }[] }>("GET", `/search/issues?q=${q}&per_page=1`, key, undefined, signal);
      const n = r.items?.[0]?.number;
      return n === undefined ? undefined : String(n);
    },
  };
  return createTicketSink(ctx, backend);
}
