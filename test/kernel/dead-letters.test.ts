// A poison message on each service's input ends on that service's dead-letter subject in the documented
// DeadLetter envelope (docs/subjects.md), id dl:<service>:<stage>:<seq>, decoded with the contract's code.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { jetstream } from "@nats-io/jetstream";
import { definitionOf, type ServiceName } from "@faro/cli";
import { buildCleanSubject, buildRawSubject, buildStorySubject, decodeDeadLetter, type DeadLetter } from "@faro/contracts";
import { loadServiceConfig, startService, type RunningService } from "@faro/kernel";
import { createLogger } from "@faro/observability";
import { startCluster, type Cluster } from "@faro/kube-sim";
import { startNats, startRedis, type ManagedServer } from "@faro/test-harness";

const CLUSTER = "dl";
const POISON = new Uint8Array([0x0a, 0xff, 0xff, 0xff, 0x01, 0x99]);

let nats: ManagedServer;
let redis: ManagedServer;
let cluster: Cluster;
let nc: NatsConnection;
let dir: string;
let env: Record<string, string>;

beforeAll(async () => {
  [nats, redis, cluster] = await Promise.all([startNats(), startRedis(), startCluster({ speed: 20 })]);
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "faro-kernel-dl-"));
  const kubeconfig = path.join(dir, "kubeconfig");
  cluster.writeKubeconfig(kubeconfig);
  env = { FARO_CLUSTER: CLUSTER, FARO_NATS_URL: nats.url, FARO_REDIS_URL: redis.url, FARO_KUBE_KUBECONFIG: kubeconfig, FARO_LOG_LEVEL: "silent" };
  nc = await connect({ servers: nats.url });
});

afterAll(async () => {
  await nc?.close();
  await cluster?.stop();
  await Promise.all([nats?.stop(), redis?.stop()]);
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

/** The input subject of each consuming service, and the stage its poison dead letter names. */
const INPUTS: Record<Exclude<ServiceName, "watcher">, { subject: string; stage: string }> = {
  "log-streamer": { subject: buildRawSubject(CLUSTER, "default", { category: "obj", resource: "pods", group: "", name: "poison" }), stage: "decode" },
  filter: { subject: buildRawSubject(CLUSTER, "default", { category: "log", pod: "poison", container: "app" }), stage: "decode" },
  correlator: { subject: buildCleanSubject("default", CLUSTER, "default", { category: "log", pod: "poison", container: "app" }), stage: "decode" },
  writer: { subject: buildStorySubject("default", CLUSTER, "default", "poison"), stage: "write" },
};

/** The first dead letter this service publishes from now on. */
function nextDeadLetter(service: string): Promise<{ subject: string; msgId: string | undefined; letter: DeadLetter }> {
  const sub = nc.subscribe(`faro.v1.dlq.${service}.>`, { max: 1 });
  return (async () => {
    for await (const m of sub) return { subject: m.subject, msgId: m.headers?.get("Nats-Msg-Id"), letter: decodeDeadLetter(m.data) };
    throw new Error(`no dead letter from ${service}`);
  })();
}

describe("a poison message on each service's input is dead-lettered in the documented envelope", () => {
  for (const [name, input] of Object.entries(INPUTS) as [Exclude<ServiceName, "watcher">, (typeof INPUTS)[keyof typeof INPUTS]][]) {
    it(name, { timeout: 60_000 }, async () => {
      const def = await definitionOf(name);
      const overrides = name === "writer" ? { FARO_DIR: dir } : {};
      let running: RunningService | undefined;
      try {
        running = await startService(def, loadServiceConfig(def, { env: { ...env, ...overrides } }), { logger: createLogger({ service: name, level: "silent", pretty: false }), http: false });
        const dl = nextDeadLetter(name);
        await nc.flush();
        const ack = await jetstream(nc).publish(input.subject, POISON, { msgID: `poison-${name}` });
        const { subject, msgId, letter } = await dl;
        expect(subject).toBe(`faro.v1.dlq.${name}.${input.stage}`);
        expect(msgId).toBe(`dl:${name}:${input.stage}:${ack.seq}`);
        expect(letter).toMatchObject({ schemaVersion: 1, service: name, stage: input.stage, originalSubject: input.subject, streamSeq: ack.seq, payloadWithheld: true });
        expect(letter.error.length).toBeGreaterThan(0);
        expect(letter.payload.length).toBe(0);
      } finally {
        await running?.stop();
      }
    });
  }
});
