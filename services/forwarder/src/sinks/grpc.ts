// gRPC sink: one bidirectional stream per sink to a receiver implementing faro.v1.IncidentService; every
// IncidentDelivery is acknowledged by an IncidentAck with the same idempotency key, and only then is the bus
// acked. mTLS (CA, client certificate and key, server name), HTTP/2 keepalive, and when the stream breaks every
// delivery waiting on it is retried and the stream is reopened after an exponential, jittered delay.
import fs from "node:fs/promises";
import * as grpc from "@grpc/grpc-js";
import { backoffDelay, sleep } from "@faro/primitives";
import { DeliveryError, ForwarderError, permanent, retryable } from "../errors.js";
import type { Delivery } from "../incident.js";
import type { Sink, SinkContext } from "../sink.js";
import { services, type IncidentAckMessage, type IncidentDeliveryMessage } from "../grpc/proto.js";

interface Waiter {
  resolve(): void;
  reject(err: DeliveryError): void;
}

type Stream = grpc.ClientDuplexStream<IncidentDeliveryMessage, IncidentAckMessage>;

async function readPem(sink: string, field: string, file: string | undefined): Promise<Buffer | null> {
  if (file === undefined) return null;
  try {
    return await fs.readFile(file);
  } catch (err) {
    throw new ForwarderError(`sink ${sink}: grpc.${field}: cannot read ${file} (${(err as NodeJS.ErrnoException).code ?? "error"})`, { cause: err });
  }
}

export function createGrpcSink(ctx: SinkContext): Sink {
  const cfg = ctx.config.grpc;
  const name = ctx.name;
  const connected = ctx.metrics.connected.labels({ sink: name });
  let client: grpc.Client | undefined;
  let call: Stream | undefined;
  let failures = 0;
  let reopenAt = 0;
  let lastError = "";
  let stopped = false;
  const pending = new Map<string, Waiter[]>();

  function settle(key: string, fn: (w: Waiter) => void): boolean {
    const ws = pending.get(key);
    const w = ws?.shift();
    if (!w) return false;
    if (ws!.length === 0) pending.delete(key);
    fn(w);
    return true;
  }

  function broke(c: Stream, why: string, code: string): void {
    if (call !== c) return;
    call = undefined;
    connected.set(0);
    failures++;
    lastError = why;
    const delay = backoffDelay(failures, { baseMs: cfg.reconnectBase, maxMs: cfg.reconnectMax, jitter: 0.2 });
    reopenAt = Date.now() + delay;
    if (!stopped) ctx.logger.warn({ sink: name, why, retryInMs: delay, waiting: pending.size }, "gRPC stream to the receiver broke; reconnecting");
    for (const [key, ws] of [...pending]) {
      pending.delete(key);
      for (const w of ws) w.reject(retryable(name, key, `stream broke before the receiver acknowledged (${why})`, { kind: code }));
    }
  }

  async function open(signal: AbortSignal): Promise<Stream> {
    if (call) return call;
    const wait = reopenAt - Date.now();
    if (wait > 0) await sleep(wait, signal);
    if (call) return call;
    if (stopped || signal.aborted || !client) throw retryable(name, "-", "stopping", { kind: "stopping" });
    const Deliver = (client as unknown as { Deliver(): Stream }).Deliver.bind(client);
    const c = Deliver();
    call = c;
    c.on("data", (ack: IncidentAckMessage) => {
      failures = 0;
      connected.set(1);
      settle(ack.idempotencyKey, (w) => {
        if (ack.accepted) w.resolve();
        else if (ack.permanent) w.reject(permanent(name, ack.idempotencyKey, `receiver refused: ${ack.error || "no reason given"}`, { kind: "refused" }));
        else w.reject(retryable(name, ack.idempotencyKey, `receiver asked for a retry: ${ack.error || "no reason given"}`, { kind: "nack" }));
      });
    });
    c.on("error", (err: grpc.ServiceError) => broke(c, `${grpc.status[err.code] ?? err.code}: ${err.details || err.message}`, grpc.status[err.code] ?? "error"));
    c.on("end", () => broke(c, "the receiver ended the stream", "end"));
    c.on("metadata", () => connected.set(1));
    return c;
  }

  return {
    async start() {
      const [ca, cert, key] = await Promise.all([readPem(name, "ca", cfg.ca), readPem(name, "cert", cfg.cert), readPem(name, "key", cfg.key)]);
      const creds = cfg.insecure ? grpc.credentials.createInsecure() : grpc.credentials.createSsl(ca, key, cert);
      const options: grpc.ChannelOptions = {
        "grpc.keepalive_time_ms": cfg.keepaliveTime,
        "grpc.keepalive_timeout_ms": cfg.keepaliveTimeout,
        "grpc.keepalive_permit_without_calls": 1,
        "grpc.initial_reconnect_backoff_ms": cfg.reconnectBase,
        "grpc.max_reconnect_backoff_ms": cfg.reconnectMax,
        ...(cfg.serverName ? { "grpc.ssl_target_name_override": cfg.serverName, "grpc.default_authority": cfg.serverName } : {}),
      };
      client = new (services().incident)(cfg.address!, creds, options);
      ctx.logger.info({ sink: name, address: cfg.address, tls: !cfg.insecure, mtls: cert !== null }, "gRPC sink ready");
    },
    async deliver(d: Delivery, signal: AbortSignal) {
      const c = await open(signal);
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => {
          const ws = pending.get(d.key);
          const i = ws?.indexOf(w) ?? -1;
          if (i >= 0) ws!.splice(i, 1);
          if (ws && ws.length === 0) pending.delete(d.key);
          reject(retryable(name, d.key, `no acknowledgement within ${ctx.config.timeout}ms`, { kind: "timeout" }));
        }, ctx.config.timeout);
        const w: Waiter = {
          resolve: () => {
            clearTimeout(timer);
            resolve();
          },
          reject: (err) => {
            clearTimeout(timer);
            reject(err);
          },
        };
        const ws = pending.get(d.key) ?? [];
        ws.push(w);
        pending.set(d.key, ws);
        c.write({ schemaVersion: 1, idempotencyKey: d.key, sink: name, incident: d.incident });
      });
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      const c = call;
      if (c) {
        broke(c, "sink stopping", "stopping");
        c.cancel();
      }
      client?.close();
      connected.set(0);
    },
    health() {
      if (!client) return "not started";
      const state = client.getChannel().getConnectivityState(false);
      if (state === grpc.connectivityState.TRANSIENT_FAILURE) return `receiver unreachable${lastError ? ` (${lastError})` : ""}`;
      return true;
    },
  };
}
