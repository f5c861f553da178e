// The kernel scopes every consumer group by cluster: one definition started for two clusters on one NATS gets
// two durables (`<cluster>_<name>`), each consuming only its own cluster's subjects; a filter subject that does
// not pin the service's cluster fails the start, naming it.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { buildRawSubject, FARO_RAW, rawFilter } from "@faro/contracts";
import { defineSchema } from "@faro/config";
import { defineService, loadServiceConfig, startService, type RunningService } from "@faro/kernel";
import { createLogger } from "@faro/observability";
import { startNats, type ManagedServer } from "@faro/test-harness";

let nats: ManagedServer;
let nc: NatsConnection;

beforeAll(async () => {
  nats = await startNats();
  nc = await connect({ servers: nats.url });
});

afterAll(async () => {
  await nc?.close();
  await nats?.stop();
});

/** A service that records the subjects it consumes from FARO_RAW with the given filter (default: its cluster's). */
function probe(filter?: (cluster: string) => string) {
  const seen: string[] = [];
  const def = defineService({
    name: "probe",
    summary: "records what it consumes",
    schema: defineSchema("probe", {}),
    streams: [FARO_RAW],
    redis: false,
    create: (ctx) => {
      const group = ctx.consumerGroup({
        stream: FARO_RAW.name,
        consumer: {
          durable: "probe",
          filterSubject: filter ? filter(ctx.config.cluster) : rawFilter({ cluster: ctx.config.cluster }).replace(/(\.\*)+$/, ".>"),
          ackWaitMs: 5000,
          maxDeliver: 3,
          maxAckPending: 100,
        },
        handler: async (m) => {
          seen.push(m.subject);
        },
      });
      return { start: () => group.start(), stop: () => group.stop(), readiness: () => ({ ok: true }) };
    },
  });
  return { def, seen };
}

const start = (def: ReturnType<typeof probe>["def"], cluster: string) =>
  startService(def, loadServiceConfig(def, { env: { FARO_NATS_URL: nats.url, FARO_CLUSTER: cluster } }), {
    http: false,
    logger: createLogger({ service: "probe", level: "silent", pretty: false }),
  });

async function until(what: string, check: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe("consumer groups are scoped by cluster", () => {
  it("two clusters, one definition: a durable each, each consuming only its own cluster's subjects", async () => {
    const a = probe();
    const b = probe();
    const running: RunningService[] = [];
    try {
      running.push(await start(a.def, "hub-a"), await start(b.def, "hub-b"));
      const jsm = await jetstreamManager(nc);
      const names: string[] = [];
      for await (const ci of jsm.consumers.list(FARO_RAW.name)) if (ci) names.push(`${ci.name} ${ci.config.filter_subject}`);
      expect(names.sort()).toEqual(["hub-a_probe faro.v1.raw.hub-a.>", "hub-b_probe faro.v1.raw.hub-b.>"]);
      const js = jetstream(nc);
      const target = (name: string) => ({ category: "obj" as const, resource: "pods", group: "", name });
      for (const [cluster, name] of [["hub-a", "x"], ["hub-b", "y"], ["hub-a", "z"], ["hub-c", "w"]] as const) {
        await js.publish(buildRawSubject(cluster, "default", target(name)), new Uint8Array([1]));
      }
      await until("both clusters' messages", () => a.seen.length === 2 && b.seen.length === 1);
      expect(a.seen).toEqual([buildRawSubject("hub-a", "default", target("x")), buildRawSubject("hub-a", "default", target("z"))]);
      expect(b.seen).toEqual([buildRawSubject("hub-b", "default", target("y"))]);
    } finally {
      for (const r of running) await r.stop();
    }
  });

  it("refuses a filter subject that does not pin the service's cluster", async () => {
    for (const filter of [() => "faro.v1.raw.>", () => "faro.v1.raw.other.>"]) {
      const p = probe(filter);
      await expect(start(p.def, "hub-a")).rejects.toThrow(/create failed: .*filter subject "faro\.v1\.raw\.(>|other\.>)" does not pin cluster "hub-a"/);
    }
  });
});
