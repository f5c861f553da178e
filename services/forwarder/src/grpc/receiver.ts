// The reference receiver of the gRPC sink (`faro receive grpc`, and the tests): implements
// faro.v1.IncidentService and the standard grpc.health.v1.Health, optionally with mTLS, acknowledges every
// delivery, and counts a delivery whose idempotency key it already accepted as a duplicate.
import fs from "node:fs";
import * as grpc from "@grpc/grpc-js";
import { ReceiverError } from "../errors.js";
import { INCIDENT_SERVICE, services, type IncidentAckMessage, type IncidentDeliveryMessage } from "./proto.js";

export interface ReceivedIncident {
  readonly key: string;
  readonly sink: string;
  readonly incident: IncidentDeliveryMessage["incident"];
  readonly receivedAtMs: number;
  /** The key was accepted before: an at-least-once redelivery the receiver dropped. */
  readonly duplicate: boolean;
  /** The peer's address as gRPC reports it. */
  readonly peer: string;
}

/** What the receiver answers for one delivery (default: accept). */
export type ReceiverDecision = { accepted: true } | { accepted: false; permanent: boolean; error: string };

export interface ReceiverOptions {
  /** `host:port`; port 0 picks a free one. */
  listen: string;
  /** PEM files; without them the receiver speaks plain text. */
  tls?: { ca?: string | undefined; cert: string; key: string; requireClientCert?: boolean | undefined } | undefined;
  decide?: (d: IncidentDeliveryMessage) => ReceiverDecision | Promise<ReceiverDecision>;
  onReceive?: (r: ReceivedIncident) => void;
}

export interface IncidentReceiver {
  readonly port: number;
  readonly address: string;
  /** Every delivery received, duplicates included, in arrival order. */
  readonly received: readonly ReceivedIncident[];
  /** Keys accepted once each. */
  readonly accepted: ReadonlySet<string>;
  /** Health status served for "" and faro.v1.IncidentService. */
  setServing(serving: boolean): void;
  stop(): Promise<void>;
}

function read(listen: string, what: string, file: string): Buffer {
  try {
    return fs.readFileSync(file);
  } catch (err) {
    throw new ReceiverError(listen, `cannot read the ${what} ${file}`, { cause: err });
  }
}

export async function startIncidentReceiver(o: ReceiverOptions): Promise<IncidentReceiver> {
  const svc = services();
  const server = new grpc.Server({ "grpc.keepalive_permit_without_calls": 1, "grpc.http2.min_ping_interval_without_data_ms": 1000 } as grpc.ServerOptions);
  const received: ReceivedIncident[] = [];
  const accepted = new Set<string>();
  let serving = true;
  const watchers = new Set<grpc.ServerWritableStream<unknown, unknown>>();
  const status = () => ({ status: serving ? "SERVING" : "NOT_SERVING" });
  const calls = new Set<grpc.ServerDuplexStream<IncidentDeliveryMessage, IncidentAckMessage>>();

  server.addService(svc.incident.service, {
    Deliver(call: grpc.ServerDuplexStream<IncidentDeliveryMessage, IncidentAckMessage>) {
      calls.add(call);
      call.on("data", (d: IncidentDeliveryMessage) => {
        void (async () => {
          let decision: ReceiverDecision = { accepted: true };
          try {
            if (o.decide) decision = await o.decide(d);
          } catch (err) {
            decision = { accepted: false, permanent: false, error: (err as Error).message };
          }
          if (decision.accepted) {
            const duplicate = accepted.has(d.idempotencyKey);
            accepted.add(d.idempotencyKey);
            const r: ReceivedIncident = { key: d.idempotencyKey, sink: d.sink, incident: d.incident, receivedAtMs: Date.now(), duplicate, peer: call.getPeer() };
            received.push(r);
            o.onReceive?.(r);
          }
          if (!call.writable) return;
          call.write({
            schemaVersion: 1,
            idempotencyKey: d.idempotencyKey,
            accepted: decision.accepted,
            permanent: decision.accepted ? false : decision.permanent,
            error: decision.accepted ? "" : decision.error,
          });
        })();
      });
      call.on("end", () => {
        calls.delete(call);
        call.end();
      });
      call.on("error", () => calls.delete(call));
      call.on("cancelled", () => calls.delete(call));
    },
  });
  server.addService(svc.health.service, {
    Check(call: grpc.ServerUnaryCall<{ service: string }, unknown>, cb: grpc.sendUnaryData<unknown>) {
      const s = call.request.service;
      if (s !== "" && s !== INCIDENT_SERVICE) return cb({ code: grpc.status.NOT_FOUND, details: `unknown service ${s}` } as grpc.ServiceError);
      cb(null, status());
    },
    Watch(call: grpc.ServerWritableStream<unknown, unknown>) {
      watchers.add(call);
      call.write(status());
      call.on("cancelled", () => watchers.delete(call));
    },
  });

  const creds = o.tls
    ? grpc.ServerCredentials.createSsl(
        o.tls.ca ? read(o.listen, "CA", o.tls.ca) : null,
        [{ cert_chain: read(o.listen, "certificate", o.tls.cert), private_key: read(o.listen, "key", o.tls.key) }],
        o.tls.requireClientCert ?? o.tls.ca !== undefined,
      )
    : grpc.ServerCredentials.createInsecure();
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync(o.listen, creds, (err, p) => (err ? reject(new ReceiverError(o.listen, err.message, { cause: err })) : resolve(p))),
  );
  const host = o.listen.slice(0, o.listen.lastIndexOf(":"));
  let stopping: Promise<void> | undefined;
  return {
    port,
    address: `${host}:${port}`,
    received,
    accepted,
    setServing(v) {
      serving = v;
      for (const w of watchers) w.write(status());
    },
    stop() {
      stopping ??= new Promise<void>((resolve) => {
        for (const w of watchers) w.end();
        for (const c of calls) c.end();
        const force = setTimeout(() => server.forceShutdown(), 2000);
        server.tryShutdown(() => {
          clearTimeout(force);
          resolve();
        });
      });
      return stopping;
    },
  };
}
