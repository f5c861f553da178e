// The correlator service over real NATS JetStream and Redis: hand-built clean messages in, stories and incidents out.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connectBus, Publisher, type Bus } from "@faro/bus";
import {
  buildCleanSubject,
  decodeDeadLetter,
  decodeIncidentContext,
  decodeStoryEntry,
  encodeKubeEvent,
  encodeLogBatch,
  encodeResourceChange,
  eventId,
  logBatchId,
  resourceChangeId,
  type IncidentContext,
  type KubeEvent,
  type LogBatch,
  type ResourceChange,
  type StoryEntry,
} from "@faro/contracts";
import { defineService, loadServiceConfig, startService, type RunningService } from "@faro/kernel";
import { createLogger } from "@faro/observability";
import { startNats, startRedis, type ManagedServer } from "@faro/test-harness";
import { correlatorService } from "../src/definition.js";
import { createCorrelator, type Correlator } from "../src/service.js";
import { pod } from "../src/fixtures.test-util.js";
import { change, CLUSTER, event, logs, NS, TENANT, until, workload } from "./helpers.js";

let nats: ManagedServer;
let redis: ManagedServer;
let bus: Bus;
let pub: Publisher;
const correlators: RunningService<Correlator>[] = [];

/** The correlator without Kubernetes access (owners resolved by name, previous logs from the buffers). */
const testCorrelator = defineService({ ...correlatorService, create: (ctx) => createCorrelator(ctx, { kubeConfig: null }) });

function config() {
  return loadServiceConfig(testCorrelator, {
    argv: ["--nats.url", nats.url, "--redis.url", redis.url, "--cluster", CLUSTER, "--incident.settle", "300ms", "--detect.scanInterval", "50ms", "--log.level", "warn"],
    env: {},
  });
}

async function startCorrelator(): Promise<RunningService<Correlator>> {
  const c = await startService(testCorrelator, config(), { logger: createLogger({ service: "correlator", level: "warn" }), http: false });
  correlators.push(c);
  return c;
}

beforeAll(async () => {
  [nats, redis] = await Promise.all([startNats(), startRedis()]);
  // the first correlator provisions the streams; the test publishes into FARO_CLEAN like the filter would
  await startCorrelator();
  bus = await connectBus({ servers: nats.url, name: "test" });
  pub = new Publisher({ js: bus.js, name: "test" });
});

afterAll(async () => {
  await Promise.all(correlators.map((c) => c.stop()));
  await pub?.close();
  await bus?.close();
  await Promise.all([nats?.stop(), redis?.stop()]);
});

async function send(x: ResourceChange | KubeEvent | LogBatch): Promise<void> {
  if ("objectJson" in x && "ownerRefs" in x) {
    const subject = buildCleanSubject(TENANT, CLUSTER, x.namespace, { category: "obj", resource: x.resource, group: x.group, name: x.name });
    await pub.publish(subject, encodeResourceChange(x), { msgId: resourceChangeId(x.uid, x.resourceVersion, x.type) });
  } else if ("involved" in x) {
    const subject = buildCleanSubject(TENANT, CLUSTER, x.namespace, { category: "event", kind: x.involved.kind, name: x.involved.name });
    await pub.publish(subject, encodeKubeEvent(x), { msgId: eventId(x.uid, x.resourceVersion, x.type) });
  } else {
    const subject = buildCleanSubject(TENANT, CLUSTER, x.namespace, { category: "log", pod: x.pod, container: x.container });
    await pub.publish(subject, encodeLogBatch(x), { msgId: logBatchId(x.podUid, x.container, x.restartCount, x.seqStart, x.source) });
  }
}

async function readStream<T>(stream: string, decode: (b: Uint8Array) => T): Promise<{ subject: string; msg: T }[]> {
  const info = await bus.jsm.streams.info(stream);
  const out: { subject: string; msg: T }[] = [];
  for (let seq = info.state.first_seq; seq <= info.state.last_seq && info.state.messages > 0; seq++) {
    const m = await bus.jsm.streams.getMessage(stream, { seq });
    if (m) out.push({ subject: m.subject, msg: decode(m.data) });
  }
  return out;
}

const ts = (sec: number) => new Date(Date.UTC(2026, 0, 1, 0, 0, sec)).toISOString().replace(".000Z", "Z");

