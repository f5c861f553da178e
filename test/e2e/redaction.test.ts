// End to end: simulated cluster → watcher + log-streamer → FARO_RAW → filter → FARO_CLEAN. A pod with secret
// env values and flags, whose container logs credentials, and a Secret: no planted secret appears in any
// byte of any message on FARO_CLEAN, while the raw side shows the secrets did travel that far.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createLogger } from "@faro/observability";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { loadServiceConfig, startService, type RunningService } from "@faro/kernel";
import { decodeLogBatch, FARO_CLEAN, FARO_RAW, parseSubject } from "@faro/contracts";
import { ANNOTATION_PREFIX, startCluster, type Cluster } from "@faro/kube-sim";
import { startNats, startRedis, type ManagedServer } from "@faro/test-harness";
import { watcherService } from "@faro/watcher";
import { logStreamerService } from "@faro/log-streamer";
import { filterService } from "@faro/filter";
import { until } from "@faro/test-harness";
import { jetstreamManager } from "@nats-io/jetstream";

/** Every message currently in a stream (empty when it does not exist yet). */
async function readStream(nc: NatsConnection, stream: string): Promise<{ subject: string; data: Uint8Array }[]> {
  const jsm = await jetstreamManager(nc);
  let info;
  try {
    info = await jsm.streams.info(stream);
  } catch {
    return []; // not provisioned yet: nothing stored
  }
  const out: { subject: string; data: Uint8Array }[] = [];
  for (let seq = info.state.first_seq; info.state.messages > 0 && seq <= info.state.last_seq; seq++) {
    const m = await jsm.streams.getMessage(stream, { seq });
    if (m) out.push({ subject: m.subject, data: m.data });
  }
  return out;
}

/** Searches raw bytes for a string (UTF-8): a secret must not appear anywhere in a stored message. */
const bytesContain = (haystack: Uint8Array, needle: string) => Buffer.from(haystack.buffer, haystack.byteOffset, haystack.byteLength).includes(Buffer.from(needle, "utf8"));

const GITHUB = `ghp_${"e2eGhTok".repeat(4)}abcd`; // ghp_ + 36
const PLANTED = {
  envPassword: "Pg-e2e-Secret-1x",
  flagKey: "e2eApiKey12345zz",
  urlPassword: "e2ePgPass99xx",
  bearer: "e2eBearerToken0123456789",
  awsKeyId: "AKIAE2ETESTKEY000001",
  github: GITHUB,
  secretValue: "e2eSecretValue77",
};
const SECRET_B64 = Buffer.from(PLANTED.secretValue).toString("base64");
const LOG_LINES = [
  "starting shop api",
  `connecting to postgres://app:${PLANTED.urlPassword}@db:5432/shop`,
  `outgoing call with Authorization: Bearer ${PLANTED.bearer}`,
  `aws client configured with key ${PLANTED.awsKeyId}`,
  `cloning with token ${PLANTED.github}`,
  "GET /healthz 200",
  "order placed",
];

