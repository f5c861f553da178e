// Two correlator processes (`faro run correlator`) sharing the durable, one killed -9 mid-run, publish the same
// story entries and incidents (by message id) as a single process fed the same clean messages.
import { afterAll, describe, expect, it } from "vitest";
import { connectBus, Publisher } from "@faro/bus";
import { buildCleanSubject, encodeKubeEvent, encodeLogBatch, encodeResourceChange, eventId, logBatchId, resourceChangeId, type KubeEvent, type LogBatch, type ResourceChange } from "@faro/contracts";
import { scopedDurable } from "@faro/kernel";
import { startNats, startRedis } from "@faro/test-harness";
import { pod } from "../src/fixtures.test-util.js";
import { change, CLUSTER, event, killCorrelators, logs, spawnCorrelator, TENANT, until, workload, type CorrelatorProcess } from "./helpers.js";
const ts = (sec: number) => new Date(Date.UTC(2026, 0, 1, 0, 0, sec)).toISOString().replace(".000Z", "Z");

type Input = ResourceChange | KubeEvent | LogBatch;

/** Three deployments with logs and events, and the crash loop of alpha. */
function inputs(): { burst: Input[]; crashes: Input[] } {
  const burst: Input[] = [];
  const crashes: Input[] = [];
  for (const app of ["alpha", "beta", "gamma"]) {
    const DEP = { kind: "Deployment", name: app, uid: `dep-${app}` };
    const RS = { kind: "ReplicaSet", name: `${app}-6b7c8d`, uid: `rs-${app}` };
    const P = { name: `${app}-6b7c8d-k2m4n`, uid: `pod-${app}` };
    burst.push(change(workload("Deployment", app, DEP.uid), "ADDED"), change(workload("ReplicaSet", RS.name, RS.uid, DEP), "ADDED"));
    burst.push(change(pod({ name: P.name, uid: P.uid, rv: String(burst.length + 100), owner: RS, running: ts(1) }), "ADDED"));
    for (let b = 0; b < 30; b++) burst.push(logs(P.name, P.uid, 0, b * 10, Array.from({ length: 10 }, (_, i) => [ts(2 + b), `${app} line ${b * 10 + i}`] as [string, string]), RS, app === "alpha" && b === 29));
    burst.push(event("Started", { kind: "Pod", ...P }, ts(1), { type: "Normal" }));
    if (app === "alpha") {
      for (let n = 1; n <= 5; n++) {
        crashes.push(change(pod({ name: P.name, uid: P.uid, rv: String(1000 + n), owner: RS, restartCount: n, waiting: { reason: "CrashLoopBackOff" }, last: { exitCode: 1, reason: "Error", finishedAt: ts(40 + n * 10) } })));
        crashes.push(event("BackOff", { kind: "Pod", ...P }, ts(41 + n * 10), { uid: "ev-backoff-alpha", count: n }));
      }
    }
  }
  return { burst, crashes };
}