describe("correlator service", () => {
  it("a crash-looping pod: exactly one CrashLoopBackOff incident with its context; poison goes to the dead letters", async () => {
    const DEP = { kind: "Deployment", name: "api", uid: "dep-api" };
    const RS = { kind: "ReplicaSet", name: "api-6c8d5f", uid: "rs-api" };
    const P = { name: "api-6c8d5f-q7w2e", uid: "pod-api" };
    const crashing = (n: number) =>
      pod({ name: P.name, uid: P.uid, rv: String(200 + n), owner: RS, restartCount: n, waiting: { reason: "CrashLoopBackOff", message: "back-off" }, last: { exitCode: 3, reason: "Error", finishedAt: ts(10 * n) } });
    await send(change(workload("Deployment", "api", DEP.uid), "ADDED"));
    await send(change(workload("ReplicaSet", RS.name, RS.uid, DEP), "ADDED"));
    await send(change(pod({ name: P.name, uid: P.uid, rv: "200", owner: RS, running: ts(1) }), "ADDED"));
    await send(event("Started", { kind: "Pod", ...P }, ts(1), { type: "Normal", message: "Started container app" }));
    // (an Event about an object not known yet is retried shortly, so wait for it to be in the story)
    await until(async () => (await readStream("FARO_STORY", decodeStoryEntry)).some((e) => e.msg.entryKind === "event" && e.msg.workload.name === "api"), 15_000, "the Started event in the story");
    // the status change before the crash's last line: the settle waits for the final batch
    await send(change(crashing(1)));
    await send(logs(P.name, P.uid, 0, 0, [[`${ts(9).slice(0, -1)}.123456789Z`, "connecting"], [`${ts(9).slice(0, -1)}.9Z`, "fatal: config missing"]], RS, true));
    await send(event("BackOff", { kind: "Pod", ...P }, ts(11), { message: "Back-off restarting failed container app" }));
    for (let n = 2; n <= 4; n++) await send(change(crashing(n)));
    // something the correlator can never decode
    const junkSubject = buildCleanSubject(TENANT, CLUSTER, NS, { category: "obj", resource: "pods", group: "", name: "junk" });
    const junk = await bus.js.publish(junkSubject, new Uint8Array([0xff, 0xff, 0xff]), { msgID: "junk-1" });

    let incidents: { subject: string; msg: IncidentContext }[] = [];
    await until(async () => (incidents = await readStream("FARO_INCIDENT", decodeIncidentContext)).length >= 1, 15_000, "an incident");
    await until(async () => ((await bus.jsm.streams.info("FARO_DLQ")).state.messages >= 1), 15_000, "a dead letter");
    // the documented envelope on the correlator's decode stage, id dl:<service>:<stage>:<seq>, no payload by default
    const dl = await bus.jsm.streams.getMessage("FARO_DLQ", { seq: (await bus.jsm.streams.info("FARO_DLQ")).state.last_seq });
    expect(dl?.subject).toBe("faro.v1.dlq.correlator.decode");
    expect(dl?.header.get("Nats-Msg-Id")).toBe(`dl:correlator:decode:${junk.seq}`);
    expect(decodeDeadLetter(dl!.data)).toMatchObject({ service: "correlator", stage: "decode", originalSubject: junkSubject, streamSeq: junk.seq, payloadWithheld: true });
    const metrics = await correlators[0]!.handle.metrics.registry.metrics();
    expect(metrics).toMatch(/faro_dead_letters_total\{[^}]*reason="decode"[^}]*\} 1/);
    // the remaining crashes were handled (story entries for restart 4 exist) and added no incident
    await until(async () => (await readStream("FARO_STORY", decodeStoryEntry)).some((e) => e.msg.summary.includes("restart 4")), 15_000, "restart 4 in the story");
    incidents = await readStream("FARO_INCIDENT", decodeIncidentContext);
    expect(incidents).toHaveLength(1);
    const [{ subject, msg: inc }] = incidents as [{ subject: string; msg: IncidentContext }];
    expect(subject).toBe(`faro.v1.incident.${TENANT}.${CLUSTER}.${NS}.CrashLoopBackOff`);
    expect(inc).toMatchObject({ reason: "CrashLoopBackOff", container: "app", exitCode: 3, restartCount: 1, k8sTimestamp: ts(10), repeatCount: 1 });
    expect(inc.logTail.at(-1)?.line).toBe("fatal: config missing");
    expect(inc.events.map((e) => e.reason)).toContain("Started");
    expect(inc.ownerChain.map((o) => o.kind)).toEqual(["Pod", "ReplicaSet", "Deployment"]);
    expect(inc.manifests.map((m) => m.kind)).toEqual(["Pod", "ReplicaSet", "Deployment"]);

    const stories = await readStream("FARO_STORY", decodeStoryEntry);
    const api = stories.filter((s) => s.msg.workload.name === "api");
    expect(new Set(api.map((s) => s.msg.storyId)).size).toBe(1);
    expect(api.every((s) => s.subject === `faro.v1.story.${TENANT}.${CLUSTER}.${NS}.${api[0]!.msg.storyId}`)).toBe(true);
    expect(api.filter((s) => s.msg.entryKind === "incident")).toHaveLength(1);
    expect(api.filter((s) => s.msg.entryKind === "open")).toHaveLength(1);
  });

  it("two replicas share the durable and produce each entry once", async () => {
    await startCorrelator();
    const before = (await readStream("FARO_STORY", decodeStoryEntry)).length;
    const owner = { kind: "ReplicaSet", name: "batch-5d4c3b", uid: "rs-batch" };
    await send(change(workload("ReplicaSet", owner.name, owner.uid), "ADDED"));
    for (let i = 0; i < 20; i++) await send(logs("batch-5d4c3b-aaaaa", "pod-batch", 0, i, [[ts(100 + i), `line ${i}`]], owner));
    let entries: { subject: string; msg: StoryEntry }[] = [];
    await until(async () => (entries = (await readStream("FARO_STORY", decodeStoryEntry)).slice(before)).filter((e) => e.msg.entryKind === "log").length >= 20, 15_000, "20 log entries");
    const logLines = entries.filter((e) => e.msg.entryKind === "log").map((e) => e.msg.log!.lines[0]!.line);
    expect(new Set(logLines).size).toBe(20);
    expect(logLines).toHaveLength(20);
    expect(entries.filter((e) => e.msg.entryKind === "open")).toHaveLength(1);
  });

  it("stop() is idempotent, ends readiness, and the kernel releases NATS and Redis", async () => {
    const c = await startCorrelator();
    expect((await c.handle.lifecycle.readiness()).ready).toBe(true);
    expect(c.instance.readiness()).toBe(true);
    const [x, y] = [c.stop(), c.stop()];
    expect(x).toBe(y);
    expect((await x).code).toBe(0);
    expect(c.instance.readiness()).toMatchObject({ ok: false });
    expect(c.bus.nc.isClosed()).toBe(true);
  });
});
