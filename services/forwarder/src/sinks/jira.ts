// Jira Cloud sink (REST API v3, basic auth with an account email and API token): POST /rest/api/3/issue with an
// Atlassian Document Format description, POST /rest/api/3/issue/{key}/comment for each repeat, and
// POST /rest/api/3/search/jql on the marker label `faro-incident-<id>` when Redis does not know the issue.
import type { Delivery } from "../incident.js";
import { insightLines, type InsightDelivery } from "../insight.js";
import { readSecret } from "../secrets.js";
import type { Sink, SinkContext } from "../sink.js";
import { httpFailure, request } from "./http.js";
import { createTicketSink, ticketContent, ticketMarker, type TicketBackend } from "./tickets.js";

type AdfNode = Record<string, unknown>;
const text = (t: string, marks?: { type: string }[]): AdfNode => ({ type: "text", text: t, ...(marks ? { marks } : {}) });
const paragraph = (...content: AdfNode[]): AdfNode => ({ type: "paragraph", content });

/** The ADF document of an incident revision (ADF forbids empty text nodes: empty parts are left out). */
export function jiraDocument(d: Delivery, repeat: boolean): AdfNode {
  const c = ticketContent(d.incident);
  const content: AdfNode[] = [
    paragraph(text(repeat ? `Repeat ×${d.incident.repeatCount} of this incident (last seen ${d.incident.lastSeen}).` : c.title, [{ type: "strong" }])),
    {
      type: "bulletList",
      content: c.facts.filter(([, v]) => v !== "").map(([k, v]) => ({ type: "listItem", content: [paragraph(text(`${k}: `, [{ type: "strong" }]), text(v))] })),
    },
  ];
  if (c.detail) content.push(paragraph(text(c.detail)));
  if (c.logs.length) content.push(paragraph(text("Last log lines (redacted):")), { type: "codeBlock", content: [text(c.logs.join("\n") || " ")] });
  content.push(paragraph(text(`${ticketMarker(d.incident.incidentId)} · idempotency key ${d.key} · sent by Faro`, [{ type: "em" }])));
  return { version: 1, type: "doc", content };
}

/** The ADF comment of an insight. */
export function jiraInsightDocument(d: InsightDelivery): AdfNode {
  const t = insightLines(d.insight);
  const content: AdfNode[] = [paragraph(text(t.title, [{ type: "strong" }])), ...t.lines.filter((l) => l !== "").map((l) => paragraph(text(l)))];
  content.push(paragraph(text(`${ticketMarker(d.insight.incidentId)} · idempotency key ${d.key} · sent by Faro`, [{ type: "em" }])));
  return { version: 1, type: "doc", content };
}

export function createJiraSink(ctx: SinkContext): Sink {
  const cfg = ctx.config.jira;
  const base = `${cfg.url!.replace(/\/+$/, "")}/rest/api/3`;
  let auth = "";

  async function call<T>(method: string, path: string, key: string, body: unknown, signal: AbortSignal): Promise<T> {
    const res = await request(
      ctx.name,
      key,
      `${base}${path}`,
      { method, headers: { accept: "application/json", "content-type": "application/json", authorization: auth }, body: JSON.stringify(body) },
      ctx.config.timeout,
      signal,
    );
    const t = await res.text().catch(() => "");
    if (!res.ok) throw httpFailure(ctx.name, key, res, t);
    return (t ? JSON.parse(t) : {}) as T;
  }

  const backend: TicketBackend = {
    async start() {
      const token = (await readSecret(ctx.name, "jira.token", cfg.token, ctx.env))!;
      auth = `Basic ${Buffer.from(`${cfg.email}:${token}`).toString("base64")}`;
      ctx.logger.info({ sink: ctx.name, site: new URL(cfg.url!).origin, project: cfg.project }, "jira sink ready");
    },
    async create(d, signal) {
      const priority = cfg.priorities[d.incident.severity];
      const issue = await call<{ key: string }>(
        "POST",
        "/issue",
        d.key,
        {
          fields: {
            project: { key: cfg.project },
            issuetype: { name: cfg.issueType },
            summary: ticketContent(d.incident).title.slice(0, 254),
            description: jiraDocument(d, false),
            labels: [...cfg.labels, ticketMarker(d.incident.incidentId)],
            ...(priority ? { priority: { name: priority } } : {}),
          },
        },
        signal,
      );
      return issue.key;
    },
    async comment(ref, d, signal) {
      await call("POST", `/issue/${encodeURIComponent(ref)}/comment`, d.key, { body: jiraDocument(d, true) }, signal);
    },
    async commentInsight(ref, d, signal) {
      await call("POST", `/issue/${encodeURIComponent(ref)}/comment`, d.key, { body: jiraInsightDocument(d) }, signal);
    },
    async find(incidentId, key, signal) {
      const jql = `project = "${cfg.project}" AND labels = "${ticketMarker(incidentId)}" ORDER BY created ASC`;
      const r = await call<{ issues?: { key: string }[] }>("POST", "/search/jql", key, { jql, fields: ["key"], maxResults: 1 }, signal);
      return r.issues?.[0]?.key;
    },
  };
  return createTicketSink(ctx, backend);
}
