// Reads FARO_INCIDENT (and FARO_INSIGHT) the way `faro tail` and the writer's read-back do: ephemeral ordered
// consumers, one per tenant the caller may see (the tenant is a subject token, so the server filters), deleted
// when the read ends and dropped by the server 10 s after a process that died mid-read.
import { DeliverPolicy, jetstream, jetstreamManager, type JetStreamClient, type JetStreamManager } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import { decodeIncidentContext, FARO_INCIDENT, incidentFilter, parseSubject, toCanonicalJson, type IncidentContext, type JsonValue } from "@faro/contracts";
import type { Principal } from "./config.js";
import { BusReadError } from "./errors.js";

const READ_INACTIVE_MS = 10_000;

export interface IncidentFilter {
  cluster?: string;
  namespace?: string;
  reason?: string;
  /** Only messages stored at or after this time (server-side start time). */
  sinceMs?: number;
}

export interface StoredIncident {
  /** The newest update of the incident (highest repeat count, then latest stored). */
  context: IncidentContext;
  /** The tenant token of its subject (the filter's verdict, authoritative for scoping). */
  tenant: string;
  seq: number;
  updates: number;
}

export interface IncidentRead {
  incidents: Map<string, StoredIncident>;
  scanned: number;
  /** maxScan was reached: older-to-newer reading stopped early. */
  truncated: boolean;
  /** Messages that could not be decoded (skipped, counted by the caller). */
  undecodable: number;
}

export interface BusReaderOptions {
  nc: NatsConnection;
  maxScan: number;
  idleTimeoutMs: number;
  onWarning(what: string, err: unknown): void;
}

export class BusReader {
  private readonly js: JetStreamClient;
  private jsm: Promise<JetStreamManager> | undefined;

  constructor(private readonly o: BusReaderOptions) {
    this.js = jetstream(o.nc);
  }

  /** The subjects to read for a principal: one per tenant, or `*` for every tenant. */
  filters(p: Principal, f: IncidentFilter): string[] {
    const base = { cluster: f.cluster, namespace: f.namespace, reason: f.reason };
    return p.tenants === "*" ? [incidentFilter(base)] : [...p.tenants].sort().map((tenant) => incidentFilter({ ...base, tenant }));
  }

  async read(p: Principal, f: IncidentFilter): Promise<IncidentRead> {
    const out: IncidentRead = { incidents: new Map(), scanned: 0, truncated: false, undecodable: 0 };
    for (const filter of this.filters(p, f)) {
      const r = await this.scan(FARO_INCIDENT.name, filter, f.sinceMs, this.o.maxScan - out.scanned, (subject, data, seq) => {
        const parsed = parseSubject(subject);
        if (parsed.stage !== "incident") throw new Error(`not an incident subject: ${subject}`);
        const ctx = decodeIncidentContext(data);
        const have = out.incidents.get(ctx.incidentId);
        if (!have || ctx.repeatCount >= have.context.repeatCount) out.incidents.set(ctx.incidentId, { context: ctx, tenant: parsed.tenant, seq, updates: (have?.updates ?? 0) + 1 });
        else have.updates++;
      });
      out.scanned += r.scanned;
      out.undecodable += r.undecodable;
      if (r.truncated) {
        out.truncated = true;
        break;
      }
    }
    return out;
  }

  /**
   * Reads `filter` on `stream` from the start (or `sinceMs`) up to its newest message when the read began, at most
   * `budget` messages; `visit` throwing counts the message as undecodable and skips it.
   */
  async scan(
    stream: string,
    filter: string,
    sinceMs: number | undefined,
    budget: number,
    visit: (subject: string, data: Uint8Array, seq: number) => void,
  ): Promise<{ scanned: number; undecodable: number; truncated: boolean }> {
    const r = { scanned: 0, undecodable: 0, truncated: false };
    if (budget <= 0) return { ...r, truncated: true };
    this.jsm ??= jetstreamManager(this.o.nc);
    let last;
    try {
      last = await (await this.jsm).streams.getMessage(stream, { last_by_subj: filter });
    } catch (err) {
      throw new BusReadError(stream, filter, (err as Error).message, { cause: err });
    }
    if (!last) return r;
    if (sinceMs !== undefined && last.time.getTime() < sinceMs) return r;
    const endSeq = last.seq;
    let consumer;
    try {
      consumer = await this.js.consumers.get(
        stream,
        sinceMs === undefined
          ? { filter_subjects: filter, deliver_policy: DeliverPolicy.All, inactive_threshold: READ_INACTIVE_MS }
          : { filter_subjects: filter, deliver_policy: DeliverPolicy.StartTime, opt_start_time: new Date(sinceMs).toISOString(), inactive_threshold: READ_INACTIVE_MS },
      );
    } catch (err) {
      throw new BusReadError(stream, filter, (err as Error).message, { cause: err });
    }
    const messages = await consumer.consume({ max_messages: 512 });
    let timer: NodeJS.Timeout | undefined;
    let stalled = false;
    const arm = () => {
      clearTimeout(timer);
      timer = setTimeout(() => {
        stalled = true;
        void messages.close().catch((err: unknown) => this.o.onWarning(`closing a stalled read of ${stream}`, err));
      }, this.o.idleTimeoutMs);
    };
    try {
      arm();
      for await (const m of messages) {
        arm();
        if (m.seq > endSeq) break;
        r.scanned++;
        try {
          visit(m.subject, m.data, m.seq);
        } catch (err) {
          r.undecodable++;
          this.o.onWarning(`an undecodable message on ${m.subject} was skipped`, err);
        }
        // pending counts what is left on the filter now: 0 means the end even when endSeq itself aged out.
        if (m.seq >= endSeq || m.info.pending === 0) break;
        if (r.scanned >= budget) {
          r.truncated = true;
          break;
        }
      }
    } catch (err) {
      throw new BusReadError(stream, filter, (err as Error).message, { cause: err });
    } finally {
      clearTimeout(timer);
      await messages.close().catch((err: unknown) => this.o.onWarning(`closing a read of ${stream}`, err));
      await consumer.delete().catch((err: unknown) => this.o.onWarning(`deleting a read's consumer on ${stream}`, err));
    }
    if (stalled) throw new BusReadError(stream, filter, `nothing arrived for ${this.o.idleTimeoutMs}ms before sequence ${endSeq}`);
    return r;
  }
}

/** The incident in the canonical JSON mapping (lowerCamelCase, as `faro tail --json` prints it). */
export function incidentJson(ctx: IncidentContext): Record<string, JsonValue> {
  return toCanonicalJson("IncidentContext", ctx);
}

/** `faro://incident/<incidentId>`. */
export const incidentUri = (id: string) => `faro://incident/${encodeURIComponent(id)}`;
