// faro.v1.IncidentService (packages/contracts/proto/faro.proto) and grpc.health.v1.Health loaded for @grpc/grpc-js.
import path from "node:path";
import * as grpc from "@grpc/grpc-js";
import * as protoLoader from "@grpc/proto-loader";
import { PROTO_PATH, type IncidentContext } from "@faro/contracts";

const LOADER: protoLoader.Options = { keepCase: false, longs: Number, enums: String, defaults: true, oneofs: true };

export const INCIDENT_SERVICE = "faro.v1.IncidentService";
export const HEALTH_PROTO = path.join(import.meta.dirname, "..", "..", "proto", "health.proto");

/** IncidentDelivery as @grpc/proto-loader gives it (camelCase). */
export interface IncidentDeliveryMessage {
  schemaVersion: number;
  idempotencyKey: string;
  sink: string;
  incident: IncidentContext;
}

export interface IncidentAckMessage {
  schemaVersion: number;
  idempotencyKey: string;
  accepted: boolean;
  permanent: boolean;
  error: string;
}

let loaded: { incident: grpc.ServiceClientConstructor; health: grpc.ServiceClientConstructor } | undefined;

/** The client constructors (their `.service` is the definition a server adds). Loaded once. */
export function services(): { incident: grpc.ServiceClientConstructor; health: grpc.ServiceClientConstructor } {
  if (loaded) return loaded;
  const faro = grpc.loadPackageDefinition(protoLoader.loadSync(PROTO_PATH, LOADER)) as unknown as { faro: { v1: { IncidentService: grpc.ServiceClientConstructor } } };
  const health = grpc.loadPackageDefinition(protoLoader.loadSync(HEALTH_PROTO, LOADER)) as unknown as { grpc: { health: { v1: { Health: grpc.ServiceClientConstructor } } } };
  loaded = { incident: faro.faro.v1.IncidentService, health: health.grpc.health.v1.Health };
  return loaded;
}
