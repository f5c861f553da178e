// Shared set-up of the remediator acceptance tests: NATS, Redis, a simulated cluster with Faro's CRDs, the
// pipeline up to the correlator, and the remediator started through the kernel like `faro run remediator`.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { parse } from "yaml";
import { DeliverPolicy, jetstream } from "@nats-io/jetstream";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { definitionOf, loadPipelineConfig, remediatorModule, startPipeline, type Pipeline } from "@faro/cli";
import { loadServiceConfig, startService, type RunningService } from "@faro/kernel";
import { startCluster, type Cluster } from "@faro/kube-sim";
import { createLogger } from "@faro/observability";
import { startNats, startRedis, type ManagedServer } from "@faro/test-harness";

const CRDS = path.resolve(import.meta.dirname, "../../deploy/helm/faro/crds-optional");
const API = "/apis/faro.dev/v1alpha1";

export interface Env {
  nats: ManagedServer;
  redis: ManagedServer;
  cluster: Cluster;
  nc: NatsConnection;
  pipeline: Pipeline;
  dir: string;
  kubeconfig: string;
  name: string;
  remediator?: RunningService;
}

export type Action = Record<string, unknown> & { decision: string; action: string; policyName: string; detail: string; patchJson: string; remediation: string; attempt: number; mode: string };

export async function kube(env: Env, method: string, p: string, body?: unknown): Promise<{ status: number; json: any }> {
  const res = await fetch(`${env.cluster.url}${p}`, { method, headers: { "content-type": "application/json" }, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
  const text = await res.text();
  return { status: res.status, json: text ? JSON.parse(text) : undefined };
}

/** Starts everything; the CRDs come from the Helm chart's files, so the tests also check them. */
export async function setUp(name: string, scenario: string): Promise<Env> {
  const [nats, redis] = await Promise.all([startNats(), startRedis()]);
  const cluster = await startCluster({ speed: 20, scenario });
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `faro-${name}-`));
  const kubeconfig = path.join(dir, "kubeconfig");
  cluster.writeKubeconfig(kubeconfig);
  const env = { nats, redis, cluster, dir, kubeconfig, name } as Env;
  for (const f of fs.readdirSync(CRDS)) {
    const r = await kube(env, "POST", "/apis/apiextensions.k8s.io/v1/customresourcedefinitions", parse(fs.readFileSync(path.join(CRDS, f), "utf8")));
    if (r.status >= 300) throw new Error(`CRD ${f}: ${r.status} ${JSON.stringify(r.json)}`);
  }
  env.nc = await connect({ servers: nats.url });
  const loaded = await loadPipelineConfig({
    services: ["watcher", "log-streamer", "filter", "correlator"],
    env: {},
    overrides: { cluster: name, "nats.url": nats.url, "redis.url": redis.url, "kube.kubeconfig": kubeconfig, "log.level": "warn", "log.pretty": "false" },
    serviceOverrides: { watcher: { "namespaces.include": "default" } },
  });
  env.pipeline = await startPipeline(loaded, { http: false, logger: (n) => createLogger({ service: n, level: "warn", pretty: false, destination: process.stderr }) });
  return env;
}

export async function startRemediator(env: Env): Promise<RunningService> {
  const def = await definitionOf("remediator");
  const argv = ["--enabled=true", `--cluster=${env.name}`, `--nats.url=${env.nats.url}`, `--kube.kubeconfig=${env.kubeconfig}`, "--log.level=warn", "--http.port=0", "--http.host=127.0.0.1"];
  env.remediator = await startService(def, loadServiceConfig(def, { argv, env: {} }), { logger: createLogger({ service: "remediator", level: "warn", pretty: false, destination: process.stderr }), http: false });
  return env.remediator;
}

export async function tearDown(env: Env | undefined): Promise<number | undefined> {
  if (!env) return undefined;
  await env.remediator?.stop();
  const code = await env.pipeline?.stop("test finished");
  await env.nc?.close();
  await env.cluster?.stop();
  await Promise.all([env.nats?.stop(), env.redis?.stop()]);
  fs.rmSync(env.dir, { recursive: true, force: true });
  return code;
}

export function policy(name: string, spec: Record<string, unknown>) {
  return { apiVersion: "faro.dev/v1alpha1", kind: "AutoRemediationPolicy", metadata: { name, namespace: "default" }, spec };
}

export async function createPolicy(env: Env, p: ReturnType<typeof policy>): Promise<void> {
  const r = await kube(env, "POST", `${API}/namespaces/default/autoremediationpolicies`, p);
  if (r.status >= 300) throw new Error(`policy ${p.metadata.name}: ${r.status} ${JSON.stringify(r.json)}`);
}

export async function deletePolicy(env: Env, name: string): Promise<void> {
  const r = await kube(env, "DELETE", `${API}/namespaces/default/autoremediationpolicies/${name}`);
  if (r.status >= 300) throw new Error(`delete policy ${name}: ${r.status}`);
}

export async function remediations(env: Env): Promise<any[]> {
  return (await kube(env, "GET", `${API}/namespaces/default/remediations`)).json?.items ?? [];
}

/** Every Action published for this cluster so far, decoded with the remediator's codec. */
export async function actions(env: Env): Promise<Action[]> {
  const m = await remediatorModule();
  const js = jetstream(env.nc);
  const c = await js.consumers.get(m.FARO_ACTION.name, { filter_subjects: m.actionFilter({ cluster: env.name }), deliver_policy: DeliverPolicy.All });
  const out: Action[] = [];
  try {
    const pending = (await c.info()).num_pending;
    for (let i = 0; i < pending; i++) {
      const msg = await c.next({ expires: 5000 });
      if (!msg) break;
      out.push(m.decodeAction(msg.data) as Action);
    }
  } catch (err) {
    if (!/stream not found/i.test(String(err))) throw err;
  } finally {
    await c.delete().catch(() => undefined);
  }
  return out;
}
