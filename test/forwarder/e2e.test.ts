// End to end: the simulator's crashloop scenario through the whole pipeline (watcher → … → correlator →
// forwarder) to a webhook receiver and to the reference gRPC receiver (`faro receive grpc`, mTLS): each incident
// arrives once per idempotency key, repeats arrive as updates of the same incident id, a client certificate from
// another CA is refused with nothing acknowledged, and a receiver answering 401 sends the incident to the dead
// letters with the reason.
import fs from "node:fs";
import http from "node:http";
import os from "node:os";
import path from "node:path";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { jetstreamManager } from "@nats-io/jetstream";
import { startSession, type Session } from "@faro/cli";
import { decodeDeadLetter, type DeadLetter } from "@faro/contracts";
import { startCluster, type Cluster } from "@faro/kube-sim";
import { freePort, makeCerts, startNats, startRedis, type ManagedServer, type TestCerts } from "@faro/test-harness";
import { faro, until, type Child } from "../e2e/helpers.js";

interface Hook {
  key: string;
  sink: string;
  event: string;
  body: { incident: { incidentId: string; repeatCount: number; cluster: string; reason: string } };
}
interface Line {
  key: string;
  sink: string;
  duplicate: boolean;
  incident: { incidentId: string; repeatCount: number; isUpdate: boolean; cluster: string };
}

let nats: ManagedServer;
let redis: ManagedServer;
let cluster: Cluster;
let nc: NatsConnection;
let certs: TestCerts;
let strangers: TestCerts;
let dir: string;
let receiver: Child | undefined;
let hookServer: http.Server;
let hookUrl: string;
const hooks: Hook[] = [];
const unauthorized: string[] = [];
const letters: { sink: string | undefined; letter: DeadLetter }[] = [];

beforeAll(async () => {
  certs = makeCerts();
  strangers = makeCerts();
  [nats, redis, cluster] = await Promise.all([startNats(), startRedis(), startCluster({ speed: 40, scenario: "crashloop" })]);
  nc = await connect({ servers: nats.url });
  nc.subscribe("faro.v1.dlq.forwarder.>", { callback: (_e, m) => void letters.push({ sink: m.headers?.get("Faro-Dlq-Sink"), letter: decodeDeadLetter(m.data) }) });
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "faro-fwd-e2e-"));
  hookServer = http.createServer((req, res) => {
    let body = "";
    req.on("data", (d: Buffer) => (body += d.toString()));
    req.on("end", () => {
      if (req.url === "/locked") {
        unauthorized.push(String(req.headers["idempotency-key"]));
        res.writeHead(401).end('{"error":"invalid token"}');
        return;
      }
      hooks.push({ key: String(req.headers["idempotency-key"]), sink: JSON.parse(body).sink, event: String(req.headers["faro-event"]), body: JSON.parse(body) });
      res.writeHead(200).end("{}");
    });
  });
  await new Promise<void>((r) => hookServer.listen(0, "127.0.0.1", r));
  hookUrl = `http://127.0.0.1:${(hookServer.address() as AddressInfo).port}`;
}, 60_000);

afterAll(async () => {
  if (receiver && receiver.proc.exitCode === null) {
    receiver.proc.kill("SIGTERM");
    await receiver.exited;
  }
  hookServer?.closeAllConnections();
  await new Promise<void>((r) => (hookServer ? hookServer.close(() => r()) : r()));
  await nc?.close();
  await cluster?.stop();
  await Promise.all([nats?.stop(), redis?.stop()]);
  for (const d of [dir, certs?.dir, strangers?.dir]) if (d) fs.rmSync(d, { recursive: true, force: true });
});

function receivedLines(): Line[] {
  return (receiver?.output() ?? "")
    .split("\n")
    .filter((l) => l.startsWith("{"))
    .map((l) => JSON.parse(l) as Line);
}

