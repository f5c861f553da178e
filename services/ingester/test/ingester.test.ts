// The ingester against a real NATS: real Falco and falcosidekick payloads (test/fixtures/README.md) are accepted and
// published as Events on FARO_RAW; unauthenticated, malformed, oversized and too frequent requests are refused with
// the reason, counted, and leave the bus untouched.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { jetstreamManager } from "@nats-io/jetstream";
import { ConfigError } from "@faro/config";
import { decodeKubeEvent, FARO_RAW } from "@faro/contracts";
import { loadServiceConfig, startService, type RunningService } from "@faro/kernel";
import { checkServiceContract, createLogger } from "@faro/observability";
import { startNats, type ManagedServer } from "@faro/test-harness";
import { ingesterService } from "../src/definition.js";
import type { Ingester } from "../src/service.js";

const CLUSTER = "ing";
const TOKEN = "t0ken-for-the-ingester-test";
const fixture = (name: string): string => fs.readFileSync(path.join(import.meta.dirname, "fixtures", name), "utf8");

let nats: ManagedServer;
let nc: NatsConnection;
let dir: string;
let tokenFile: string;

beforeAll(async () => {
  nats = await startNats();
  nc = await connect({ servers: nats.url });
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "faro-ingester-"));
  tokenFile = path.join(dir, "token");
  fs.writeFileSync(tokenFile, `${TOKEN}\n`);
});

