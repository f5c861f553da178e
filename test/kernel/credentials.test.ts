// Every service, started through the kernel, against a nats-server that requires user/password and then one
// that requires TLS with a client certificate, and a Redis that requires a password: each reaches ready and
// processes messages (the whole pipeline runs the crashloop scenario and writes the story).
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connect } from "@nats-io/transport-node";
import { jetstreamManager } from "@nats-io/jetstream";
import { SERVICE_NAMES, startSession } from "@faro/cli";
import { FARO_CLEAN, FARO_INSIGHT, FARO_RAW } from "@faro/contracts";
import { startCluster, type Cluster } from "@faro/kube-sim";
import { makeCerts, startNats, startRedis, until, type ManagedServer, type TestCerts } from "@faro/test-harness";

const REDIS_PASSWORD = "r3dis-Pw-kernel";
const NATS_USER = "faro-svc";
const NATS_PASSWORD = "n4ts-Pw-kernel";

let redis: ManagedServer;
let cluster: Cluster;
let certs: TestCerts;
let dir: string;
let kubeconfig: string;

beforeAll(async () => {
  certs = makeCerts();
  [redis, cluster] = await Promise.all([startRedis({ password: REDIS_PASSWORD }), startCluster({ speed: 20, scenario: "crashloop" })]);
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "faro-kernel-creds-"));
  kubeconfig = path.join(dir, "kubeconfig");
  cluster.writeKubeconfig(kubeconfig);
});

afterAll(async () => {
  await cluster?.stop();
  await redis?.stop();
  for (const d of [dir, certs?.dir]) if (d) fs.rmSync(d, { recursive: true, force: true });
});

/** Runs the five services in one session; returns what each stream and the writer received. */
async function runPipeline(env: Record<string, string>, tokenPrefix: string, connectOpts: Parameters<typeof connect>[0]) {
  const out = path.join(dir, tokenPrefix);
  // Subscribed before the pipeline starts: the first story entry published on this (fresh) server.
  const nc = await connect(connectOpts);
  const firstStory = new Promise<void>((resolve) => {
    const sub = nc.subscribe("faro.v1.story.>", { max: 1 });
    void nc.flush();
    void (async () => {
      for await (const _ of sub) resolve();
    })();
  });
  // The forwarder delivers the scenario's incidents to a directory sink (one durable, Redis with the same credentials).
  const incidents = path.join(dir, `${tokenPrefix}-incidents`);
  const sinks = JSON.stringify([{ name: "files", type: "directory", directory: { path: incidents } }]);
  // The ingester listens (a token configured) and publishes one Falco alert with the same NATS credentials.
  const ingest = { FARO_AUTH_TOKEN: "kernel-ingest-token", FARO_LISTEN_HOST: "127.0.0.1", FARO_LISTEN_PORT: "0" };
  const session = await startSession({ tokenPrefix, kubeconfig, dir: out, logLevel: "warn", env: { ...env, ...ingest, FARO_SINKS: sinks }, namespaces: ["default"] });
  try {
    expect(session.pipeline.services.map((s) => s.name)).toEqual([...SERVICE_NAMES]);
    for (const s of session.pipeline.services) expect((await s.handle.lifecycle.readiness()).ready, s.name).toBe(true);
    await firstStory;
    const ingester = session.pipeline.get("ingester")!.instance as unknown as { url(): string };
    const alert = { output: "Notice kernel credentials check", priority: "Notice", rule: "Kernel check", time: new Date().toISOString(), hostname: "kernel-node" };
    const posted = await fetch(`${ingester.url()}/v1/falco`, { method: "POST", headers: { authorization: `Bearer ${ingest.FARO_AUTH_TOKEN}` }, body: JSON.stringify(alert) });
    expect(posted.status, "ingester accepted an alert").toBe(202);
    const bundles = await until(() => {
      const found = fs.existsSync(incidents) ? fs.readdirSync(incidents, { recursive: true }).filter((f) => String(f).endsWith(".json")) : [];
      return found.length > 0 && found;
    }, "the forwarder delivered an incident", 60_000);
    const jsm = await jetstreamManager(nc);
    const count = async (stream: string, subject: string) => Object.keys((await jsm.streams.info(stream, { subjects_filter: subject })).state.subjects ?? {}).length;
    const raw = await jsm.streams.info(FARO_RAW.name, { subjects_filter: `faro.v1.raw.${session.cluster}.>` });
    const rawSubjects = Object.keys(raw.state.subjects ?? {});
    const clean = await count(FARO_CLEAN.name, `faro.v1.clean.*.${session.cluster}.>`);
    expect(await session.finish({ drainTimeoutMs: 60_000 })).toBe(0);
    // Drained: the analyzer has published its insight on every incident it consumed.
    const insights = await count(FARO_INSIGHT.name, `faro.v1.insight.*.${session.cluster}.>`);
    const files = fs.existsSync(out) ? fs.readdirSync(out, { recursive: true }).filter((f) => String(f).endsWith(".json")) : [];
    return { rawSubjects, clean, files, bundles, insights };
  } catch (err) {
    await session.abort("test failed");
    throw err;
  } finally {
    await nc.close();
  }
}

