// The object storage sink through the AWS SDK v3 against a real S3-compatible server started here: gofakes3
// (github.com/johannesboyne/gofakes3, a single Go binary: `go install github.com/johannesboyne/gofakes3/cmd/gofakes3@v1.2.0`;
// chosen because it installs with `go install` alone, starts in milliseconds with an in-memory backend and speaks
// the S3 REST API the SDK uses). Skipped, saying so, when the binary is not installed. gofakes3 accepts but does not
// apply server-side encryption, so the SDK's requests pass through a small recording proxy here and the test asserts
// the `x-amz-server-side-encryption` header each PUT carried.
import fs from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { GetObjectCommand, HeadObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { decodeDeadLetter } from "@faro/contracts";
import { findBinary, freePort, ProcessServer, startNats, startRedis, until, type ManagedServer } from "@faro/test-harness";
import { incident, publish, publishStory, startForwarder } from "./helpers.js";

const GOFAKES3 = findBinary("gofakes3") ?? [path.join(os.homedir(), "go", "bin", "gofakes3")].find((p) => fs.existsSync(p));
const missing = GOFAKES3 ? undefined : "gofakes3 is not installed (go install github.com/johannesboyne/gofakes3/cmd/gofakes3@v1.2.0, or FARO_GOFAKES3_BIN)";

let nats: ManagedServer;
let redis: ManagedServer;
let nc: NatsConnection;
let s3: ProcessServer | undefined;
let endpoint = "";
/** The recording proxy in front of gofakes3: what the forwarder's SDK sent. */
let proxy: http.Server | undefined;
let proxied = "";
const seen: { method: string; url: string; headers: http.IncomingHttpHeaders }[] = [];

beforeAll(async () => {
  [nats, redis] = await Promise.all([startNats(), startRedis()]);
  nc = await connect({ servers: nats.url });
  if (GOFAKES3) {
    const port = await freePort();
    s3 = new ProcessServer(GOFAKES3, ["-backend", "memory", "-host", `127.0.0.1:${port}`, "-initialbucket", "incidents", "-quiet"], port);
    await s3.start();
    endpoint = `http://127.0.0.1:${port}`;
    proxy = http.createServer((req, res) => {
      seen.push({ method: req.method ?? "", url: req.url ?? "", headers: req.headers });
      const up = http.request({ host: "127.0.0.1", port, method: req.method, path: req.url, headers: req.headers }, (r) => {
        res.writeHead(r.statusCode ?? 502, r.headers);
        r.pipe(res);
      });
      up.on("error", () => res.destroy());
      req.pipe(up);
    });
    await new Promise<void>((resolve) => proxy!.listen(0, "127.0.0.1", resolve));
    proxied = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
  }
});

afterAll(async () => {
  await nc?.close();
  proxy?.closeAllConnections();
  await new Promise((resolve) => (proxy ? proxy.close(resolve) : resolve(undefined)));
  await s3?.signal("SIGTERM");
  await Promise.all([nats?.stop(), redis?.stop()]);
});

const env = (cluster: string) => ({ FARO_NATS_URL: nats.url, FARO_REDIS_URL: redis.url, FARO_CLUSTER: cluster, S3_KEY: "faro-test", S3_SECRET: "faro-test-secret-key" });
const sink = (bucket: string) => ({
  name: "bucket",
  type: "s3",
  retry: { base: "50ms", max: "100ms" },
  s3: { bucket, prefix: "faro/", endpoint: proxied, forcePathStyle: true, accessKeyId: { env: "S3_KEY" }, secretAccessKey: { env: "S3_SECRET" }, serverSideEncryption: "AES256" },
});

describe("forwarder: S3 sink", () => {
  it.skipIf(missing !== undefined)(`writes one bundle per revision at the documented keys, with server-side encryption requested${missing ? ` (skipped: ${missing})` : ""}`, { timeout: 30_000 }, async () => {
    await publishStory(nc, "crasher", "s31");
    const fwd = await startForwarder(env("s31"), { sinks: [sink("incidents")] });
    const client = new S3Client({ region: "us-east-1", endpoint, forcePathStyle: true, credentials: { accessKeyId: "faro-test", secretAccessKey: "faro-test-secret-key" } });
    const text = async (key: string) => (await client.send(new GetObjectCommand({ Bucket: "incidents", Key: key }))).Body!.transformToString();
    try {
      await publish(nc, incident("crasher", 1, { cluster: "s31" }));
      await publish(nc, incident("crasher", 2, { cluster: "s31" }));
      await until(async () => (await fwd.metric("faro_forwarder_delivered_total", { sink: "bucket", event: "updated" })) === 1, "both revisions stored");
      for (const n of [1, 2]) {
        const at = `faro/s31/shop/crasher/${n}`;
        const obj = await client.send(new GetObjectCommand({ Bucket: "incidents", Key: `${at}/incident.json` }));
        const body = JSON.parse(await obj.Body!.transformToString()) as { idempotencyKey: string; event: string; incident: { repeatCount: number } };
        expect(body).toMatchObject({ idempotencyKey: `crasher:${n}`, event: n === 1 ? "incident.opened" : "incident.updated", incident: { repeatCount: n } });
        expect(obj.ContentType).toBe("application/json");
        const head = await client.send(new HeadObjectCommand({ Bucket: "incidents", Key: `${at}/bundle.json` }));
        expect(head.Metadata?.["idempotency-key"]).toBe(`crasher:${n}`);
        const index = JSON.parse(await text(`${at}/bundle.json`)) as { files: string[]; story: { source: string } };
        expect(index.files).toEqual(["incident.json", "story.json", "logs/crasher-7d9f-aaaaa.app.0.log", "logs/crasher-7d9f-aaaaa.app.1.log"]);
        expect(index.story.source).toBe("bus");
        expect(await text(`${at}/logs/crasher-7d9f-aaaaa.app.1.log`)).toBe("2026-01-01T00:00:03.000000000Z starting again\n2026-01-01T00:00:04.000000000Z panic: boom\n");
        expect((JSON.parse(await text(`${at}/story.json`)) as { entries: unknown[] }).entries).toHaveLength(5);
      }
      // Every object written asked for SSE (gofakes3 ignores it; the header is what AWS and other stores act on).
      const puts = seen.filter((r) => r.method === "PUT" && r.url.includes("/s31/"));
      expect(puts).toHaveLength(2 * 5);
      for (const p of puts) expect(p.headers["x-amz-server-side-encryption"]).toBe("AES256");
      expect(fwd.logs()).not.toContain("faro-test-secret-key");
    } finally {
      client.destroy();
      await fwd.running.stop();
    }
  });

  it.skipIf(missing !== undefined)(`passes aws:kms with the key id on${missing ? ` (skipped: ${missing})` : ""}`, { timeout: 30_000 }, async () => {
    const kms = { ...sink("incidents"), s3: { ...sink("incidents").s3, serverSideEncryption: "aws:kms", kmsKeyId: "arn:aws:kms:eu-central-1:111122223333:key/abcd" } };
    const fwd = await startForwarder(env("s33"), { sinks: [kms] });
    try {
      await publish(nc, incident("kms", 1, { cluster: "s33" }));
      // gofakes3 has no KMS (it may refuse the request): what matters is what the SDK was told to ask for.
      await until(() => seen.some((r) => r.method === "PUT" && r.url.includes("/s33/shop/kms/1/")), "a PUT of the bundle");
      const puts = seen.filter((r) => r.method === "PUT" && r.url.includes("/s33/"));
      expect(puts[0]!.url).toMatch(/\/faro\/s33\/shop\/kms\/1\/incident\.json/);
      for (const p of puts) {
        expect(p.headers["x-amz-server-side-encryption"]).toBe("aws:kms");
        expect(p.headers["x-amz-server-side-encryption-aws-kms-key-id"]).toBe("arn:aws:kms:eu-central-1:111122223333:key/abcd");
      }
    } finally {
      await fwd.running.stop();
    }
  });

  it.skipIf(missing !== undefined)(`dead-letters a missing bucket with the reason${missing ? ` (skipped: ${missing})` : ""}`, { timeout: 30_000 }, async () => {
    const letters: string[] = [];
    const sub = nc.subscribe("faro.v1.dlq.forwarder.deliver", { callback: (_e, m) => void letters.push(decodeDeadLetter(m.data).error) });
    const fwd = await startForwarder(env("s32"), { sinks: [sink("no-such-bucket")] });
    try {
      await publish(nc, incident("oom", 1, { cluster: "s32" }));
      await until(() => letters.length === 1, "the dead letter");
      expect(letters[0]).toMatch(/^sink bucket: delivery of oom:1 failed: S3 NoSuchBucket \(HTTP 404\)/);
    } finally {
      sub.unsubscribe();
      await fwd.running.stop();
    }
  });
});
