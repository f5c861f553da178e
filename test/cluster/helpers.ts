// One pipeline run (watcher → log-streamer → filter → correlator → writer, in-process through a session) over
// the crashloop scenario with a fault injected mid-stream, compared with the simulator's ground truth. Shared by
// the clustered-bus tests (a NATS node killed, the Redis primary killed).
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { jetstreamManager, type JetStreamManager } from "@nats-io/jetstream";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { pipelineConsumers, readStoryFiles, startSession, waitDrained, type ReadStory, type Session } from "@faro/cli";
import { FARO_RAW, incidentFilter } from "@faro/contracts";
import { startCluster, type Cluster } from "@faro/kube-sim";
import { until } from "../e2e/helpers.js";
import { compareWithTruth } from "../e2e/truth.js";

export const SPEED = 20;
const WORKLOAD = "crasher";
const REASON = "CrashLoopBackOff";

export interface FaultRun {
  session: Session;
  cluster: Cluster;
  jsm: JetStreamManager;
  nc: NatsConnection;
}

export interface RunResult {
  stories: ReadStory[];
  /** Differences from the ground truth; empty when every pod, Event and line is there once. */
  problems: string[];
  /** Log messages FARO_RAW held when the fault was injected (it came mid-stream: > 0). */
  rawBeforeFault: number;
  finishCode: 0 | 1;
}

export interface RunOptions {
  /** FARO_* environment of every service (nats.url, redis.*, nats.replicas). */
  env: Record<string, string>;
  /** NATS servers for the test's own connection. */
  natsServers: string[];
  /** Injected once FARO_RAW holds `faultAfter` messages of the run. */
  fault(run: FaultRun): Promise<void>;
  /** After the scenario's incident arrived (e.g. restart what the fault killed). */
  recover?(run: FaultRun): Promise<void>;
  faultAfter?: number;
}

/** One line per pipeline durable (pending, ack pending, delivered, leader), for failure messages. */
async function consumerStates(jsm: JetStreamManager, cluster: string): Promise<string> {
  const lines: string[] = [];
  for (const c of pipelineConsumers(cluster)) {
    try {
      const ci = await jsm.consumers.info(c.stream, c.durable);
      lines.push(`${c.stream}/${c.durable}: pending ${ci.num_pending}, ack pending ${ci.num_ack_pending}, delivered ${ci.delivered.stream_seq}, acked ${ci.ack_floor.stream_seq}, waiting pulls ${ci.num_waiting}, leader ${ci.cluster?.leader ?? "?"}`);
    } catch (err) {
      lines.push(`${c.stream}/${c.durable}: ${(err as Error).message}`);
    }
  }
  return lines.join("\n");
}

/** Runs the crashloop scenario through a whole pipeline with a fault mid-stream; stops everything it started. */
export async function runWithFault(o: RunOptions): Promise<RunResult> {
  const cluster = await startCluster({ speed: SPEED });
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "faro-cluster-"));
  let nc: NatsConnection | undefined;
  let session: Session | undefined;
  let finished = false;
  try {
    const kubeconfig = path.join(dir, "kubeconfig");
    cluster.writeKubeconfig(kubeconfig);
    nc = await connect({ servers: o.natsServers, reconnectTimeWait: 250, maxReconnectAttempts: -1 });
    const jsm = await jetstreamManager(nc);
    session = await startSession({ tokenPrefix: "clustered", kubeconfig, dir: path.join(dir, "stories"), logLevel: "warn", env: o.env, namespaces: ["default"] });
    const run: FaultRun = { session, cluster, jsm, nc };

    const sub = nc.subscribe(incidentFilter({ cluster: session.cluster, namespace: "default", reason: REASON }), { max: 1 });
    const incident = (async () => {
      for await (const m of sub) return m.subject;
      return undefined;
    })();
    await nc.flush();
    const scenario = cluster.runScenario("crashloop");
    const faultAfter = o.faultAfter ?? 20;
    const rawBeforeFault = await until(`${faultAfter} messages on ${FARO_RAW.name}`, async () => {
      const n = (await jsm.streams.info(FARO_RAW.name)).state.messages;
      return n >= faultAfter ? n : undefined;
    }, 30_000, 50);
    await o.fault(run);
    await scenario.done;
    // Let the crash loop go on a while in simulated time after the fault (more lines, restarts, Events).
    const t0 = cluster.clock.now();
    await until("20 simulated seconds", () => cluster.clock.now() - t0 >= 20_000, 20_000, 50);
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<undefined>((resolve) => (timer = setTimeout(resolve, 30_000, undefined)));
    const got = await Promise.race([incident, late]);
    clearTimeout(timer);
    if (got === undefined) throw new Error(`no ${REASON} incident within 30 s of the scenario's end; consumers:\n${await consumerStates(jsm, session.cluster)}`);
    scenario.stop();
    await o.recover?.(run);

    // Deleting the deployment ends every container: the logs are finite and the truth is complete.
    const res = await fetch(`${cluster.url}/apis/apps/v1/namespaces/default/deployments/${WORKLOAD}`, {
      method: "DELETE",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ kind: "DeleteOptions", apiVersion: "v1", propagationPolicy: "Background" }),
    });
    if (res.status >= 300) throw new Error(`deleting ${WORKLOAD}: HTTP ${res.status}`);
    type PodList = { items: { status?: { phase?: string } }[] };
    await until(
      "every pod gone or terminal",
      async () => ((await (await fetch(`${cluster.url}/api/v1/namespaces/default/pods`)).json()) as PodList).items.every((p) => p.status?.phase === "Failed" || p.status?.phase === "Succeeded"),
      30_000,
    );
    // finish() stops the log-streamer first: let it read every instance to its end before (after a fault its
    // publishes may still be retrying). Idle = nothing followed and nothing queued, twice in a row 500 ms apart.
    const ls = session.pipeline.get("log-streamer")?.handle.metrics.registry;
    const gauge = async (name: string) => (await ls?.getSingleMetric(name)?.get())?.values.reduce((a, v) => a + v.value, 0) ?? 0;
    const idle = async () => (await gauge("faro_log_streamer_streams_active")) === 0 && (await gauge("faro_log_streamer_streams_queued")) === 0;
    await until("the log-streamer following no stream", async () => (await idle()) && (await new Promise((r) => setTimeout(r, 500))) === undefined && (await idle()), 30_000, 200);
    // Drained first here (finish() drains too) so that a stuck durable is named with its state.
    await waitDrained(jsm, { consumers: pipelineConsumers(session.cluster).filter((c) => c.service !== "log-streamer"), quietMs: 1000, timeoutMs: 30_000 }).catch(async (err: unknown) => {
      throw new Error(`${(err as Error).message}; consumers:\n${await consumerStates(jsm, session!.cluster)}`);
    });
    const finishCode = await session.finish({ drainTimeoutMs: 30_000 });
    finished = true;
    const stories = readStoryFiles(path.join(dir, "stories"));
    return { stories, problems: compareWithTruth(cluster, stories, WORKLOAD, REASON), rawBeforeFault, finishCode };
  } finally {
    if (session && !finished) await session.abort("test ended");
    await nc?.close();
    await cluster.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
