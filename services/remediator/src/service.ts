// The remediator on the kernel: holds the AutoRemediationPolicy objects the watcher publishes on FARO_RAW (read
// from the stream, never from the API), consumes its cluster's incidents as the durable `<cluster>_remediator`,
// and for every policy an incident revision meets decides — act, dry-run, skip by cooldown, escalate — and
// publishes that decision as an Action on faro.v1.action.<tenant>.<cluster>.<namespace> (docs/remediation.md).
// Live actions are recorded as Remediation objects whose status moves pending → in_progress → succeeded | failed.
import { createHash } from "node:crypto";
import { DeliverPolicy, type ConsumerMessages } from "@nats-io/jetstream";
import protobuf from "protobufjs";
import type { BusMessage } from "@faro/bus";
import { decodeIncidentContext, decodeResourceChange, escapeToken, FARO_INCIDENT, FARO_RAW, incidentFilter, PROTO_PATH, type IncidentContext } from "@faro/contracts";
import type { KernelContext, ServiceInstance } from "@faro/kernel";
import { loadKubeConfig, type KubeAccess } from "@faro/kube";
import { deploymentPath, planDeployment, planRestart, podPath, type Plan, type Target } from "./actions.js";
import type { RemediatorConfig } from "./config.js";
import { InvalidPolicyError, MalformedIncidentError, RemediatorError } from "./errors.js";
import { kubeClient, type KubeClient, type Obj } from "./kube.js";
import { remediatorMetrics, type RemediatorMetrics } from "./metrics.js";
import { labelsMatch, parsePolicy, policyCovers, type Policy } from "./policy.js";
import { FARO_ACTION, buildActionSubject } from "./stream.js";

export const CONSUMER_NAME = "remediator";
export const DEAD_LETTER_STAGE = "decode";
/** The group-qualified resource the policies are watched as (the watcher must include it; `*` does). */
export const POLICY_RESOURCE = "autoremediationpolicies.faro.dev";
export const DECISIONS = ["acted", "dry_run", "skipped_cooldown", "exhausted", "failed", "escalated"] as const;
export type Decision = (typeof DECISIONS)[number];

let actionType: protobuf.Type | undefined;
/** The Action message of faro.proto, encoded by reflection from the published .proto (verify() before encode). */
export function encodeAction(a: Record<string, unknown>): Uint8Array {
  actionType ??= protobuf.loadSync(PROTO_PATH).lookupType("faro.v1.Action");
  const err = actionType.verify(a);
  if (err) throw new RemediatorError(`invalid Action: ${err}`);
  return actionType.encode(actionType.fromObject(a)).finish();
}
export function decodeAction(bytes: Uint8Array): Record<string, unknown> {
  actionType ??= protobuf.loadSync(PROTO_PATH).lookupType("faro.v1.Action");
  return actionType.toObject(actionType.decode(bytes), { defaults: true }) as Record<string, unknown>;
}

export interface RemediatorOptions {
  kubeConfig?: KubeAccess;
  now?: () => number;
}

export interface Remediator extends ServiceInstance {
  readonly remediatorMetrics: RemediatorMetrics;
  /** The policies held now, by `<namespace>/<name>`. */
  policies(): ReadonlyMap<string, Policy>;
}

interface TargetState {
  hits: number[];
  lastActedAt?: number;
  attempts: number;
  escalated: boolean;
  seen: Set<string>;
}

