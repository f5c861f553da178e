// Helpers of the forwarder's tests: incidents as the correlator publishes them, the forwarder started through
// the kernel with sinks given as configuration, and a real HTTP server that records what it was sent.
import http from "node:http";
import { Writable } from "node:stream";
import type { AddressInfo } from "node:net";
import { jetstream } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import { buildIncidentSubject, buildStorySubject, encodeIncidentContext, encodeStoryEntry, FARO_STORY, type Encodable, type IncidentContext, type StoryEntry } from "@faro/contracts";
import { loadServiceConfig, startService, type RunningService } from "@faro/kernel";
import { createLogger } from "@faro/observability";
import { forwarderService } from "../src/definition.js";
import type { Forwarder } from "../src/service.js";

export const CLUSTER = "fwd";
export const TENANT = "acme";

/** An incident revision (repeatCount 1 = the first) of a crash-looping pod in `namespace`. */
export function incident(id: string, repeatCount = 1, over: Partial<IncidentContext> = {}): Encodable<IncidentContext> {
  const labels = { app: id, team: over.namespace === "payments" ? "payments" : "shop" };
  return {
    schemaVersion: 1,
    incidentId: id,
    storyId: `s-${id}`,
    tenant: TENANT,
    cluster: CLUSTER,
    namespace: "shop",
    reason: "CrashLoopBackOff",
    severity: "high",
    detectedAt: new Date().toISOString(),
    k8sTimestamp: new Date().toISOString(),
    firstSeen: "2026-01-01T00:00:00.000Z",
    lastSeen: new Date().toISOString(),
    repeatCount,
    isUpdate: repeatCount > 1,
    ownerChain: [
      { apiVersion: "v1", kind: "Pod", name: `${id}-7d9f-aaaaa`, uid: `pod-${id}` },
      { apiVersion: "apps/v1", kind: "Deployment", name: id, uid: `dep-${id}` },
    ],
    pod: { name: `${id}-7d9f-aaaaa`, uid: `pod-${id}`, node: "node-1", replacesPodUid: "" },
    container: "app",
    exitCode: 1,
    restartCount: repeatCount,
    message: "back-off restarting failed container",
    logTail: [{ timestamp: "2026-01-01T00:00:00.000000000Z", line: "panic: boom", truncated: false, originalBytes: 11 }],
    previousLog: [],
    previousLogSource: "buffer",
    events: [],
    manifests: [{ kind: "Pod", name: `${id}-7d9f-aaaaa`, json: JSON.stringify({ metadata: { name: `${id}-7d9f-aaaaa`, labels } }) }],
    recentChanges: [],
    ...over,
  } as Encodable<IncidentContext>;
}

/** Publishes like the correlator (subject by tenant/cluster/namespace/reason, msg id per revision); returns the stream sequence. */
export async function publish(nc: NatsConnection, inc: Encodable<IncidentContext>): Promise<number> {
  const subject = buildIncidentSubject(inc.tenant, inc.cluster, inc.namespace, inc.reason);
  const ack = await jetstream(nc).publish(subject, encodeIncidentContext(inc), { msgID: `inc:${inc.cluster}:${inc.incidentId}:${inc.repeatCount}` });
  return ack.seq;
}

/**
 * Publishes the story of `incident(id)` on FARO_STORY as the correlator does: an open entry, log entries of the
 * failing container (restarts 0 and 1, the second in two batches) and one of a sidecar that a bundle must leave out.
 */