async function run(all: { burst: Input[]; crashes: Input[] }, replicas: number, killOneMidway: boolean): Promise<{ story: string[]; incidents: string[] }> {
  const [nats, redis] = await Promise.all([startNats(), startRedis()]);
  const procs: CorrelatorProcess[] = [];
  const bus = await connectBus({ servers: nats.url, name: "replicas-test" });
  const pub = new Publisher({ js: bus.js, name: "test" });
  try {
    for (let i = 0; i < replicas; i++) {
      procs.push(
        spawnCorrelator(
          {
            FARO_NATS_URL: nats.url,
            FARO_REDIS_URL: redis.url,
            FARO_CLUSTER: CLUSTER,
            FARO_API_ENABLED: "false",
            FARO_HTTP_PORT: "0",
            FARO_LOG_LEVEL: "error",
            FARO_CONSUMER_ACK_WAIT: "2s",
            FARO_INCIDENT_SETTLE: "100ms",
            FARO_CONSUMER_CONCURRENCY: "8",
            // An Event whose object's change the killed replica had pulled waits for its redelivery (after
            // ack_wait, 2 s) only while it is retried: 10 deliveries, nak'ed 250 ms × n, cover 11 s. With fewer
            // (default 4: 1.5 s) it is told under the object's own story, unlike with one replica (README, known limits).
            FARO_DETECT_UNKNOWN_OBJECT_RETRIES: "10",
          },
          { output: false },
        ),
      );
    }
    await until(async () => {
      try {
        const info = await bus.jsm.consumers.info("FARO_CLEAN", scopedDurable(CLUSTER, "correlator"));
        return info.num_waiting >= replicas;
      } catch {
        return false; // the durable does not exist until the first replica has started
      }
    }, 30_000, "every replica pulling");
    const send = async (x: Input): Promise<void> => {
      let subject: string;
      let data: Uint8Array;
      let msgId: string;
      if ("objectJson" in x && "ownerRefs" in x) {
        subject = buildCleanSubject(TENANT, CLUSTER, x.namespace, { category: "obj", resource: x.resource, group: x.group, name: x.name });
        [data, msgId] = [encodeResourceChange(x), resourceChangeId(x.uid, x.resourceVersion, x.type)];
      } else if ("involved" in x) {
        subject = buildCleanSubject(TENANT, CLUSTER, x.namespace, { category: "event", kind: x.involved.kind, name: x.involved.name });
        [data, msgId] = [encodeKubeEvent(x), eventId(x.uid, x.resourceVersion, x.type)];
      } else {
        subject = buildCleanSubject(TENANT, CLUSTER, x.namespace, { category: "log", pod: x.pod, container: x.container });
        [data, msgId] = [encodeLogBatch(x), logBatchId(x.podUid, x.container, x.restartCount, x.seqStart, x.source)];
      }
      await pub.publish(subject, data, { msgId });
    };
    // Everything in one burst; one replica dies right after the third crash was published, with messages
    // in flight and pulled but not started: later versions of the pod must wait for their redelivery.
    // (kill() ends the service process itself, not only the tsx wrapper in front of it.)
    let killed: Promise<void> | undefined;
    for (const x of all.burst) await send(x);
    for (const [i, x] of all.crashes.entries()) {
      await send(x);
      if (i === 4 && killOneMidway) killed = procs[0]!.kill();
    }
    await killed;
    // Done when every input is acknowledged (a killed replica's are redelivered after ack_wait).
    await until(async () => {
      const info = await bus.jsm.consumers.info("FARO_CLEAN", scopedDurable(CLUSTER, "correlator"));
      return info.num_pending === 0 && info.num_ack_pending === 0 && info.delivered.stream_seq >= all.burst.length + all.crashes.length;
    }, 45_000, "all inputs acknowledged");
    const ids = async (stream: string): Promise<string[]> => {
      const info = await bus.jsm.streams.info(stream);
      const out: string[] = [];
      for (let seq = info.state.first_seq; info.state.messages > 0 && seq <= info.state.last_seq; seq++) {
        const m = await bus.jsm.streams.getMessage(stream, { seq });
        out.push(m?.header.get("Nats-Msg-Id") ?? `?${seq}`);
      }
      return out.sort();
    };
    return { story: await ids("FARO_STORY"), incidents: await ids("FARO_INCIDENT") };
  } finally {
    for (const p of procs) p.terminate();
    await Promise.all(procs.map((p) => p.exited));
    await pub.close();
    await bus.close();
    await Promise.all([nats.stop(), redis.stop()]);
  }
}

describe("replicas", () => {
  // A failed or timed-out run may not reach its finally: no correlator outlives the file.
  afterAll(killCorrelators);

  it("two replicas, one killed -9 midway, store exactly what one replica stores", async () => {
    const all = inputs();
    const one = await run(all, 1, false);
    const two = await run(all, 2, true);
    expect(one.incidents).toHaveLength(1);
    expect(one.story.length).toBeGreaterThan(100);
    expect(new Set(two.story).size).toBe(two.story.length);
    expect(two.story).toEqual(one.story);
    expect(two.incidents).toEqual(one.incidents);
  }, 120_000);
});