export function createRemediator(ctx: KernelContext<RemediatorConfig>, options: RemediatorOptions = {}): Remediator {
  const { config, metrics: service } = ctx;
  const logger = ctx.logger.child({ component: "remediator" });
  const metrics = remediatorMetrics(service.registry);
  const now = options.now ?? Date.now;
  const publisher = ctx.publisher({ name: "remediator-action" });
  const policies = new Map<string, Policy>();
  const invalid = new Set<string>();
  const states = new Map<string, TargetState>();
  const trackedQueue = service.queue("tracked_targets", config.maxTracked);
  let kube: KubeClient | undefined;
  let policyMessages: ConsumerMessages | undefined;
  let policyLoop: Promise<void> | undefined;
  let consuming = false;
  let started = false;
  let stopping: Promise<void> | undefined;
  let markSynced!: () => void;
  const synced = new Promise<void>((r) => (markSynced = r));

  function setPolicyGauges(): void {
    metrics.policies.set({ state: "active" }, policies.size);
    metrics.policies.set({ state: "invalid" }, invalid.size);
  }

  function applyPolicyChange(data: Uint8Array): void {
    let change;
    try {
      change = decodeResourceChange(data);
    } catch (err) {
      metrics.policiesIgnored.inc({ reason: "decode" });
      logger.error({ err }, "undecodable policy change on FARO_RAW; ignored");
      return;
    }
    const key = `${change.namespace}/${change.name}`;
    if (change.type === "DELETED") {
      policies.delete(key);
      invalid.delete(key);
      logger.info({ policy: key }, "policy removed");
    } else {
      try {
        const p = parsePolicy(JSON.parse(change.objectJson));
        if (!policies.has(key) && policies.size >= config.maxPolicies) {
          metrics.policiesIgnored.inc({ reason: "limit" });
          logger.warn({ policy: key, maxPolicies: config.maxPolicies }, "policy ignored: maxPolicies reached");
          return;
        }
        policies.set(key, p);
        invalid.delete(key);
        logger.info({ policy: key, action: p.action, mode: p.mode }, "policy loaded");
      } catch (err) {
        policies.delete(key);
        invalid.add(key);
        metrics.policiesIgnored.inc({ reason: "invalid" });
        logger.warn({ policy: key, err: (err as Error).message }, err instanceof InvalidPolicyError ? "invalid policy ignored" : "unreadable policy ignored");
      }
    }
    setPolicyGauges();
  }

  setPolicyGauges();

  async function followPolicies(): Promise<void> {
    const filter = `faro.v1.raw.${escapeToken(config.cluster)}.*.obj.${escapeToken(POLICY_RESOURCE)}.*`;
    const info = await ctx.bus.jsm.streams.info(FARO_RAW.name, { subjects_filter: filter });
    const expected = Object.keys(info.state.subjects ?? {}).length;
    if (expected === 0) markSynced();
    const consumer = await ctx.bus.js.consumers.get(FARO_RAW.name, { filter_subjects: [filter], deliver_policy: DeliverPolicy.LastPerSubject });
    policyMessages = await consumer.consume();
    policyLoop = (async () => {
      for await (const m of policyMessages!) {
        applyPolicyChange(m.data);
        if (m.info.pending === 0) markSynced();
      }
    })().catch((err) => {
      service.errors.inc({ kind: "policy_stream" });
      logger.error({ err }, "policy stream ended");
    });
  }

  function stateFor(key: string): TargetState {
    let s = states.get(key);
    if (s) {
      states.delete(key);
      states.set(key, s); // most recently used last
      return s;
    }
    s = { hits: [], attempts: 0, escalated: false, seen: new Set() };
    states.set(key, s);
    while (states.size > config.maxTracked) {
      states.delete(states.keys().next().value!);
      metrics.trackedEvicted.inc();
    }
    trackedQueue.setDepth(states.size);
    return s;
  }

  async function publishAction(ic: IncidentContext, p: Policy, decision: Decision, action: string, target: Target | undefined, detail: string, extra: { patch?: unknown; remediation?: string; attempt?: number } = {}): Promise<void> {
    const actionId = `act:${ic.incidentId}:${ic.repeatCount}:${p.key}:${decision}`;
    const msg = {
      schemaVersion: 1,
      actionId,
      decision,
      action,
      mode: p.mode,
      policyNamespace: p.namespace,
      policyName: p.name,
      incidentId: ic.incidentId,
      repeatCount: ic.repeatCount,
      storyId: ic.storyId,
      tenant: ic.tenant,
      cluster: ic.cluster,
      namespace: ic.namespace,
      reason: ic.reason,
      target: target ? { apiVersion: target.apiVersion, kind: target.kind, name: target.name, uid: target.uid } : undefined,
      container: ic.container,
      detail,
      patchJson: extra.patch === undefined ? "" : JSON.stringify(extra.patch),
      remediation: extra.remediation ?? "",
      attempt: extra.attempt ?? 0,
      createdAt: new Date(now()).toISOString(),
    };
    const ack = await publisher.publish(buildActionSubject(ic.tenant, ic.cluster, ic.namespace), encodeAction(msg), { msgId: actionId, expectStream: FARO_ACTION.name });
    if (ack.duplicate) {
      service.messagesDropped.inc({ reason: "duplicate_action" });
      return;
    }
    service.messagesOut.inc();
    metrics.decisions.inc({ decision, action, mode: p.mode });
    logger.info({ decision, action, policy: p.key, target: target?.name, detail }, "remediation decision");
  }

  const remediationsPath = (ns: string) => `/apis/faro.dev/v1alpha1/namespaces/${encodeURIComponent(ns)}/remediations`;

  /** Applies a plan in live mode, recording it as a Remediation object through its phases. */
  async function runLive(ic: IncidentContext, p: Policy, plan: Extract<Plan, { kind: "change" }>): Promise<{ ok: boolean; name: string; error?: string }> {
    const k = kube!;
    const name = `rem-${createHash("sha256").update(`${ic.incidentId}:${ic.repeatCount}:${p.key}`).digest("hex").slice(0, 16)}`;
    const ns = ic.namespace;
    const phase = async (obj: Obj, ph: string, message: string): Promise<Obj> => {
      const next = { ...obj, status: { phase: ph, message, updatedAt: new Date(now()).toISOString() } };
      const out = await k.replace(`${remediationsPath(ns)}/${name}`, next);
      metrics.remediations.inc({ phase: ph, action: p.action });
      return out;
    };
    let rem = await k.get(`${remediationsPath(ns)}/${name}`);
    if (!rem) {
      rem = await k.create(remediationsPath(ns), {
        apiVersion: "faro.dev/v1alpha1",
        kind: "Remediation",
        metadata: { name, namespace: ns, labels: { "faro.dev/policy": p.name, "faro.dev/action": p.action } },
        spec: { policy: p.key, action: p.action, mode: p.mode, incidentId: ic.incidentId, repeatCount: ic.repeatCount, storyId: ic.storyId, reason: ic.reason, container: ic.container, target: { apiVersion: plan.target.apiVersion, kind: plan.target.kind, name: plan.target.name, uid: plan.target.uid }, patch: JSON.stringify(plan.patch) },
        status: { phase: "pending", message: plan.detail, updatedAt: new Date(now()).toISOString() },
      });
      metrics.remediations.inc({ phase: "pending", action: p.action });
    }
    const st = (rem["status"] as { phase?: string } | undefined)?.phase;
    if (st === "succeeded" || st === "failed") return { ok: st === "succeeded", name }; // a redelivery of a finished one
    rem = await phase(rem, "in_progress", plan.detail);
    try {
      await plan.apply(k);
    } catch (err) {
      await phase(rem, "failed", (err as Error).message);
      return { ok: false, name, error: (err as Error).message };
    }
    await phase(rem, "succeeded", plan.detail);
    return { ok: true, name };
  }

  async function decide(ic: IncidentContext, p: Policy): Promise<void> {
    const k = kube!;
    const chain = ic.ownerChain;
    const root = chain.at(-1);
    const podName = ic.pod?.name || chain.find((w) => w.kind === "Pod")?.name || "";
    let workload: Obj | undefined;
    if (root?.kind === "Deployment") workload = await k.get(deploymentPath(ic.namespace, root.name));
    const pod = podName ? await k.get(podPath(ic.namespace, podName)) : undefined;
    const labelSource = workload ?? pod;
    if (!labelSource || !labelsMatch(p, labelSource.metadata.labels ?? {})) return;
    const key = `${p.key}|${ic.namespace}/${root?.kind}/${root?.name}`;
    const s = stateFor(key);
    const rev = `${ic.incidentId}:${ic.repeatCount}`;
    if (s.seen.has(rev)) return; // a redelivery of a revision decided already
    const t = now();
    s.hits = s.hits.filter((h) => h > t - p.windowMs);
    if (!s.hits.includes(t)) s.hits.push(t);
    // Marked once its decision is published: a redelivery after a failed publish decides again (a live action
    // finds its Remediation object finished and does not act twice).
    const decided = () => {
      s.seen.add(rev);
      if (s.seen.size > 100) s.seen.delete(s.seen.values().next().value!);
    };
    if (s.hits.length < p.count) {
      metrics.belowThreshold.inc();
      decided();
      return;
    }
    const fallbackTarget: Target | undefined = root ? { apiVersion: root.apiVersion, kind: root.kind, name: root.name, uid: root.uid, namespace: ic.namespace } : undefined;
    if (s.lastActedAt !== undefined && t - s.lastActedAt < p.cooldownMs) {
      await publishAction(ic, p, "skipped_cooldown", p.action, fallbackTarget, `in cooldown until ${new Date(s.lastActedAt + p.cooldownMs).toISOString()}`);
      decided();
      return;
    }
    let plan: Plan;
    if (p.action === "restartPod") {
      plan = pod ? planRestart(pod) : { kind: "exhausted", target: fallbackTarget!, detail: `pod ${podName} no longer exists` };
    } else if (!workload) {
      plan = { kind: "exhausted", target: fallbackTarget!, detail: `${p.action} needs a Deployment at the root of the owner chain; found ${root?.kind ?? "none"}` };
    } else plan = await planDeployment(p, k, workload, ic.container);

    let failed = false;
    if (plan.kind === "exhausted") {
      failed = true;
      s.attempts++;
      await publishAction(ic, p, "exhausted", p.action, plan.target, plan.detail, { attempt: s.attempts });
    } else if (p.mode === "dryRun") {
      await publishAction(ic, p, "dry_run", p.action, plan.target, `would ${plan.detail}`, { patch: plan.patch });
      s.lastActedAt = t;
    } else {
      const r = await runLive(ic, p, plan);
      if (r.ok) {
        await publishAction(ic, p, "acted", p.action, plan.target, plan.detail, { patch: plan.patch, remediation: r.name });
        s.lastActedAt = t;
        s.attempts = 0;
        s.escalated = false;
      } else {
        failed = true;
        s.attempts++;
        await publishAction(ic, p, "failed", p.action, plan.target, r.error ?? plan.detail, { patch: plan.patch, remediation: r.name, attempt: s.attempts });
      }
    }
    if (failed && s.attempts >= p.escalation.afterAttempts && !s.escalated) {
      s.escalated = true;
      await publishAction(ic, p, "escalated", "escalate", plan.target, `${s.attempts} failed or exhausted ${p.action} attempts${p.escalation.route ? `; route ${p.escalation.route}` : ""}`, { attempt: s.attempts });
    }
    decided();
  }

  async function handle(msg: BusMessage): Promise<void> {
    service.messagesIn.inc();
    let ic: IncidentContext;
    try {
      ic = decodeIncidentContext(msg.data);
    } catch (err) {
      throw new MalformedIncidentError(msg.subject, (err as Error).message, { cause: err });
    }
    await synced;
    for (const p of [...policies.values()].sort((a, b) => a.key.localeCompare(b.key))) {
      if (policyCovers(p, ic)) await decide(ic, p);
    }
  }

  const group = ctx.consumerGroup({
    stream: FARO_INCIDENT.name,
    consumer: {
      durable: CONSUMER_NAME,
      filterSubject: incidentFilter({ cluster: config.cluster }).replace(/(\.\*)+$/, ".>"),
      ackWaitMs: config.consumer.ackWait,
      maxDeliver: config.consumer.maxDeliver,
      maxAckPending: config.consumer.maxAckPending,
      description: "Faro remediator: policy-driven actions on incidents",
    },
    handler: handle,
    poisonStage: DEAD_LETTER_STAGE,
    concurrency: config.consumer.concurrency,
    isPoison: (err) => err instanceof MalformedIncidentError,
  });

  async function start(): Promise<void> {
    if (started || stopping) return;
    started = true;
    const kc = options.kubeConfig ?? loadKubeConfig({ kubeconfig: config.kube.kubeconfig, context: config.kube.context });
    kube = kubeClient(kc, ctx.signal);
    await followPolicies();
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<boolean>((r) => (timer = setTimeout(() => r(true), config.policySyncTimeout)));
    const late = await Promise.race([synced.then(() => false), timedOut]);
    clearTimeout(timer);
    if (late) {
      logger.warn({ timeoutMs: config.policySyncTimeout }, "policies not synced in time; consuming incidents with what has arrived");
      markSynced();
    }
    await group.start();
    consuming = true;
    logger.info({ durable: group.name, policies: policies.size }, "remediator consuming");
  }

  async function doStop(): Promise<void> {
    consuming = false;
    await group.stop();
    await policyMessages?.close();
    await policyLoop;
  }

  return {
    start,
    stop() {
      stopping ??= doStop();
      return stopping;
    },
    readiness: () => (consuming ? true : { ok: false, detail: stopping ? "stopped" : "loading policies" }),
    remediatorMetrics: metrics,
    policies: () => policies,
  };
}
