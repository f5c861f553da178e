// Consumers left behind by a killed `faro demo` or `faro capture` (durables `<demo|capture>-<hex>_<service>`):
// a run deletes its own when it ends, a run killed with -9 cannot. They block nothing (every run has its own
// token) but pile up on the server, so the next run removes the ones that are plainly dead.
import { jetstreamManager } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import { FARO_CLEAN, FARO_INCIDENT, FARO_RAW, FARO_STORY } from "@faro/contracts";

/** Durables of in-process runs: the session's `<prefix>-<6 hex>` token, `_`, the service. */
const RUN_DURABLE = /^(?:demo|capture)-[0-9a-f]{6}_[a-z-]+$/;

export interface StaleConsumer {
  stream: string;
  name: string;
}

/**
 * Removes run durables nobody pulls from (no waiting pull request: a live run always has one) and that have been
 * idle for `idleMs`; returns what it removed. Never touches `faro up`'s `<cluster>_<service>` durables.
 */
export async function removeStaleRunConsumers(nc: NatsConnection, o: { idleMs?: number; now?: number; keep?: string } = {}): Promise<StaleConsumer[]> {
  const idleMs = o.idleMs ?? 60_000;
  const now = o.now ?? Date.now();
  const jsm = await jetstreamManager(nc);
  const removed: StaleConsumer[] = [];
  for (const stream of [FARO_RAW.name, FARO_CLEAN.name, FARO_STORY.name, FARO_INCIDENT.name]) {
    let infos;
    try {
      infos = await jsm.consumers.list(stream).next();
    } catch (err) {
      if (/stream not found/i.test((err as Error).message)) continue;
      throw err;
    }
    for (const ci of infos) {
      // A consumer deleted while the server lists them comes back as null.
      if (!ci || !RUN_DURABLE.test(ci.name) || (o.keep && ci.name.startsWith(`${o.keep}_`))) continue;
      if (ci.num_waiting > 0) continue;
      const last = lastActive(ci.delivered?.last_active as unknown, ci.created);
      if (!Number.isNaN(last) && now - last < idleMs) continue;
      try {
        await jsm.consumers.delete(stream, ci.name);
        removed.push({ stream, name: ci.name });
      } catch (err) {
        // Gone already (another run cleaned it): fine.
        if (!/consumer not found/i.test((err as Error).message)) throw err;
      }
    }
  }
  return removed;
}

/** The server sends `last_active` as an RFC 3339 time (typed as nanoseconds by the client); never delivered → created. */
function lastActive(v: unknown, created: string): number {
  if (typeof v === "string" && !v.startsWith("0001-")) return Date.parse(v);
  if (typeof v === "number" && v > 0) return v / 1e6;
  return Date.parse(created);
}
