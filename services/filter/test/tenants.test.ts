// Tenant isolation through NATS subject permissions: nats-server runs deploy/nats/tenants.conf, the filter
// publishes as the `faro` user, and a user of team-a receives its own messages (live and by pull) and
// nothing of team-b — every other way in is refused.
import fs from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { pino } from "pino";
import { connect, type NatsConnection, type Subscription } from "@nats-io/transport-node";
import { AckPolicy, jetstream, jetstreamManager } from "@nats-io/jetstream";
import { buildRawSubject, encodeLogBatch, FARO_CLEAN, parseSubject, type LogBatch } from "@faro/contracts";
import { startNats, type ManagedServer } from "@faro/test-harness";
import { startService, type RunningService } from "@faro/kernel";
import { filterService } from "../src/definition.js";
import { filterConfig, until } from "./helpers.js";

const CONF = fs.readFileSync(path.resolve(import.meta.dirname, "../../../deploy/nats/tenants.conf"), "utf8");
const PW = { faro: "svc-pw-1", a: "team-a-pw-1", b: "team-b-pw-1" };

function batch(pod: string, team: string, line: string): Omit<LogBatch, "schemaVersion"> {
  return {
    cluster: "c1", namespace: "shop", pod, podUid: `uid-${pod}`, container: "app", containerType: "regular", restartCount: 0, source: "follow",
    seqStart: 0, node: "n1", observedAtMs: 1, endOfStream: false, podLabels: { team }, podOwnerRefs: [],
    lines: [{ timestamp: "2026-11-22T00:00:00.000000000Z", line, truncated: false, originalBytes: line.length }],
  };
}

/** Collects what a subscription delivers, and the error that ends it (a permissions violation). */
function collect(sub: Subscription) {
  const got: string[] = [];
  const ended = (async () => {
    try {
      for await (const m of sub) got.push(m.subject);
      return undefined;
    } catch (err) {
      return err as Error;
    }
  })();
  return { got, ended };
}

describe("tenant isolation with deploy/nats/tenants.conf", () => {
  let nats: ManagedServer;
  let filter: RunningService | undefined;
  let a: NatsConnection;
  const errors: string[] = [];

  beforeAll(async () => {
    // nats-server reads the passwords from its environment (the harness passes ours on).
    process.env.FARO_SERVICES_PASSWORD = PW.faro;
    process.env.FARO_TENANT_TEAM_A_PASSWORD = PW.a;
    process.env.FARO_TENANT_TEAM_B_PASSWORD = PW.b;
    nats = await startNats({ config: CONF });
    const url = new URL(nats.url);
    filter = await startService(
      filterService,
      filterConfig(
        `tenants:
  - { name: team-a, namespaces: [shop], include: [{ labels: "team=a" }] }
  - { name: team-b, namespaces: [shop], include: [{ labels: "team=b" }] }
`,
        { FARO_NATS_URL: `nats://faro:${PW.faro}@${url.host}` },
      ),
      { logger: pino({ level: "silent" }) },
    );
    // The operator's part: one pull consumer per tenant, filtered to its token.
    const ops = await connect({ servers: nats.url, user: "faro", pass: PW.faro });
    const jsm = await jetstreamManager(ops);
    for (const t of ["team-a", "team-b"]) {
      await jsm.consumers.add(FARO_CLEAN.name, { durable_name: `tenant-${t}`, filter_subject: `faro.v1.clean.${t}.>`, ack_policy: AckPolicy.Explicit });
    }
    await ops.close();
    a = await connect({ servers: nats.url, user: "team-a", pass: PW.a, inboxPrefix: "_INBOX_team-a" });
    void (async () => {
      for await (const s of a.status()) if (s.type === "error") errors.push(String(s.error));
    })();
  });

  afterAll(async () => {
    await a?.close();
    await filter?.stop();
    await nats?.stop();
    delete process.env.FARO_SERVICES_PASSWORD;
    delete process.env.FARO_TENANT_TEAM_A_PASSWORD;
    delete process.env.FARO_TENANT_TEAM_B_PASSWORD;
  });

  it("a user of team-a gets its own messages and nothing of team-b", async () => {
    const own = collect(a.subscribe("faro.v1.clean.team-a.>"));
    const other = collect(a.subscribe("faro.v1.clean.team-b.>"));
    const all = collect(a.subscribe("faro.v1.clean.>"));
    const inboxes = collect(a.subscribe("_INBOX.>"));
    await a.flush();

    // The raw side: published as the services' user.
    const svc = await connect({ servers: nats.url, user: "faro", pass: PW.faro });
    const js = jetstream(svc);
    for (let i = 0; i < 3; i++) {
      await js.publish(buildRawSubject("c1", "shop", { category: "log", pod: `web-a-${i}`, container: "app" }), encodeLogBatch(batch(`web-a-${i}`, "a", `a line ${i}`)), { msgID: `a${i}` });
      await js.publish(buildRawSubject("c1", "shop", { category: "log", pod: `web-b-${i}`, container: "app" }), encodeLogBatch(batch(`web-b-${i}`, "b", `b line ${i}`)), { msgID: `b${i}` });
    }
    // Both tenants' copies are stored (seen by the services' user)…
    const jsm = await jetstreamManager(svc);
    await until(async () => (await jsm.streams.info(FARO_CLEAN.name)).state.messages === 6, "six clean messages");
    await svc.close();

    // …team-a's live subscription got its three, the others were refused and got nothing.
    await until(() => own.got.length === 3, "team-a's three live messages");
    expect(own.got.every((s) => s.startsWith("faro.v1.clean.team-a."))).toBe(true);
    const refused = await Promise.all([other.ended, all.ended, inboxes.ended]);
    for (const err of refused) expect(err?.message ?? "").toMatch(/permissions violation/i);
    expect(other.got).toEqual([]);
    expect(all.got).toEqual([]);
    expect(inboxes.got).toEqual([]);

    // Durable: team-a pulls from its consumer (replies to its own inbox prefix) and sees only its own.
    const ajs = jetstream(a);
    const mine = await ajs.consumers.get(FARO_CLEAN.name, "tenant-team-a");
    const pulled: string[] = [];
    const batchIter = await mine.fetch({ max_messages: 10, expires: 2000 });
    for await (const m of batchIter) {
      pulled.push(m.subject);
      m.ack();
    }
    expect(pulled).toHaveLength(3);
    for (const s of pulled) expect(parseSubject(s)).toMatchObject({ stage: "clean", tenant: "team-a" });

    // team-b's consumer, stream reads by sequence and consumer creation are all refused.
    await expect(ajs.consumers.get(FARO_CLEAN.name, "tenant-team-b")).rejects.toThrow(/permission|timeout|no responders/i);
    await expect(a.request(`$JS.API.STREAM.MSG.GET.${FARO_CLEAN.name}`, JSON.stringify({ seq: 1 }), { timeout: 1000 })).rejects.toThrow();
    await expect(
      a.request(`$JS.API.CONSUMER.CREATE.${FARO_CLEAN.name}`, JSON.stringify({ stream_name: FARO_CLEAN.name, config: { filter_subject: "faro.v1.clean.team-b.>", ack_policy: "none" } }), { timeout: 1000 }),
    ).rejects.toThrow();
    expect(errors.join("\n")).toMatch(/permissions violation/i);
  });
});
