// Idempotent creation/update of streams and durable consumers from plain-data specs, verified by reading back.
import {
  AckPolicy,
  DiscardPolicy,
  JetStreamApiCodes,
  JetStreamApiError,
  RetentionPolicy,
  StorageType,
  type ConsumerConfig,
  type ConsumerInfo,
  type DeliverPolicy,
  type JetStreamManager,
  type StreamConfig,
  type StreamInfo,
} from "@nats-io/jetstream";
import { nanos } from "@nats-io/transport-node";
import { InvalidSpecError, ProvisioningError } from "./errors.js";

export interface StreamSpec {
  name: string;
  subjects: string[];
  /** Every stream must age out: required, > 0. */
  maxAgeMs: number;
  /** Every stream must be bounded: required, > 0. */
  maxBytes: number;
  maxMsgs?: number;
  /** Window in which a repeated Nats-Msg-Id is dropped. Must not exceed maxAgeMs. */
  duplicateWindowMs: number;
  storage: "file" | "memory";
  replicas?: number;
  /** Default "old": when full, the oldest messages go (a bounded record rather than refused writes). */
  discard?: "old" | "new";
  maxMsgSize?: number;
  description?: string;
}

export interface ConsumerSpec {
  durable: string;
  filterSubject?: string;
  ackWaitMs: number;
  maxDeliver: number;
  maxAckPending: number;
  /**
   * Redelivery delays after ack timeouts (server applies them to ack_wait expiry, never to nak). The server
   * replaces ack_wait by the first entry, so set ackWaitMs to backoffMs[0] (the read-back reports a mismatch).
   */
  backoffMs?: number[];
  deliverPolicy?: "all" | "new" | "last" | "last_per_subject";
  description?: string;
}

function requirePositive(resource: string, field: string, v: unknown, allowUnset = false): void {
  if (v === undefined && allowUnset) return;
  if (typeof v !== "number" || !Number.isFinite(v) || v <= 0) {
    throw new InvalidSpecError(resource, field, `must be a positive number (got ${String(v)})`);
  }
}

/** Rejects a spec the server would accept but Faro must not run with (unbounded streams). */
export function validateStreamSpec(spec: StreamSpec): void {
  const r = `stream ${spec.name}`;
  if (!spec.name || /[\s.*>]/.test(spec.name)) throw new InvalidSpecError(r, "name", "must be a non-empty token");
  if (!Array.isArray(spec.subjects) || spec.subjects.length === 0) throw new InvalidSpecError(r, "subjects", "must list at least one subject");
  requirePositive(r, "maxAgeMs", spec.maxAgeMs);
  requirePositive(r, "maxBytes", spec.maxBytes);
  requirePositive(r, "maxMsgs", spec.maxMsgs, true);
  requirePositive(r, "duplicateWindowMs", spec.duplicateWindowMs);
  if (spec.duplicateWindowMs > spec.maxAgeMs) throw new InvalidSpecError(r, "duplicateWindowMs", "must not exceed maxAgeMs");
  if (spec.storage !== "file" && spec.storage !== "memory") throw new InvalidSpecError(r, "storage", 'must be "file" or "memory"');
}

export function validateConsumerSpec(stream: string, spec: ConsumerSpec): void {
  const r = `consumer ${stream}/${spec.durable}`;
  if (!spec.durable || /[\s.*>]/.test(spec.durable)) throw new InvalidSpecError(r, "durable", "must be a non-empty token");
  requirePositive(r, "ackWaitMs", spec.ackWaitMs);
  requirePositive(r, "maxDeliver", spec.maxDeliver);
  requirePositive(r, "maxAckPending", spec.maxAckPending);
  if (spec.backoffMs) {
    spec.backoffMs.forEach((b, i) => requirePositive(r, `backoffMs[${i}]`, b));
    // The server rejects a backoff list that is not shorter than max_deliver.
    if (spec.backoffMs.length >= spec.maxDeliver) throw new InvalidSpecError(r, "backoffMs", "must have fewer entries than maxDeliver");
  }
}

function streamConfig(spec: StreamSpec): StreamConfig {
  return {
    name: spec.name,
    subjects: [...spec.subjects],
    max_age: nanos(spec.maxAgeMs),
    max_bytes: spec.maxBytes,
    max_msgs: spec.maxMsgs ?? -1,
    duplicate_window: nanos(spec.duplicateWindowMs),
    storage: spec.storage === "file" ? StorageType.File : StorageType.Memory,
    num_replicas: spec.replicas ?? 1,
    retention: RetentionPolicy.Limits,
    discard: spec.discard === "new" ? DiscardPolicy.New : DiscardPolicy.Old,
    max_msg_size: spec.maxMsgSize ?? -1,
    ...(spec.description ? { description: spec.description } : {}),
  } as StreamConfig;
}

function isNotFound(err: unknown, code: number): boolean {
  return err instanceof JetStreamApiError && err.code === code;
}

