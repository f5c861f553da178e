// Helpers of the forwarder's end-to-end and gRPC tests: a sample incident and the standard gRPC health check.
import * as grpc from "@grpc/grpc-js";
import * as protoLoader from "@grpc/proto-loader";
import type { Encodable, IncidentContext } from "@faro/contracts";
import path from "node:path";

const HEALTH_PROTO = path.resolve(import.meta.dirname, "../proto/health.proto");

/** grpc.health.v1.Health/Check: the status name the server reports for `service`. */
export async function healthCheck(address: string, creds: grpc.ChannelCredentials, service: string): Promise<string> {
  const pkg = grpc.loadPackageDefinition(protoLoader.loadSync(HEALTH_PROTO, { enums: String, defaults: true })) as unknown as {
    grpc: { health: { v1: { Health: grpc.ServiceClientConstructor } } };
  };
  const client = new pkg.grpc.health.v1.Health(address, creds, { "grpc.ssl_target_name_override": "localhost", "grpc.default_authority": "localhost" });
  try {
    return await new Promise<string>((resolve, reject) =>
      (client as unknown as { Check(req: unknown, cb: (err: Error | null, res: { status: string }) => void): void }).Check({ service }, (err, res) => (err ? reject(err) : resolve(res.status))),
    );
  } finally {
    client.close();
  }
}

/** An incident revision as the correlator publishes it (repeatCount 1 = the first). */
export function sampleIncident(id: string, repeatCount: number, over: Partial<IncidentContext> = {}): Encodable<IncidentContext> {
  return {
    schemaVersion: 1,
    incidentId: id,
    storyId: `s-${id}`,
    tenant: "acme",
    cluster: "fwd",
    namespace: "shop",
    reason: "CrashLoopBackOff",
    severity: "high",
    detectedAt: new Date().toISOString(),
    k8sTimestamp: new Date().toISOString(),
    firstSeen: "2026-01-01T00:00:00.000Z",
    lastSeen: new Date().toISOString(),
    repeatCount,
    isUpdate: repeatCount > 1,
    ownerChain: [{ apiVersion: "apps/v1", kind: "Deployment", name: id, uid: `dep-${id}` }],
    pod: { name: `${id}-7d9f-aaaaa`, uid: `pod-${id}`, node: "node-1", replacesPodUid: "" },
    container: "app",
    exitCode: 1,
    restartCount: repeatCount,
    message: "back-off restarting failed container",
    logTail: [],
    previousLog: [],
    previousLogSource: "none",
    events: [],
    manifests: [],
    recentChanges: [],
    ...over,
  } as Encodable<IncidentContext>;
}
