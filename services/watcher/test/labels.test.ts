// Events carry their involved object's labels (KubeEvent.involvedLabels) once the watcher has published the
// object: against the simulator, real NATS and Redis — a Deployment's pod, an Event that comes first, a
// deleted pod, and an unchanged pod after a restart (its labels come back from the Redis state).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { KubeEvent } from "@faro/contracts";
import type { RunningService } from "@faro/kernel";
import type { Watcher } from "../src/index.js";
import { deployment, eventsOf, objectsOf, readRaw, startEnv, startWatcher, until, watcherReady, type Env } from "./helpers.js";

let env: Env;
let watcher: RunningService<Watcher> | undefined;

const typeOf = (group: string, resource: string) => env.cluster.store.typeFor(group, resource)!;

interface Involved {
  kind: string;
  name: string;
  uid: string;
}

/** Starts a watcher and waits until every watch has delivered its initial list. */
async function newWatcher(): Promise<RunningService<Watcher>> {
  const w = await startWatcher(env);
  watcher = w;
  await until(() => watcherReady(w), "watcher ready");
  return w;
}

/** Records an Event about `obj` in the cluster, as a controller would. */
function recordEvent(obj: Involved, reason: string): string {
  const ev = env.cluster.store.create(typeOf("", "events"), {
    apiVersion: "v1",
    kind: "Event",
    metadata: { name: `${obj.name}.${reason.toLowerCase()}`, namespace: "default" },
    involvedObject: { apiVersion: "v1", kind: obj.kind, namespace: "default", name: obj.name, uid: obj.uid },
    reason,
    message: `${reason} for ${obj.name}`,
    type: "Normal",
    source: { component: "labels-test" },
    count: 1,
    firstTimestamp: env.cluster.clock.isoNow(),
    lastTimestamp: env.cluster.clock.isoNow(),
  });
  return ev.metadata.uid;
}

async function published(eventUid: string): Promise<KubeEvent> {
  return await until(async () => eventsOf(await readRaw(env.nc)).find((e) => e.uid === eventUid), `Event ${eventUid} on the stream`);
}

async function objectPublished(uid: string, type = "ADDED"): Promise<void> {
  await until(async () => objectsOf(await readRaw(env.nc)).some((o) => o.uid === uid && o.type === type), `${type} of ${uid} on the stream`);
}

/** A pod nobody schedules (a scheduler that does not exist): it never changes once created. */
function waitingPod(name: string, labels: Record<string, string>) {
  return env.cluster.store.create(typeOf("", "pods"), {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name, namespace: "default", labels },
    spec: { schedulerName: "nobody", containers: [{ name: "app", image: "sim/app:1.0" }] },
  });
}

const asInvolved = (o: { kind: string; metadata: { name: string; uid: string } }): Involved => ({ kind: o.kind, name: o.metadata.name, uid: o.metadata.uid });

beforeAll(async () => {
  env = await startEnv({ speed: 50 });
  await newWatcher();
});

afterAll(async () => {
  await watcher?.stop();
  await env?.stop();
});

describe("involvedLabels on Events", () => {
  it("publishes an Event about a Deployment's pod with the pod's labels", async () => {
    env.cluster.store.create(typeOf("apps", "deployments"), deployment("web", "default", 2));
    const pod = await until(() => env.cluster.store.list(typeOf("", "pods"), "default").find((p) => p.metadata.labels?.["app"] === "web"), "a web pod");
    await objectPublished(pod.metadata.uid);
    const ev = await published(recordEvent(asInvolved(pod), "Probed"));
    expect(ev.involved.uid).toBe(pod.metadata.uid);
    expect(ev.involvedLabels).toEqual(pod.metadata.labels);
    expect(ev.involvedLabels?.["app"]).toBe("web");
  });

  it("publishes an Event about an object it has not seen without labels, and does not hold it back", async () => {
    const ev = await published(recordEvent({ kind: "Pod", name: "ghost", uid: "00000000-0000-0000-0000-00000000beef" }, "Ghostly"));
    expect(ev.involved.name).toBe("ghost");
    expect(ev.involvedLabels).toBeUndefined();
  });

  it("forgets a pod's labels when the pod is deleted", async () => {
    const pod = waitingPod("short-lived", { team: "a" });
    await objectPublished(pod.metadata.uid);
    const before = await published(recordEvent(asInvolved(pod), "Before"));
    expect(before.involvedLabels).toEqual({ team: "a" });
    env.cluster.store.delete(typeOf("", "pods"), "default", "short-lived", { gracePeriodSeconds: 0 });
    await objectPublished(pod.metadata.uid, "DELETED");
    const after = await published(recordEvent(asInvolved(pod), "After"));
    expect(after.involvedLabels).toBeUndefined();
  });

  it("reports the label memory's size as a bounded queue", async () => {
    const text = await until(async () => {
      const t = await watcher!.handle.metrics.registry.metrics();
      return /faro_queue_depth\{queue="label_memory",service="watcher"\} [1-9]/.test(t) ? t : undefined;
    }, "the label_memory gauge");
    expect(text).toMatch(/faro_queue_capacity\{queue="label_memory",service="watcher"\} 100000/);
  });

  it("still knows an unchanged pod's labels after a restart, from the Redis state", async () => {
    const pod = waitingPod("steady", { team: "b", "app.kubernetes.io/name": "steady" });
    await objectPublished(pod.metadata.uid);
    expect((await watcher!.stop()).code).toBe(0); // writes the acked state to Redis
    watcher = undefined;
    await newWatcher();
    const ev = await published(recordEvent(asInvolved(pod), "AfterRestart"));
    expect(ev.involvedLabels).toEqual({ team: "b", "app.kubernetes.io/name": "steady" });
    // The restarted watch did not see the pod again (nothing changed): the labels came from Redis.
    expect(objectsOf(await readRaw(env.nc)).filter((o) => o.uid === pod.metadata.uid)).toHaveLength(1);
  });
});
