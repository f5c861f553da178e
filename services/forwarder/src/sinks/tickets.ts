// Ticket sinks (GitHub Issues, Jira Cloud): one ticket per incident, a comment per repeat. The ticket is found
// again by incident id — first in Redis (`faro:<cluster>:fwd:<sink>:ticket:<incidentId>`), else by the marker
// every ticket carries (`faro-incident-<incidentId>` in the body or as a label) — so a restarted forwarder, or one
// whose Redis was emptied, never opens a duplicate. A revision already shown (per idempotency key), or older than
// one already shown (it was retried after a newer one went through), is skipped.
import type { IncidentContext } from "@faro/contracts";
import { retryable } from "../errors.js";
import type { Delivery } from "../incident.js";
import { workloadOf } from "../incident.js";
import type { InsightDelivery } from "../insight.js";
import type { Sink, SinkContext } from "../sink.js";

/** How long the ticket of an incident and the revisions shown are remembered (FARO_INCIDENT keeps 30 days). */
const TICKET_TTL_SECONDS = 30 * 24 * 3600;

export interface TicketBackend {
  start(): Promise<void>;
  /** Opens the ticket; resolves to its reference (issue number, Jira key). */
  create(d: Delivery, signal: AbortSignal): Promise<string>;
  comment(ref: string, d: Delivery, signal: AbortSignal): Promise<void>;
  /** Comments an insight on the ticket. */
  commentInsight(ref: string, d: InsightDelivery, signal: AbortSignal): Promise<void>;
  /** The ticket carrying the incident's marker, if one exists (`key`: the delivery it is looked up for). */
  find(incidentId: string, key: string, signal: AbortSignal): Promise<string | undefined>;
}

/** The marker of an incident's ticket: searchable text in the body (GitHub) and a label (Jira). */
export function ticketMarker(incidentId: string): string {
  return `faro-incident-${incidentId}`;
}

/** Title and the parts of a ticket body, shared by the backends (each renders them in its own format). */
export function ticketContent(i: IncidentContext): { title: string; facts: [string, string][]; detail: string; logs: string[] } {
  const workload = workloadOf(i);
  return {
    title: `${i.reason}: ${workload} in ${i.namespace} (${i.cluster})`,
    facts: [
      ["Reason", i.reason],
      ["Workload", workload],
      ["Namespace", i.namespace],
      ["Cluster", i.cluster],
      ["Severity", i.severity],
      ["Count", String(i.repeatCount)],
      ["Pod", i.pod?.name ?? "-"],
      ["Container", i.container || "-"],
      ["First seen", i.firstSeen],
      ["Last seen", i.lastSeen],
      ["Story", i.storyId],
    ],
    detail: [i.exitCode !== undefined ? `exit code ${i.exitCode}` : "", i.message].filter(Boolean).join(" — "),
    logs: (i.logTail.length ? i.logTail : i.previousLog).slice(-20).map((l) => l.line),
  };
}

export function createTicketSink(ctx: SinkContext, backend: TicketBackend): Sink {
  const ticketKey = (incidentId: string) => `${ctx.keyPrefix}ticket:${incidentId}`;
  const doneKey = (key: string) => `${ctx.keyPrefix}done:${key}`;
  const newestKey = (incidentId: string) => `${ctx.keyPrefix}newest:${incidentId}`;
  return {
    start: () => backend.start(),
    async deliver(d, signal) {
      const redis = ctx.redis();
      if ((await redis.exists(doneKey(d.key))) === 1) return;
      const id = d.incident.incidentId;
      // A revision retried after a newer one was shown adds nothing: the ticket already says more.
      const newest = Number((await redis.get(newestKey(id))) ?? 0);
      if (d.incident.repeatCount < newest) {
        ctx.logger.debug({ sink: ctx.name, key: d.key, newest }, "revision superseded by a newer one already on the ticket");
        return;
      }
      let ref = (await redis.get(ticketKey(id))) ?? undefined;
      if (ref === undefined) {
        ref = await backend.find(id, d.key, signal);
        if (ref !== undefined) ctx.logger.info({ sink: ctx.name, incidentId: id, ticket: ref }, "ticket found again by its marker");
      }
      if (ref === undefined) {
        ref = await backend.create(d, signal);
        await redis.set(ticketKey(id), ref, "EX", TICKET_TTL_SECONDS);
      } else {
        await redis.set(ticketKey(id), ref, "EX", TICKET_TTL_SECONDS);
        await backend.comment(ref, d, signal);
      }
      await redis.set(doneKey(d.key), ref, "EX", TICKET_TTL_SECONDS);
      await redis.set(newestKey(id), String(Math.max(newest, d.incident.repeatCount)), "EX", TICKET_TTL_SECONDS);
    },
    async deliverInsight(d, signal) {
      const redis = ctx.redis();
      if ((await redis.exists(doneKey(d.key))) === 1) return;
      const id = d.insight.incidentId;
      const ref = (await redis.get(ticketKey(id))) ?? (await backend.find(id, d.key, signal));
      if (ref === undefined) throw retryable(ctx.name, d.key, `no ticket for incident ${id} yet`, { kind: "ticket_pending" });
      await backend.commentInsight(ref, d, signal);
      await redis.set(doneKey(d.key), ref, "EX", TICKET_TTL_SECONDS);
    },
    async stop() {},
  };
}
