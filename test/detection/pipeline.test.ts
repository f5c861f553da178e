// The detection matrix through the whole pipeline: watcher, log-streamer, filter and correlator as separate
// processes (`faro run <service>`) against the simulated cluster running the `detection` scenario; the
// incidents are read from FARO_INCIDENT on the bus. Each kind arrives once with its evidence, the healthy
// controls raise nothing.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { jetstreamManager } from "@nats-io/jetstream";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { pipelineConsumers } from "@faro/cli";
import { decodeIncidentContext, FARO_INCIDENT, type IncidentContext } from "@faro/contracts";
import { startCluster, type Cluster } from "@faro/kube-sim";
import { startNats, startRedis, type ManagedServer } from "@faro/test-harness";
import { faro, until, type Child } from "../e2e/helpers.js";

const SERVICES = ["watcher", "log-streamer", "filter", "correlator"] as const;
const CLUSTER = `det-${randomBytes(3).toString("hex")}`;

let nats: ManagedServer;
let redis: ManagedServer;
let cluster: Cluster;
let nc: NatsConnection;
let dir: string;
const children: Child[] = [];

beforeAll(async () => {
  [nats, redis] = await Promise.all([startNats(), startRedis()]);
  // ×10: the whole scenario (last step at 55 s) in a few wall seconds, with the services keeping up.
  cluster = await startCluster({ speed: 10 });
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "faro-detection-"));
  const kubeconfig = path.join(dir, "kubeconfig");
  cluster.writeKubeconfig(kubeconfig);
  nc = await connect({ servers: nats.url });
  const env = {
    FARO_NATS_URL: nats.url,
    FARO_REDIS_URL: redis.url,
    FARO_CLUSTER: CLUSTER,
    FARO_KUBE_KUBECONFIG: kubeconfig,
    FARO_HTTP_PORT: "0",
    FARO_LOG_LEVEL: "warn",
    FARO_LOG_PRETTY: "false",
  };
  for (const s of SERVICES) children.push(faro(["run", s], env));
  const jsm = await jetstreamManager(nc);
  const want = pipelineConsumers(CLUSTER).filter((c) => (SERVICES as readonly string[]).includes(c.service ?? ""));
  await until(
    "the services' durables",
    async () => {
      for (const c of children) if (c.proc.exitCode !== null) throw new Error(`a service exited early:\n${c.output()}`);
      const names: string[] = [];
      for (const stream of ["FARO_RAW", "FARO_CLEAN"]) {
        try {
          for await (const ci of jsm.consumers.list(stream)) if (ci) names.push(ci.name);
        } catch (err) {
          if (!/not found/i.test((err as Error).message)) throw err;
        }
      }
      return want.every((c) => names.includes(c.durable));
    },
    90_000,
    200,
  );
}, 120_000);

afterAll(async () => {
  for (const c of children) c.proc.kill("SIGTERM");
  const codes = await Promise.all(children.map((c) => c.exited));
  await nc?.close();
  await cluster?.stop();
  await Promise.all([nats?.stop(), redis?.stop()]);
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
  expect(codes).toEqual(SERVICES.map(() => 0));
}, 60_000);

/** Every incident on the bus so far (the stream is small: a direct read of each message). */
async function incidents(): Promise<IncidentContext[]> {
  const jsm = await jetstreamManager(nc);
  let last = 0;
  try {
    last = (await jsm.streams.info(FARO_INCIDENT.name)).state.last_seq;
  } catch (err) {
    if (/not found/i.test((err as Error).message)) return [];
    throw err;
  }
  const out: IncidentContext[] = [];
  for (let seq = 1; seq <= last; seq++) {
    const m = await jsm.streams.getMessage(FARO_INCIDENT.name, { seq }).catch(() => undefined);
    if (m) out.push(decodeIncidentContext(m.data));
  }
  return out;
}

const MATRIX: [reason: string, root: string][] = [
  ["ErrImageNeverPull", "neverpull"],
  ["PreStartHookError", "hooked"],
  ["ImageInspectError", "inspect"],
  ["FailedMount", "mounter"],
  ["FailedCreatePodSandBox", "sandboxed"],
  ["LivenessProbeFailed", "alive"],
  ["ReadinessProbeFailed", "ready"],
  ["CrashLoopBackOff", "initcrash"],
  ["ProvisioningFailed", "data"],
  ["BackoffLimitExceeded", "nightly"],
  ["HPAMaxReplicas", "busy"],
  ["NodeMemoryPressure", "sim-node-3"],
  ["NodeNotReady", "sim-node-3"],
];

describe("detection matrix through the whole pipeline", () => {
  it("each kind reaches the bus once with its evidence; the healthy controls raise nothing", { timeout: 150_000 }, async () => {
    const run = cluster.runScenario("detection");
    const root = (i: IncidentContext) => i.ownerChain.at(-1)?.name ?? "";
    let all: IncidentContext[] = [];
    await until(
      "every kind of the matrix on FARO_INCIDENT",
      async () => {
        for (const c of children) if (c.proc.exitCode !== null) throw new Error(`a service exited:\n${c.output()}`);
        all = await incidents();
        return MATRIX.every(([reason, name]) => all.some((i) => !i.isUpdate && i.reason === reason && root(i) === name));
      },
      120_000,
      500,
    ).catch((err: unknown) => {
      const got = all.map((i) => `${i.reason}@${root(i)}`).join(", ");
      throw new Error(`${(err as Error).message}; got: ${got}`);
    });
    await run.done;
    run.stop();
    all = await incidents();
    for (const [reason, name] of MATRIX) {
      const firsts = all.filter((i) => !i.isUpdate && i.reason === reason && root(i) === name);
      expect(firsts.length, `${reason} in ${name}`).toBe(1);
      expect(firsts[0]!.evidence?.length, `${reason} evidence`).toBeGreaterThan(0);
    }
    expect(all.find((i) => i.reason === "NodeNotReady")!.affectedPods?.length).toBeGreaterThan(0);
    for (const h of ["steady", "doomed", "once", "logs", "calm"]) expect(all.filter((i) => root(i) === h).map((i) => i.reason), h).toEqual([]);
    const problems = children.flatMap((c) => c.output().split("\n").filter((l) => /"level":(50|60)/.test(l)));
    expect(problems).toEqual([]);
  });
});
