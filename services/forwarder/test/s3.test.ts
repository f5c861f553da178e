// The object storage sink through the AWS SDK v3 against a real S3-compatible server started here: gofakes3
// (github.com/johannesboyne/gofakes3, a single Go binary: `go install github.com/johannesboyne/gofakes3/cmd/gofakes3@v1.2.0`;
// chosen because it installs with `go install` alone, starts in milliseconds with an in-memory backend and speaks
// the S3 REST API the SDK uses). Skipped, saying so, when the binary is not installed.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { GetObjectCommand, HeadObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { decodeDeadLetter } from "@faro/contracts";
import { findBinary, freePort, ProcessServer, startNats, startRedis, until, type ManagedServer } from "@faro/test-harness";
import { incident, publish, startForwarder } from "./helpers.js";

const GOFAKES3 = findBinary("gofakes3") ?? [path.join(os.homedir(), "go", "bin", "gofakes3")].find((p) => fs.existsSync(p));
const missing = GOFAKES3 ? undefined : "gofakes3 is not installed (go install github.com/johannesboyne/gofakes3/cmd/gofakes3@v1.2.0, or FARO_GOFAKES3_BIN)";

let nats: ManagedServer;
let redis: ManagedServer;
let nc: NatsConnection;
let s3: ProcessServer | undefined;
let endpoint = "";

beforeAll(async () => {
  [nats, redis] = await Promise.all([startNats(), startRedis()]);
  nc = await connect({ servers: nats.url });
  if (GOFAKES3) {
    const port = await freePort();
    s3 = new ProcessServer(GOFAKES3, ["-backend", "memory", "-host", `127.0.0.1:${port}`, "-initialbucket", "incidents", "-quiet"], port);
    await s3.start();
    endpoint = `http://127.0.0.1:${port}`;
  }
});

afterAll(async () => {
  await nc?.close();
  await s3?.signal("SIGTERM");
  await Promise.all([nats?.stop(), redis?.stop()]);
});

const env = (cluster: string) => ({ FARO_NATS_URL: nats.url, FARO_REDIS_URL: redis.url, FARO_CLUSTER: cluster, S3_KEY: "faro-test", S3_SECRET: "faro-test-secret-key" });
const sink = (bucket: string) => ({
  name: "bucket",
  type: "s3",
  retry: { base: "50ms", max: "100ms" },
  s3: { bucket, prefix: "faro/", endpoint, forcePathStyle: true, accessKeyId: { env: "S3_KEY" }, secretAccessKey: { env: "S3_SECRET" }, serverSideEncryption: "AES256" },
});

describe("forwarder: S3 sink", () => {
  it.skipIf(missing !== undefined)(`writes one object per revision at the documented key${missing ? ` (skipped: ${missing})` : ""}`, { timeout: 30_000 }, async () => {
    const fwd = await startForwarder(env("s31"), { sinks: [sink("incidents")] });
    const client = new S3Client({ region: "us-east-1", endpoint, forcePathStyle: true, credentials: { accessKeyId: "faro-test", secretAccessKey: "faro-test-secret-key" } });
    try {
      await publish(nc, incident("crasher", 1, { cluster: "s31" }));
      await publish(nc, incident("crasher", 2, { cluster: "s31" }));
      await until(async () => (await fwd.metric("faro_forwarder_delivered_total", { sink: "bucket", event: "updated" })) === 1, "both revisions stored");
      for (const n of [1, 2]) {
        const obj = await client.send(new GetObjectCommand({ Bucket: "incidents", Key: `faro/s31/shop/crasher/${n}.json` }));
        const body = JSON.parse(await obj.Body!.transformToString()) as { idempotencyKey: string; event: string; incident: { repeatCount: number } };
        expect(body).toMatchObject({ idempotencyKey: `crasher:${n}`, event: n === 1 ? "incident.opened" : "incident.updated", incident: { repeatCount: n } });
        expect(obj.ContentType).toBe("application/json");
        const head = await client.send(new HeadObjectCommand({ Bucket: "incidents", Key: `faro/s31/shop/crasher/${n}.json` }));
        expect(head.Metadata?.["idempotency-key"]).toBe(`crasher:${n}`);
      }
      expect(fwd.logs()).not.toContain("faro-test-secret-key");
    } finally {
      client.destroy();
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