describe("end to end: nothing downstream of the filter carries a planted secret", () => {
  let nats: ManagedServer;
  let redis: ManagedServer;
  let cluster: Cluster;
  let nc: NatsConnection;
  let watcher: RunningService | undefined;
  let streamer: RunningService | undefined;
  let filter: RunningService | undefined;
  let dir: string;

  beforeAll(async () => {
    [nats, redis, cluster] = await Promise.all([startNats(), startRedis(), startCluster({ port: 0, speed: 20 })]);
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "faro-filter-e2e-"));
    const kubeconfig = path.join(dir, "kubeconfig");
    cluster.writeKubeconfig(kubeconfig);
    const env = {
      FARO_CLUSTER: "sim",
      FARO_NATS_URL: nats.url,
      FARO_REDIS_URL: redis.url,
      FARO_KUBE_KUBECONFIG: kubeconfig,
      FARO_LOG_LEVEL: "warn",
      FARO_HTTP_PORT: "0",
    };
    const logger = createLogger({ service: "e2e", level: "silent", pretty: false });
    watcher = await startService(watcherService, loadServiceConfig(watcherService, { env }), { logger, http: false });
    streamer = await startService(logStreamerService, loadServiceConfig(logStreamerService, { env: { ...env, FARO_STREAMS_SCAN_INTERVAL: "100ms" } }), { logger, http: false });
    fs.writeFileSync(path.join(dir, "filter.yaml"), "tenants: [{ name: shop-team, namespaces: [shop] }]\n");
    filter = await startService(filterService, loadServiceConfig(filterService, { file: path.join(dir, "filter.yaml"), env }), { logger, http: false });
    nc = await connect({ servers: nats.url });

    const store = cluster.store;
    store.create(store.typeFor("", "namespaces")!, { apiVersion: "v1", kind: "Namespace", metadata: { name: "shop" } });
    store.create(store.typeFor("", "secrets")!, {
      apiVersion: "v1",
      kind: "Secret",
      metadata: { name: "db", namespace: "shop" },
      type: "Opaque",
      data: { password: SECRET_B64 },
    });
    store.create(store.typeFor("", "pods")!, {
      apiVersion: "v1",
      kind: "Pod",
      metadata: {
        name: "api-0",
        namespace: "shop",
        labels: { app: "api" },
        annotations: { [`${ANNOTATION_PREFIX}log-lines`]: LOG_LINES.join("\n"), [`${ANNOTATION_PREFIX}log-rate`]: "5" },
      },
      spec: {
        containers: [
          {
            name: "api",
            image: "shop/api:1",
            args: ["--port=8080", `--api-key=${PLANTED.flagKey}`],
            env: [
              { name: "DB_PASSWORD", value: PLANTED.envPassword },
              { name: "LOG_LEVEL", value: "info" },
            ],
          },
        ],
      },
    });
  });

  afterAll(async () => {
    await filter?.stop();
    await streamer?.stop();
    await watcher?.stop();
    await nc?.close();
    await cluster?.stop();
    await Promise.all([nats?.stop(), redis?.stop()]);
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it("redacts every planted secret from objects, events and log lines", async () => {
    // Wait until the pod, the Secret and two full cycles of the log script have come through the filter.
    const clean = await until(
      async () => {
        const all = await readStream(nc, FARO_CLEAN.name);
        const lines = all.filter((m) => m.subject.includes(".log.")).flatMap((m) => decodeLogBatch(m.data).lines.map((l) => l.line));
        const pod = all.some((m) => m.subject.endsWith(".obj.pods.api-0"));
        const secret = all.some((m) => m.subject.endsWith(".obj.secrets.db"));
        return pod && secret && lines.length >= LOG_LINES.length * 2 ? { all, lines } : undefined;
      },
      "the pod, the Secret and two log cycles on FARO_CLEAN",
      60_000,
    );
    for (const m of clean.all) {
      expect(parseSubject(m.subject)).toMatchObject({ stage: "clean", tenant: "shop-team", namespace: "shop" });
      for (const [what, s] of [...Object.entries(PLANTED), ["secret (base64)", SECRET_B64] as const]) {
        expect(bytesContain(m.data, s), `${what} found in ${m.subject}`).toBe(false);
      }
    }
    // Non-secret content survives, and the masks are there.
    expect(clean.lines).toContain("order placed");
    expect(clean.lines.some((l) => l.startsWith("connecting to postgres://app:[REDACTED"))).toBe(true);

    // The secrets did reach FARO_RAW (so the check above is not vacuous): log lines and the pod spec.
    const raw = await readStream(nc, FARO_RAW.name);
    for (const s of [PLANTED.urlPassword, PLANTED.bearer, PLANTED.github, PLANTED.envPassword, PLANTED.flagKey]) {
      expect(raw.some((m) => bytesContain(m.data, s)), `${s} on FARO_RAW`).toBe(true);
    }
  });
});