afterAll(async () => {
  await nc?.close();
  await nats?.stop();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

async function startIngester(env: Record<string, string | undefined> = {}, http = false): Promise<RunningService<Ingester>> {
  const all: Record<string, string | undefined> = { FARO_CLUSTER: CLUSTER, FARO_NATS_URL: nats.url, FARO_LISTEN_HOST: "127.0.0.1", FARO_LISTEN_PORT: "0", FARO_AUTH_TOKEN_FILE: tokenFile, FARO_HTTP_PORT: "0", ...env };
  const config = loadServiceConfig(ingesterService, { env: Object.fromEntries(Object.entries(all).filter(([, v]) => v !== undefined)) as Record<string, string> });
  return startService(ingesterService, config, { logger: createLogger({ service: "ingester", level: "silent", pretty: false }), http });
}

/** Messages FARO_RAW holds for this cluster. */
async function rawCount(): Promise<number> {
  const jsm = await jetstreamManager(nc);
  const info = await jsm.streams.info(FARO_RAW.name, { subjects_filter: `faro.v1.raw.${CLUSTER}.>` });
  return Object.values(info.state.subjects ?? {}).reduce((a, b) => a + b, 0);
}

async function post(ing: RunningService<Ingester>, endpoint: string, body: string, headers: Record<string, string> = { authorization: `Bearer ${TOKEN}` }): Promise<{ status: number; json: Record<string, unknown>; headers: Headers }> {
  const res = await fetch(`${ing.instance.url()}${endpoint}`, { method: "POST", headers: { "content-type": "application/json", ...headers }, body });
  return { status: res.status, json: (await res.json()) as Record<string, unknown>, headers: res.headers };
}

async function metric(ing: RunningService<Ingester>, pattern: RegExp): Promise<number> {
  const text = await ing.handle.metrics.registry.metrics();
  const line = text.split("\n").find((l) => pattern.test(l));
  return line ? Number(line.split(" ").pop()) : 0;
}

describe("ingester", () => {
  it("publishes a real Falco http_output alert about a pod as a Warning Event on the pod's raw subject", { timeout: 30_000 }, async () => {
    const ing = await startIngester();
    try {
      const before = await rawCount();
      const r = await post(ing, "/v1/falco", fixture("falco-terminal-shell-k8s.json"));
      expect(r.status).toBe(202);
      expect(r.json).toMatchObject({ accepted: true, duplicate: false, subject: `faro.v1.raw.${CLUSTER}.default.event.Pod.alpine` });
      expect(await rawCount()).toBe(before + 1);
      const sub = nc.subscribe(`faro.v1.raw.${CLUSTER}.default.event.Pod.alpine`, { max: 1 });
      // The same alert again (a client retry): one message, deduplicated by its id.
      const again = await post(ing, "/v1/falco", fixture("falco-terminal-shell-k8s.json"));
      expect(again.json).toMatchObject({ accepted: true, duplicate: true, id: r.json["id"] });
      for await (const m of sub) {
        const ev = decodeKubeEvent(m.data);
        expect(ev).toMatchObject({
          cluster: CLUSTER,
          namespace: "default",
          reason: "Terminal shell in container",
          eventType: "Warning",
          sourceComponent: "falco",
          reportingController: "faro-ingester/falco",
          sourceHost: "node-1",
          involved: { kind: "Pod", namespace: "default", name: "alpine", fieldPath: "spec.containers{alpine}" },
          eventTime: "2021-05-01T14:49:49.264147779Z",
        });
        const obj = JSON.parse(ev.objectJson) as { falco: { priority: string; output_fields: Record<string, unknown> } };
        expect(obj.falco.priority).toBe("Notice");
        expect(obj.falco.output_fields["proc.cmdline"]).toBe("sh -c uptime");
      }
      expect(await rawCount()).toBe(before + 1);
      expect(await metric(ing, /^faro_ingester_alerts_total\{.*format="falco".*priority="Notice"/)).toBe(2);
    } finally {
      await ing.stop();
    }
  });

  it("publishes Falco's documented alert without Kubernetes fields about its node, and falcosidekick's webhook payload", { timeout: 30_000 }, async () => {
    const ing = await startIngester();
    try {
      const falco = await post(ing, "/v1/falco", fixture("falco-write-below-binary-dir.json"));
      expect(falco.status).toBe(202);
      expect(falco.json["subject"]).toBe(`faro.v1.raw.${CLUSTER}._cluster.event.Node.localhost`);
      const sidekick = await post(ing, "/v1/falcosidekick", fixture("falcosidekick-webhook.json"));
      expect(sidekick.status).toBe(202);
      expect(sidekick.json["subject"]).toBe(`faro.v1.raw.${CLUSTER}._cluster.event.Node.test-host`);
      // falcosidekick's uuid is the alert's identity.
      const other = JSON.stringify({ ...(JSON.parse(fixture("falcosidekick-webhook.json")) as object), output: "changed" });
      expect((await post(ing, "/v1/falcosidekick", other)).json["id"]).toBe(sidekick.json["id"]);
      // A Falco alert lacks falcosidekick's uuid: refused on the falcosidekick endpoint, with the reason.
      const wrong = await post(ing, "/v1/falcosidekick", fixture("falco-write-below-binary-dir.json"));
      expect(wrong.status).toBe(400);
      expect(wrong.json["reasons"]).toEqual(expect.arrayContaining(["/: must have required property 'uuid'", "/: must have required property 'source'"]));
    } finally {
      await ing.stop();
    }
  });

  it("refuses unauthenticated, malformed and oversized requests with the reason, counts them, and publishes nothing", { timeout: 30_000 }, async () => {
    const ing = await startIngester({ FARO_INGEST_MAX_BODY_BYTES: "2KiB" });
    try {
      const before = await rawCount();
      const good = fixture("falco-terminal-shell-k8s.json");
      const none = await post(ing, "/v1/falco", good, {});
      expect(none.status).toBe(401);
      expect(none.headers.get("www-authenticate")).toMatch(/^Bearer/);
      expect((await post(ing, "/v1/falco", good, { authorization: "Bearer wrong" })).status).toBe(401);
      const bad = JSON.parse(good) as Record<string, unknown>;
      const invalid = await post(ing, "/v1/falco", JSON.stringify({ ...bad, priority: "Loud", time: "yesterday", rule: undefined }));
      expect(invalid.status).toBe(400);
      expect(invalid.json["error"]).toMatch(/falco-alert schema/);
      expect(invalid.json["reasons"]).toEqual(
        expect.arrayContaining([
          "/: must have required property 'rule'",
          expect.stringMatching(/^\/priority: must be equal to one of the allowed values \(Emergency\|Alert\|Critical/),
          expect.stringMatching(/^\/time: must match pattern/),
        ]),
      );
      const notJson = await post(ing, "/v1/falco", "{not json");
      expect(notJson.status).toBe(400);
      expect(notJson.json["error"]).toMatch(/not JSON/);
      const big = await post(ing, "/v1/falco", JSON.stringify({ ...bad, output: "x".repeat(4096) }));
      expect(big.status).toBe(413);
      expect(big.json["error"]).toMatch(/ingest\.maxBodyBytes \(2048\)/);
      expect((await post(ing, "/v1/nothing", good)).status).toBe(404);
      expect(await rawCount()).toBe(before);
      expect(await metric(ing, /^faro_messages_dropped_total\{.*reason="unauthorized"/)).toBe(2);
      expect(await metric(ing, /^faro_messages_dropped_total\{.*reason="invalid_payload"/)).toBe(1);
      expect(await metric(ing, /^faro_messages_dropped_total\{.*reason="invalid_json"/)).toBe(1);
      expect(await metric(ing, /^faro_messages_dropped_total\{.*reason="too_large"/)).toBe(1);
      expect(await metric(ing, /^faro_ingester_requests_total\{.*code="413"/)).toBe(1);
      expect(await metric(ing, /^faro_messages_in_total/)).toBe(0);
    } finally {
      await ing.stop();
    }
  });

  it("answers 429 with Retry-After beyond the configured rate", { timeout: 30_000 }, async () => {
    const ing = await startIngester({ FARO_INGEST_RATE_PER_SECOND: "0.5", FARO_INGEST_BURST: "2" });
    try {
      const body = fixture("falco-write-below-binary-dir.json");
      const codes = [];
      for (let i = 0; i < 4; i++) codes.push((await post(ing, "/v1/falco", body)).status);
      expect(codes).toEqual([202, 202, 429, 429]);
      const limited = await post(ing, "/v1/falco", body);
      expect(Number(limited.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
      expect(await metric(ing, /^faro_messages_dropped_total\{.*reason="rate_limited"/)).toBe(3);
      expect(await metric(ing, /^faro_queue_capacity\{.*queue="rate_limit_tokens"/)).toBe(2);
    } finally {
      await ing.stop();
    }
  });

  it("follows the service contract; without a token it starts with the endpoint closed; a missing token file exits 2 naming the field", { timeout: 30_000 }, async () => {
    const ing = await startIngester({}, true);
    try {
      const report = await checkServiceContract(ing.handle.http!.url, { expectReady: true });
      expect(report.metrics).toMatch(/faro_ingester_enabled\{[^}]*\} 1/);
      expect(report.metrics).toMatch(/faro_ingester_max_body_bytes\{[^}]*\} 262144/);
      const url = ing.instance.url()!;
      const [a, b] = [ing.stop(), ing.stop()];
      expect(await a).toEqual(await b);
      await expect(fetch(`${url}/v1/falco`, { method: "POST", body: "{}" })).rejects.toThrow();
    } finally {
      await ing.stop();
    }
    const closed = await startIngester({ FARO_AUTH_TOKEN_FILE: undefined });
    try {
      expect(closed.instance.url()).toBeUndefined();
      expect(closed.instance.readiness()).toEqual({ ok: true });
    } finally {
      await closed.stop();
    }
    expect(() => loadServiceConfig(ingesterService, { env: { FARO_AUTH_TOKEN_FILE: path.join(dir, "missing") } })).toThrow(ConfigError);
    expect(() => loadServiceConfig(ingesterService, { env: { FARO_AUTH_TOKEN_FILE: path.join(dir, "missing") } })).toThrow(/auth\.tokenFile: cannot read the token file: ENOENT/);
    expect(() => loadServiceConfig(ingesterService, { env: { FARO_AUTH_TOKEN_FILE: tokenFile, FARO_AUTH_TOKEN: "x" } })).toThrow(/auth\.token.*not both/);
  });
});