function same(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/** Creates the stream or updates it to the spec, then verifies the server kept every setting. */
export async function ensureStream(jsm: JetStreamManager, spec: StreamSpec): Promise<StreamInfo> {
  validateStreamSpec(spec);
  const resource = `stream ${spec.name}`;
  const want = streamConfig(spec);
  let info: StreamInfo;
  try {
    let exists = true;
    try {
      await jsm.streams.info(spec.name);
    } catch (err) {
      if (!isNotFound(err, JetStreamApiCodes.StreamNotFound)) throw err;
      exists = false;
    }
    if (exists) {
      const { name: _n, storage: _s, retention: _r, ...updatable } = want;
      info = await jsm.streams.update(spec.name, updatable);
    } else {
      info = await jsm.streams.add(want);
    }
    // Read back from the server rather than trusting the create/update response.
    info = await jsm.streams.info(spec.name);
  } catch (err) {
    throw new ProvisioningError(resource, undefined, (err as Error).message, undefined, undefined, { cause: err });
  }
  const got = info.config;
  const checks: Array<[string, unknown, unknown]> = [
    ["subjects", [...want.subjects].sort(), [...(got.subjects ?? [])].sort()],
    ["max_age", want.max_age, got.max_age],
    ["max_bytes", want.max_bytes, got.max_bytes],
    ["max_msgs", want.max_msgs, got.max_msgs],
    ["duplicate_window", want.duplicate_window, got.duplicate_window],
    ["storage", want.storage, got.storage],
    ["num_replicas", want.num_replicas, got.num_replicas],
    ["discard", want.discard, got.discard],
    ["max_msg_size", want.max_msg_size, got.max_msg_size],
  ];
  for (const [setting, expected, actual] of checks) {
    if (!same(expected, actual)) {
      throw new ProvisioningError(
        resource,
        setting,
        `server has ${JSON.stringify(actual)}, spec wants ${JSON.stringify(expected)}`,
        expected,
        actual,
      );
    }
  }
  return info;
}

function consumerConfig(spec: ConsumerSpec): Partial<ConsumerConfig> {
  const cfg: Partial<ConsumerConfig> = {
    durable_name: spec.durable,
    ack_policy: AckPolicy.Explicit,
    ack_wait: nanos(spec.ackWaitMs),
    max_deliver: spec.maxDeliver,
    max_ack_pending: spec.maxAckPending,
    deliver_policy: (spec.deliverPolicy ?? "all") as DeliverPolicy,
  };
  if (spec.filterSubject) cfg.filter_subject = spec.filterSubject;
  if (spec.backoffMs?.length) cfg.backoff = spec.backoffMs.map((b) => nanos(b));
  if (spec.description) cfg.description = spec.description;
  return cfg;
}

/** Creates the durable pull consumer or updates it to the spec, then verifies the server kept every setting. */
export async function ensureConsumer(jsm: JetStreamManager, stream: string, spec: ConsumerSpec): Promise<ConsumerInfo> {
  validateConsumerSpec(stream, spec);
  const resource = `consumer ${stream}/${spec.durable}`;
  const want = consumerConfig(spec);
  let info: ConsumerInfo;
  try {
    let exists = true;
    try {
      await jsm.consumers.info(stream, spec.durable);
    } catch (err) {
      if (!isNotFound(err, JetStreamApiCodes.ConsumerNotFound)) throw err;
      exists = false;
    }
    if (exists) {
      // Only these fields are editable; the others are compared below and reported if they differ.
      await jsm.consumers.update(stream, spec.durable, {
        ack_wait: want.ack_wait,
        max_deliver: want.max_deliver,
        max_ack_pending: want.max_ack_pending,
        backoff: want.backoff ?? [],
        ...(want.description ? { description: want.description } : {}),
      });
    } else {
      await jsm.consumers.add(stream, want);
    }
    info = await jsm.consumers.info(stream, spec.durable);
  } catch (err) {
    throw new ProvisioningError(resource, undefined, (err as Error).message, undefined, undefined, { cause: err });
  }
  const got = info.config;
  const checks: Array<[string, unknown, unknown]> = [
    ["ack_policy", want.ack_policy, got.ack_policy],
    ["ack_wait", want.ack_wait, got.ack_wait],
    ["max_deliver", want.max_deliver, got.max_deliver],
    ["max_ack_pending", want.max_ack_pending, got.max_ack_pending],
    ["deliver_policy", want.deliver_policy, got.deliver_policy],
    ["filter_subject", want.filter_subject ?? "", got.filter_subject ?? ""],
    ["backoff", want.backoff ?? [], got.backoff ?? []],
    ["deliver_subject", undefined, got.deliver_subject || undefined],
  ];
  for (const [setting, expected, actual] of checks) {
    if (!same(expected, actual)) {
      throw new ProvisioningError(
        resource,
        setting,
        `server has ${JSON.stringify(actual)}, spec wants ${JSON.stringify(expected)}`,
        expected,
        actual,
      );
    }
  }
  return info;
}

export interface DlqStreamOptions {
  name?: string;
  subjects: string[];
  maxAgeMs?: number;
  maxBytes?: number;
  duplicateWindowMs?: number;
  storage?: "file" | "memory";
  replicas?: number;
}

/**
 * Ensures the dead-letter stream: file storage, 14 days, 1 GiB and a 10-minute dedupe window by default,
 * so a dead letter published by two replicas (msgId dlq:<stream>:<seq>) is stored once.
 */
export async function ensureDlqStream(jsm: JetStreamManager, opts: DlqStreamOptions): Promise<StreamInfo> {
  return await ensureStream(jsm, {
    name: opts.name ?? "FARO_DLQ",
    subjects: opts.subjects,
    maxAgeMs: opts.maxAgeMs ?? 14 * 24 * 3600_000,
    maxBytes: opts.maxBytes ?? 1024 ** 3,
    duplicateWindowMs: opts.duplicateWindowMs ?? 10 * 60_000,
    storage: opts.storage ?? "file",
    replicas: opts.replicas,
    description: "Faro dead letters: messages a service could not process, with the reason in headers",
  });
}
