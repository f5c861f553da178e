// Durables left by a killed `faro demo`/`faro capture` run are found and removed by the next run; a live run's
// durables and `faro up`'s `<cluster>_<service>` durables are never touched.
import { AckPolicy, jetstream, jetstreamManager } from "@nats-io/jetstream";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FARO_RAW, FARO_STORY } from "@faro/contracts";
import { startNats, until, type ManagedServer } from "@faro/test-harness";
import { removeStaleRunConsumers } from "@faro/cli";

let nats: ManagedServer;
let nc: NatsConnection;

beforeAll(async () => {
  nats = await startNats();
  nc = await connect({ servers: nats.url });
  const jsm = await jetstreamManager(nc);
  for (const s of [FARO_RAW, FARO_STORY]) await jsm.streams.add({ name: s.name, subjects: [...s.subjects] });
});

afterAll(async () => {
  await nc?.close();
  await nats?.stop();
});

describe("consumers left by killed runs", () => {
  it("are removed when nobody pulls from them; live runs' and faro up's are kept", async () => {
    const jsm = await jetstreamManager(nc);
    const add = (stream: string, name: string) => jsm.consumers.add(stream, { durable_name: name, ack_policy: AckPolicy.Explicit });
    await add(FARO_RAW.name, "demo-0a1b2c_filter");
    await add(FARO_STORY.name, "demo-0a1b2c_writer");
    await add(FARO_RAW.name, "capture-ffee00_filter");
    await add(FARO_RAW.name, "prod-eu_filter"); // faro up's: resumed by the next `faro up --cluster prod-eu`
    await add(FARO_RAW.name, "demo-5d5d5d_filter"); // a live run: pulling
    const live = await (await jetstream(nc).consumers.get(FARO_RAW.name, "demo-5d5d5d_filter")).consume();
    const reading = (async () => {
      for await (const m of live) m.ack();
    })();
    await until(async () => (await jsm.consumers.info(FARO_RAW.name, "demo-5d5d5d_filter")).num_waiting > 0, "the live consumer's pull request");
    const names = async () => (await jsm.consumers.list(FARO_RAW.name).next()).filter(Boolean).map((c) => c.name).sort();
    // Fresh consumers are never removed (a run just starting has not pulled yet).
    expect(await removeStaleRunConsumers(nc)).toEqual([]);
    // Once idle past the bound (here 0 ms), the dead ones go.
    const removed = await removeStaleRunConsumers(nc, { idleMs: 0 });
    expect(removed.map((c) => c.name).sort()).toEqual(["capture-ffee00_filter", "demo-0a1b2c_filter", "demo-0a1b2c_writer"]);
    expect(await names()).toEqual(["demo-5d5d5d_filter", "prod-eu_filter"]);
    await live.close();
    await reading;
  });
});
