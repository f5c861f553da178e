// Detection on the simulator's real pod shapes: its store's changes and Events go straight into the processor
// (no watcher or filter), owners and previous logs are read from its API through @faro/kube.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Redis } from "ioredis";
import type { KubeEvent, ResourceChange } from "@faro/contracts";
import { getObject, getPreviousLogs, loadKubeConfig } from "@faro/kube";
import { startCluster, type Cluster, type StoreEvent } from "@faro/kube-sim";
import { createRedactor } from "@faro/redact";
import { startRedis, type ManagedServer } from "@faro/test-harness";
import type { ObjectJson } from "../src/k8s.js";
import { Processor } from "../src/processor.js";
import { DEFAULT_SETTINGS } from "../src/settings.js";
import { CorrelatorState } from "../src/state.js";
import { RecordingSink, until } from "./helpers.js";

let cluster: Cluster;
let redis: ManagedServer;
let client: Redis;
let sink: RecordingSink;
let processor: Processor;
let chain: Promise<void> = Promise.resolve();
let failures = 0;
let unsubscribe: () => void = () => undefined;

function toInput(ev: StoreEvent): { kind: "change"; x: ResourceChange } | { kind: "event"; x: KubeEvent } {
  const o = ev.object as unknown as Record<string, any>;
  if (ev.resource.resource === "events" && ev.resource.group === "") {
    const inv = o["involvedObject"] ?? {};
    return {
      kind: "event",
      x: {
        schemaVersion: 1, cluster: "sim", type: ev.type, uid: o.metadata.uid, resourceVersion: o.metadata.resourceVersion, namespace: o.metadata.namespace ?? "", name: o.metadata.name,
        reason: o["reason"] ?? "", message: o["message"] ?? "", eventType: o["type"] ?? "", sourceComponent: o["source"]?.component ?? "", sourceHost: o["source"]?.host ?? "", reportingController: o["reportingComponent"] ?? "",
        involved: { apiVersion: inv.apiVersion ?? "", kind: inv.kind ?? "", namespace: inv.namespace ?? "", name: inv.name ?? "", uid: inv.uid ?? "", fieldPath: inv.fieldPath ?? "" },
        count: o["count"] ?? 1, firstTimestamp: o["firstTimestamp"] ?? "", lastTimestamp: o["lastTimestamp"] ?? "", eventTime: o["eventTime"] ?? "", observedAtMs: Date.now(), objectJson: JSON.stringify(o),
      },
    };
  }
  return {
    kind: "change",
    x: {
      schemaVersion: 1, cluster: "sim", type: ev.type, group: ev.resource.group, version: ev.resource.version, resource: ev.resource.resource, kind: o.kind ?? ev.resource.kind,
      namespace: o.metadata.namespace ?? "", name: o.metadata.name, uid: o.metadata.uid, resourceVersion: o.metadata.resourceVersion, observedAtMs: Date.now(),
      ownerRefs: (o.metadata.ownerReferences ?? []).map((r: any) => ({ ...r, controller: Boolean(r.controller) })), labels: o.metadata.labels ?? {}, objectJson: JSON.stringify(o),
    },
  };
}

beforeAll(async () => {
  [cluster, redis] = await Promise.all([startCluster({ speed: 50 }), startRedis()]);
  client = new Redis(redis.url, { maxRetriesPerRequest: 2 });
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "faro-correlator-sim-")), "kubeconfig");
  cluster.writeKubeconfig(file);
  const kc = loadKubeConfig({ kubeconfig: file });
  sink = new RecordingSink();
  processor = new Processor({
    state: new CorrelatorState(client, "sim:"),
    sink,
    settings: { ...DEFAULT_SETTINGS, settleMs: 0 },
    redactor: createRedactor(),
    fetchOwner: async (ref) => (await getObject(kc, ref.apiVersion, ref.kind, ref.namespace || undefined, ref.name)) as ObjectJson | undefined,
    fetchPreviousLogs: async (namespace, pod, container) => (await getPreviousLogs(kc, { namespace, pod, container })).map((l) => ({ timestamp: l.timestamp ?? "", text: l.text })),
  });
  // Events are handed over in the store's order, one at a time, like one subject per object would be.
  unsubscribe = cluster.store.subscribe((ev) => {
    const input = toInput(ev);
    chain = chain
      .then(() => (input.kind === "event" ? processor.handleEvent("t", input.x) : processor.handleChange("t", input.x)))
      .catch((err: unknown) => {
        failures++;
        console.error("processing failed", err);
      });
  });
});

afterAll(async () => {
  unsubscribe();
  await chain;
  client?.disconnect();
  await Promise.all([cluster?.stop(), redis?.stop()]);
});

const incidentsOf = (workload: string) =>
  [...sink.incidents.values()].map((i) => i.incident).filter((i) => i.ownerChain.at(-1)?.name === workload);

describe("simulator scenarios", () => {
  it("crashloop: one CrashLoopBackOff incident, counted repeats, owner chain via the API, previous log via the API", async () => {
    const run = cluster.runScenario("crashloop");
    // three crashes (back-off 10s, 20s, 40s at 50×: a few wall seconds)
    await until(() => [...sink.entries.values()].some((e) => e.entry.summary.includes("restarted (restart 3")), 30_000, "three restarts");
    run.stop();
    await chain;
    const incidents = incidentsOf("crasher");
    expect(incidents.map((i) => i.reason)).toEqual(["CrashLoopBackOff"]);
    const inc = incidents[0]!;
    expect(inc).toMatchObject({ container: "app", exitCode: 1, repeatCount: 1 });
    expect(inc.ownerChain.map((l) => l.kind)).toEqual(["Pod", "ReplicaSet", "Deployment"]);
    expect(inc.events.map((e) => e.reason)).toEqual(expect.arrayContaining(["Scheduled"]));
    // no log buffer here (no log-streamer): the crashed container's log came from the API, ending with its last words
    expect(inc.previousLogSource).toBe("api");
    expect(inc.previousLog.at(-1)?.line).toBe("fatal: cannot connect to database");
    expect(inc.logTail.at(-1)?.line).toBe("fatal: cannot connect to database");
    const stories = new Set([...sink.entries.values()].filter((e) => e.entry.workload.name === "crasher").map((e) => e.entry.storyId));
    expect(stories.size).toBe(1);
    expect(failures).toBe(0);
  });

  it("oomkill and imagepull: one incident each with the right reason", async () => {
    const oom = cluster.runScenario("oomkill");
    const pull = cluster.runScenario("imagepull");
    await until(() => incidentsOf("hungry").length > 0 && incidentsOf("broken").length > 0, 30_000, "both incidents");
    // let more OOM kills and pull retries happen: they are repeats, not new incidents
    await until(() => [...sink.entries.values()].some((e) => e.entry.workload.name === "hungry" && e.entry.summary.includes("restarted (restart 2")), 30_000, "a second OOM kill");
    oom.stop();
    pull.stop();
    await chain;
    expect(incidentsOf("hungry").map((i) => [i.reason, i.exitCode])).toEqual([["OOMKilled", 137]]);
    expect(incidentsOf("broken").map((i) => i.reason)).toEqual(["ImagePullBackOff"]);
    expect(failures).toBe(0);
  });
});
