// A poison message on each service's input ends on that service's dead-letter subject in the documented
// DeadLetter envelope (docs/subjects.md), id dl:<service>:<stage>:<seq>, decoded with the contract's code.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { jetstream } from "@nats-io/jetstream";
import { definitionOf, OPTIONAL_SERVICE_NAMES, SERVICE_NAMES, type ServiceName } from "@faro/cli";
import { buildCleanSubject, buildIncidentSubject, buildRawSubject, buildStorySubject, decodeDeadLetter, type DeadLetter } from "@faro/contracts";
import { loadServiceConfig, startService, type RunningService } from "@faro/kernel";
import { createLogger } from "@faro/observability";
import { startCluster, type Cluster } from "@faro/kube-sim";
import { startNats, startRedis, until, type ManagedServer } from "@faro/test-harness";

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
const INPUTS: Record<Exclude<ServiceName, "watcher" | "ingester">, { subject: string; stage: string }> = {
  "log-streamer": { subject: buildRawSubject(CLUSTER, "default", { category: "obj", resource: "pods", group: "", name: "poison" }), stage: "decode" },
  filter: { subject: buildRawSubject(CLUSTER, "default", { category: "log", pod: "poison", container: "app" }), stage: "decode" },
  correlator: { subject: buildCleanSubject("default", CLUSTER, "default", { category: "log", pod: "poison", container: "app" }), stage: "decode" },
  analyzer: { subject: buildIncidentSubject("default", CLUSTER, "default", "OOMKilled"), stage: "decode" },
  writer: { subject: buildStorySubject("default", CLUSTER, "default", "poison"), stage: "write" },
  forwarder: { subject: buildIncidentSubject("default", CLUSTER, "default", "CrashLoopBackOff"), stage: "decode" },
  remediator: { subject: buildIncidentSubject("default", CLUSTER, "default", "Evicted"), stage: "decode" },
};

interface Received {
  subject: string;
  msgId: string | undefined;
  letter: DeadLetter;
}

/**
 * Dead letters of this service from now on; `find` waits for the one that matches (a service may first
 * dead-letter poison that an earlier test left in its input stream).
 */
function deadLetters(service: string): { find(match: (r: Received) => boolean): Promise<Received>; stop(): void } {
  const sub = nc.subscribe(`faro.v1.dlq.${service}.>`);
  const it = sub[Symbol.asyncIterator]();
  return {
    async find(match) {
      for (;;) {
        const next = await it.next();
        if (next.done) throw new Error(`no matching dead letter from ${service}`);
        const m = next.value;
        const r = { subject: m.subject, msgId: m.headers?.get("Nats-Msg-Id"), letter: decodeDeadLetter(m.data) };
        if (match(r)) return r;
      }
    },
    stop: () => sub.unsubscribe(),
  };
}

