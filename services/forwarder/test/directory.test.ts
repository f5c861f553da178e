// The local-directory sink: one JSON bundle per incident revision at the documented path, written atomically
// (no temp file left behind), each path segment escaped into one safe name.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { startNats, startRedis, until, type ManagedServer } from "@faro/test-harness";
import { incident, publish, startForwarder } from "./helpers.js";

let nats: ManagedServer;
let redis: ManagedServer;
let nc: NatsConnection;
let dir: string;

beforeAll(async () => {
  [nats, redis] = await Promise.all([startNats(), startRedis()]);
  nc = await connect({ servers: nats.url });
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "faro-fwd-dir-"));
});

afterAll(async () => {
  await nc?.close();
  await Promise.all([nats?.stop(), redis?.stop()]);
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

describe("forwarder: directory sink", () => {
  it("writes <cluster>/<namespace>/<incidentId>/<repeatCount>.json with the delivery body", { timeout: 20_000 }, async () => {
    const fwd = await startForwarder({ FARO_NATS_URL: nats.url, FARO_REDIS_URL: redis.url, FARO_CLUSTER: "dir1" }, { sinks: [{ name: "files", type: "directory", directory: { path: dir } }] });
    try {
      await publish(nc, incident("crasher", 1, { cluster: "dir1" }));
      await publish(nc, incident("crasher", 2, { cluster: "dir1", namespace: "pay.ments" }));
      const first = path.join(dir, "dir1", "shop", "crasher", "1.json");
      // A namespace is one path segment whatever it holds: escaped like a subject token.
      const second = path.join(dir, "dir1", "pay~2Ements", "crasher", "2.json");
      await until(() => fs.existsSync(first) && fs.existsSync(second), "both bundles");
      const body = JSON.parse(fs.readFileSync(second, "utf8")) as { event: string; idempotencyKey: string; incident: { repeatCount: number; namespace: string } };
      expect(body).toMatchObject({ event: "incident.updated", idempotencyKey: "crasher:2", incident: { repeatCount: 2, namespace: "pay.ments" } });
      const files = fs.readdirSync(dir, { recursive: true }).map(String);
      expect(files.filter((f) => f.endsWith(".tmp"))).toEqual([]);
      expect(files.filter((f) => f.endsWith(".json")).sort()).toEqual([path.join("dir1", "pay~2Ements", "crasher", "2.json"), path.join("dir1", "shop", "crasher", "1.json")]);
    } finally {
      await fwd.running.stop();
    }
  });
});