function expectEveryServiceWorked(r: Awaited<ReturnType<typeof runPipeline>>): void {
  expect(r.rawSubjects.some((s) => s.includes(".obj.")), "watcher published changes").toBe(true);
  expect(r.rawSubjects.some((s) => s.includes(".log.")), "log-streamer published log batches").toBe(true);
  expect(r.rawSubjects.some((s) => s.endsWith(".event.Node.kernel-node")), "ingester published an alert").toBe(true);
  expect(r.clean, "filter published clean copies").toBeGreaterThan(0);
  expect(r.files.length, "writer wrote story files").toBeGreaterThan(0);
  expect(r.bundles.length, "forwarder delivered incidents").toBeGreaterThan(0);
  expect(r.insights, "analyzer published insights").toBeGreaterThan(0);
}

describe("the kernel connects every service with the credentials NATS and Redis require", () => {
  it("NATS user/password (in config fields) and Redis requirepass", { timeout: 150_000 }, async () => {
    const nats = await startNats({
      config: `authorization { users: [ { user: "${NATS_USER}", password: "${NATS_PASSWORD}" } ] }\n`,
    });
    try {
      const env = {
        FARO_NATS_URL: nats.url,
        FARO_NATS_USER: NATS_USER,
        FARO_NATS_PASSWORD: NATS_PASSWORD,
        FARO_REDIS_URL: redis.url,
        FARO_REDIS_PASSWORD: REDIS_PASSWORD,
      };
      const r = await runPipeline(env, "userpass", { servers: nats.url, user: NATS_USER, pass: NATS_PASSWORD });
      expectEveryServiceWorked(r);
    } finally {
      await nats.stop();
    }
  });

  it("NATS TLS with a verified client certificate, Redis password in the URL", { timeout: 150_000 }, async () => {
    const nats = await startNats({
      config: `tls { cert_file: "${certs.serverCert}", key_file: "${certs.serverKey}", ca_file: "${certs.ca}", verify: true }\n`,
    });
    try {
      const url = nats.url.replace(/^nats:/, "tls:");
      const env = {
        FARO_NATS_URL: url,
        FARO_NATS_TLS_CA: certs.ca,
        FARO_NATS_TLS_CERT: certs.clientCert,
        FARO_NATS_TLS_KEY: certs.clientKey,
        FARO_REDIS_URL: redis.url.replace("redis://", `redis://:${REDIS_PASSWORD}@`),
      };
      const r = await runPipeline(env, "mtls", { servers: url, tls: { caFile: certs.ca, certFile: certs.clientCert, keyFile: certs.clientKey } });
      expectEveryServiceWorked(r);
    } finally {
      await nats.stop();
    }
  });

  it("a NATS server that requires a client certificate refuses a service without one, and the error says why", { timeout: 60_000 }, async () => {
    const nats = await startNats({
      config: `tls { cert_file: "${certs.serverCert}", key_file: "${certs.serverKey}", ca_file: "${certs.ca}", verify: true }\n`,
    });
    try {
      const env = { FARO_NATS_URL: nats.url.replace(/^nats:/, "tls:"), FARO_NATS_TLS_CA: certs.ca, FARO_REDIS_URL: redis.url, FARO_REDIS_PASSWORD: REDIS_PASSWORD };
      await expect(startSession({ tokenPrefix: "nocert", kubeconfig, dir: path.join(dir, "nocert"), logLevel: "silent", env })).rejects.toThrow(/NATS/);
    } finally {
      await nats.stop();
    }
  });
});