describe("a poison message on each service's input is dead-lettered in the documented envelope", () => {
  it("covers every service the CLI runs (a new service must add its input here)", () => {
    expect([...Object.keys(INPUTS), "watcher", "ingester"].sort()).toEqual([...SERVICE_NAMES, ...OPTIONAL_SERVICE_NAMES].sort());
  });

  for (const [name, input] of Object.entries(INPUTS) as [Exclude<ServiceName, "watcher" | "ingester">, (typeof INPUTS)[keyof typeof INPUTS]][]) {
    it(name, { timeout: 60_000 }, async () => {
      const def = await definitionOf(name);
      const overrides: Record<string, string> =
        name === "writer"
          ? { FARO_DIR: dir }
          : name === "forwarder" // one sink, hence one durable consumer on FARO_INCIDENT
            ? { FARO_SINKS: JSON.stringify([{ name: "dl", type: "directory", directory: { path: path.join(dir, "incidents") } }]) }
            : name === "remediator" // opt-in
              ? { FARO_ENABLED: "true" }
              : {};
      let running: RunningService | undefined;
      try {
        running = await startService(def, loadServiceConfig(def, { env: { ...env, ...overrides } }), { logger: createLogger({ service: name, level: "silent", pretty: false }), http: false });
        const dl = deadLetters(name);
        await nc.flush();
        const ack = await jetstream(nc).publish(input.subject, POISON, { msgID: `poison-${name}` });
        const { subject, msgId, letter } = await dl.find((r) => r.letter.originalSubject === input.subject && r.letter.streamSeq === ack.seq);
        dl.stop();
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

  it("ingester (its input is HTTP: a poison payload is refused with 400 and the reason, and nothing reaches the bus or the dead letters)", { timeout: 60_000 }, async () => {
    const def = await definitionOf("ingester");
    let running: RunningService | undefined;
    try {
      running = await startService(def, loadServiceConfig(def, { env: { ...env, FARO_AUTH_TOKEN: "dl-token", FARO_LISTEN_HOST: "127.0.0.1", FARO_LISTEN_PORT: "0" } }), {
        logger: createLogger({ service: "ingester", level: "silent", pretty: false }),
        http: false,
      });
      const url = (running.instance as unknown as { url(): string }).url();
      const letters: string[] = [];
      const dlq = nc.subscribe("faro.v1.dlq.ingester.>", { callback: (_e, m) => void letters.push(m.subject) });
      const raw = nc.subscribe(`faro.v1.raw.${CLUSTER}.>`);
      await nc.flush();
      const post = (body: Uint8Array | string) => fetch(`${url}/v1/falco`, { method: "POST", headers: { authorization: "Bearer dl-token" }, body });
      const poison = await post(POISON);
      expect(poison.status).toBe(400);
      expect(((await poison.json()) as { error: string }).error).toMatch(/not JSON/);
      const invalid = await post(JSON.stringify({ rule: "x" }));
      expect(invalid.status).toBe(400);
      expect(((await invalid.json()) as { reasons: string[] }).reasons).toContain("/: must have required property 'output'");
      // A valid alert after them: once it is on FARO_RAW, anything the refused ones caused would be there too.
      const ok = await post(JSON.stringify({ output: "ok", priority: "Notice", rule: "barrier", time: "2026-12-08T00:00:00Z", hostname: "node-1" }));
      expect(ok.status).toBe(202);
      const first = await raw[Symbol.asyncIterator]().next();
      expect(first.value?.subject).toBe(`faro.v1.raw.${CLUSTER}._cluster.event.Node.node-1`);
      await nc.flush();
      raw.unsubscribe();
      dlq.unsubscribe();
      expect(letters).toEqual([]);
    } finally {
      await running?.stop();
    }
  });

  it("watcher (an object the API sends without identity)", { timeout: 60_000 }, async () => {
    const def = await definitionOf("watcher");
    let running: RunningService | undefined;
    try {
      running = await startService(def, loadServiceConfig(def, { env: { ...env, FARO_NAMESPACES_INCLUDE: "default" } }), {
        logger: createLogger({ service: "watcher", level: "silent", pretty: false }),
        http: false,
      });
      // Synced: the pods watch is open, so the injected event (never stored, never listed) reaches it.
      const r = running;
      await until(() => r.instance.readiness() === true, "the watcher's watches synced");
      const dl = deadLetters("watcher");
      await nc.flush();
      // The simulator's fault injection: a watch event no real API server would send (no metadata.uid).
      const pods = cluster.store.typeFor("", "pods")!;
      cluster.store.injectWatchEvent("ADDED", pods, { apiVersion: "v1", kind: "Pod", metadata: { name: "poison", namespace: "default" } } as never);
      const { subject, msgId, letter } = await dl.find(() => true);
      dl.stop();
      expect(subject).toBe("faro.v1.dlq.watcher.encode");
      expect(msgId).toMatch(/^dl:watcher:encode:pods:default\/poison:\d+:M$/);
      expect(letter).toMatchObject({ schemaVersion: 1, service: "watcher", stage: "encode", reason: "unencodable object", payloadWithheld: true });
      expect(letter.error).toMatch(/metadata\.uid is missing/);
      expect(letter.originalSubject).toMatch(/\/namespaces\/default\/pods\/poison$/);
    } finally {
      await running?.stop();
    }
  });
});