describe("forwarder end to end: crashloop → pipeline → webhook and gRPC receivers", () => {
  it("delivers each incident once per idempotency key, repeats as updates, refuses a foreign certificate, dead-letters a 401", { timeout: 150_000 }, async () => {
    const port = await freePort();
    receiver = faro(["receive", "grpc", "--listen", `127.0.0.1:${port}`, "--tls-ca", certs.ca, "--tls-cert", certs.serverCert, "--tls-key", certs.serverKey], {});
    await until("the receiver listening", () => receiver!.output().includes("listening on") || (receiver!.proc.exitCode !== null && Promise.reject(new Error(receiver!.output()))), 30_000);
    const grpcSink = (name: string, client: TestCerts) => ({
      name,
      type: "grpc",
      maxDeliveries: 1000,
      retry: { base: "100ms", max: "1s" },
      grpc: { address: `127.0.0.1:${port}`, ca: certs.ca, cert: client.clientCert, key: client.clientKey, serverName: "localhost", reconnectBase: "100ms", reconnectMax: "1s" },
    });
    fs.writeFileSync(path.join(dir, "hook-secret"), "e2e-secret\n");
    const sinks = [
      { name: "hooks", type: "webhook", webhook: { url: `${hookUrl}/hooks`, signingSecret: { file: path.join(dir, "hook-secret") } } },
      { name: "locked", type: "webhook", webhook: { url: `${hookUrl}/locked` } },
      grpcSink("ai", certs),
      grpcSink("impostor", strangers),
    ];
    const kubeconfig = path.join(dir, "kubeconfig");
    cluster.writeKubeconfig(kubeconfig);
    let session: Session | undefined;
    try {
      session = await startSession({
        tokenPrefix: "fwd",
        kubeconfig,
        dir: path.join(dir, "stories"),
        logLevel: "warn",
        namespaces: ["default"],
        // The back-off reaches its 5m cap at once: an 11m window (16.5s here at speed 40) holds two or three crashes, one
        // incident whose update (a higher count) follows at the window's end.
        env: { FARO_NATS_URL: nats.url, FARO_REDIS_URL: redis.url, FARO_SINKS: JSON.stringify(sinks), FARO_DEBOUNCE_WINDOW: "11m" },
      });
      const s = session;
      // A repeat of an incident (same id, higher count) reached the webhook, and the gRPC receiver has every key the webhook has.
      await until(
        "an update of an incident at both receivers",
        () => {
          const repeat = hooks.find((h) => h.body.incident.repeatCount > 1);
          if (!repeat) return false;
          const grpcKeys = new Set(receivedLines().map((l) => l.key));
          return hooks.every((h) => grpcKeys.has(h.key)) && repeat;
        },
        90_000,
        200,
      ).catch((err: Error) => {
        throw new Error(`${err.message}; webhook got ${JSON.stringify(hooks.map((h) => `${h.key} ${h.body.incident.reason} ${JSON.stringify(h.body.incident).slice(0, 400)}`))}; gRPC got ${JSON.stringify(receivedLines().map((l) => `${l.sink}/${l.key}`))}`);
      });
      // Each incident once per idempotency key, at both receivers.
      const hookKeys = hooks.map((h) => h.key);
      expect(new Set(hookKeys).size).toBe(hookKeys.length);
      const lines = receivedLines();
      expect(lines.filter((l) => l.duplicate)).toEqual([]);
      expect(new Set(lines.map((l) => l.key)).size).toBe(lines.length);
      // Only the sink with the right certificate got anything through.
      expect(new Set(lines.map((l) => l.sink))).toEqual(new Set(["ai"]));
      for (const h of hooks) {
        expect(h.body.incident.cluster).toBe(s.cluster);
        expect(h.key).toBe(`${h.body.incident.incidentId}:${h.body.incident.repeatCount}`);
        // Repeats are updates of the incident already shown, never a second "opened".
        expect(h.event).toBe(h.body.incident.repeatCount > 1 ? "incident.updated" : "incident.opened");
      }
      const opened = hooks.filter((h) => h.event === "incident.opened").map((h) => h.body.incident.incidentId);
      expect(new Set(opened).size).toBe(opened.length);
      for (const u of hooks.filter((h) => h.event === "incident.updated")) expect(opened).toContain(u.body.incident.incidentId);
      for (const l of lines) expect(l.incident.isUpdate).toBe(l.incident.repeatCount > 1);
      // The foreign certificate: refused by the receiver, nothing acknowledged on its durable.
      const jsm = await jetstreamManager(nc);
      const impostor = await jsm.consumers.info("FARO_INCIDENT", `${s.cluster}_forwarder-impostor`);
      expect(impostor.ack_floor.stream_seq).toBe(0);
      expect(impostor.num_ack_pending + impostor.num_pending).toBeGreaterThan(0);
      // The 401: dead-lettered with the reason, once per incident revision, never retried.
      await until("the 401s dead-lettered", () => unauthorized.length > 0 && letters.filter((l) => l.sink === "locked").length >= unauthorized.length && true, 30_000);
      const locked = letters.filter((l) => l.sink === "locked");
      expect(new Set(unauthorized).size).toBe(unauthorized.length);
      for (const { letter } of locked) {
        expect(letter).toMatchObject({ service: "forwarder", stage: "deliver", reason: "permanent error", deliveries: 1 });
        expect(letter.error).toMatch(/sink locked: delivery of .+ failed: HTTP 401/);
      }
      expect(letters.filter((l) => l.sink === "hooks" || l.sink === "ai")).toEqual([]);
      // The run deletes its per-sink durables `<token>_forwarder-<sink>` at the end, like its other durables.
      await session.abort("test finished");
      const left: string[] = [];
      for await (const c of jsm.consumers.list("FARO_INCIDENT")) if (c.name.startsWith(`${s.cluster}_`)) left.push(c.name);
      expect(left).toEqual([]);
    } finally {
      await session?.abort("test finished");
    }
  });
});