export async function publishStory(nc: NatsConnection, id: string, cluster: string): Promise<void> {
  const js = jetstream(nc);
  // Provisions FARO_STORY as the forwarder would (idempotent), so the story can be published before it starts.
  const jsm = await js.jetstreamManager();
  await jsm.streams.add({ name: FARO_STORY.name, subjects: [...FARO_STORY.subjects] }).catch(() => undefined);
  const workload = { apiVersion: "apps/v1", kind: "Deployment", name: id, uid: `dep-${id}` };
  const pod = { name: `${id}-7d9f-aaaaa`, uid: `pod-${id}`, node: "node-1", replacesPodUid: "" };
  let seq = 0;
  const common = () => {
    seq++;
    return { schemaVersion: 2, storyId: `s-${id}`, window: 1, seq, orderingKey: `2026-01-01T00:00:0${seq}.000000000Z/${String(seq).padStart(12, "0")}`, tenant: TENANT, cluster, namespace: "shop", workload, timestamp: `2026-01-01T00:00:0${seq}.000000000Z`, pod, summary: "" };
  };
  const line = (t: string, l: string) => ({ timestamp: t, line: l, truncated: false, originalBytes: l.length });
  const log = (container: string, restartCount: number, seqStart: number, lines: ReturnType<typeof line>[]) =>
    ({ ...common(), entryKind: "log", log: { container, containerType: "regular", restartCount, source: "follow", seqStart, lines, unreadReason: "" } }) as unknown as Encodable<StoryEntry>;
  const entries: Encodable<StoryEntry>[] = [
    { ...common(), entryKind: "open", open: { window: 1, previousWindow: 0, root: workload, ownerChain: [workload] } } as unknown as Encodable<StoryEntry>,
    log("app", 0, 0, [line("2026-01-01T00:00:01.000000000Z", "starting"), line("2026-01-01T00:00:02.000000000Z", "panic: first")]),
    log("sidecar", 0, 0, [line("2026-01-01T00:00:02.500000000Z", "proxy up")]),
    log("app", 1, 0, [line("2026-01-01T00:00:03.000000000Z", "starting again")]),
    log("app", 1, 1, [line("2026-01-01T00:00:04.000000000Z", "panic: boom")]),
  ];
  const subject = buildStorySubject(TENANT, cluster, "shop", `s-${id}`);
  for (const e of entries) await js.publish(subject, encodeStoryEntry(e));
}

export interface StartedForwarder {
  running: RunningService<Forwarder>;
  /** Every log line the forwarder wrote. */
  logs(): string;
  metric(name: string, labels: Record<string, string>): Promise<number>;
}

/** Starts the forwarder through the kernel with `settings` as flags (`sinks`, `routes`, `silences` as JSON). */
export async function startForwarder(env: Record<string, string>, settings: Record<string, unknown>): Promise<StartedForwarder> {
  const argv = Object.entries(settings).map(([k, v]) => `--${k}=${typeof v === "string" ? v : JSON.stringify(v)}`);
  const config = loadServiceConfig(forwarderService, { env: { FARO_CLUSTER: CLUSTER, ...env }, argv });
  let out = "";
  const destination = new Writable({
    write(chunk: Buffer, _enc, cb) {
      out += chunk.toString();
      cb();
    },
  });
  const logger = createLogger({ service: "forwarder", level: "debug", pretty: false, destination });
  const running = await startService(forwarderService, config, { logger, http: false, env: { ...env } });
  return {
    running,
    logs: () => out,
    async metric(name, labels) {
      const m = await running.handle.metrics.registry.getSingleMetric(name)?.get();
      const v = m?.values.find((x) => Object.entries(labels).every(([k, val]) => x.labels[k] === val));
      return v?.value ?? 0;
    },
  };
}

export interface RecordedRequest {
  path: string;
  headers: http.IncomingHttpHeaders;
  body: string;
  atMs: number;
}

export interface Recorder {
  url: string;
  requests: RecordedRequest[];
  /** Decides the response of each request (default 200 `{}`). */
  respond: (r: RecordedRequest, n: number) => { status: number; headers?: Record<string, string>; body?: string; delayMs?: number };
  close(): Promise<void>;
}

/** A real HTTP server on 127.0.0.1 that records every request and answers as `respond` says. */
export async function startRecorder(): Promise<Recorder> {
  const rec: Recorder = {
    url: "",
    requests: [],
    respond: () => ({ status: 200, body: "{}" }),
    close: async () => undefined,
  };
  const server = http.createServer((req, res) => {
    let body = "";
    req.on("data", (d: Buffer) => (body += d.toString()));
    req.on("end", () => {
      const r: RecordedRequest = { path: req.url ?? "/", headers: req.headers, body, atMs: Date.now() };
      rec.requests.push(r);
      const a = rec.respond(r, rec.requests.length);
      const answer = () => {
        res.writeHead(a.status, { "content-type": "application/json", ...a.headers });
        res.end(a.body ?? "{}");
      };
      // A slow receiver: the answer comes after delayMs.
      if (a.delayMs) setTimeout(answer, a.delayMs);
      else answer();
    });
  });
  server.keepAliveTimeout = 500;
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  rec.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  rec.close = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return rec;
}
