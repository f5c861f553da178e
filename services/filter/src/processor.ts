// The filter's per-message decision, free of I/O: decode a raw message, pick its tenants, drop noise
// lines, redact, and produce one clean message per tenant (subject, deterministic msgId, bytes).
import {
  buildCleanSubject,
  decodeKubeEvent,
  decodeLogBatch,
  decodeResourceChange,
  encodeKubeEvent,
  encodeLogBatch,
  encodeResourceChange,
  parseSubject,
  type KubeEvent,
  type LogBatch,
  type LogLine,
  type RawCategory,
  type RawTarget,
  type ResourceChange,
} from "@faro/contracts";
import { RedactionError, type Redactor, type RuleHit } from "@faro/redact";
import { MalformedMessageError, RedactStageError } from "./errors.js";
import type { TenantMatcher } from "./rules/index.js";

/** A message read from FARO_RAW. */
export interface RawInput {
  subject: string;
  data: Uint8Array;
  /** Nats-Msg-Id of the raw message; the clean copies derive theirs from it. */
  msgId: string | undefined;
  stream: string;
  seq: number;
}

/** One clean copy for one tenant. */
export interface CleanOutput {
  tenant: string;
  subject: string;
  /** `<raw msgId>:<tenant>`: deterministic, so redeliveries and replicas dedupe in FARO_CLEAN. */
  msgId: string;
  data: Uint8Array;
}

export type DropReason = "no_tenant" | "all_lines_filtered";

export interface Outcome {
  category: RawCategory;
  /** Empty when the message reached nobody (`dropped` says why). */
  outputs: CleanOutput[];
  dropped: DropReason | undefined;
  /** Redaction rules that fired (once per mask). */
  hits: RuleHit[];
  /** Log lines only: per tenant, lines kept and lines dropped by rule id. */
  lines: Array<{ tenant: string; kept: number; dropped: Record<string, number> }>;
}

export interface Processor {
  /** Throws MalformedMessageError (never succeeds: dead-letter, stage decode) or RedactStageError (fail-safe). */
  process(input: RawInput): Outcome;
}

/** The raw message id, or one derived from the stream position when the producer set none. */
export function baseMsgId(input: RawInput): string {
  return input.msgId ?? `${input.stream}:${input.seq}`;
}

export function cleanMsgId(base: string, tenant: string): string {
  return `${base}:${tenant}`;
}

export function createProcessor(deps: { matcher: TenantMatcher; redactor: Redactor }): Processor {
  const { matcher, redactor } = deps;

  function decode<T>(subject: string, what: string, fn: (b: Uint8Array) => T, data: Uint8Array): T {
    try {
      return fn(data);
    } catch (err) {
      throw new MalformedMessageError(subject, `cannot decode ${what}: ${(err as Error).message}`, { cause: err });
    }
  }

  /** Runs a redaction step; any failure (RedactionError, bad JSON, re-encoding) becomes RedactStageError. */
  function redacting<T>(subject: string, fn: () => T): T {
    try {
      return fn();
    } catch (err) {
      throw new RedactStageError(subject, safeReason(err), { cause: err });
    }
  }

  function fanOut(input: RawInput, tenants: readonly string[], cluster: string, namespace: string, target: RawTarget, data: Uint8Array): CleanOutput[] {
    const base = baseMsgId(input);
    return tenants.map((tenant) => ({
      tenant,
      subject: buildCleanSubject(tenant, cluster, namespace, target),
      msgId: cleanMsgId(base, tenant),
      data,
    }));
  }

  function parseJson(json: string): unknown {
    return json === "" ? undefined : (JSON.parse(json) as unknown);
  }

  function object(input: RawInput, cluster: string, namespace: string, target: RawTarget): Outcome {
    const rc: ResourceChange = decode(input.subject, "ResourceChange", decodeResourceChange, input.data);
    checkScope(input.subject, cluster, namespace, rc.cluster, rc.namespace);
    const tenants = matcher.tenantsForObject({ kind: rc.kind, namespace: rc.namespace, name: rc.name, labels: rc.labels });
    const out: Outcome = { category: "obj", outputs: [], dropped: undefined, hits: [], lines: [] };
    if (tenants.length === 0) {
      out.dropped = "no_tenant";
      return out;
    }
    const data = redacting(input.subject, () => {
      const obj = redactor.redactObject(parseJson(rc.objectJson));
      const labels = redactor.redactObject(rc.labels);
      out.hits.push(...obj.hits, ...labels.hits);
      return encodeResourceChange({ ...rc, labels: labels.object, objectJson: obj.object === undefined ? "" : JSON.stringify(obj.object) });
    });
    out.outputs = fanOut(input, tenants, cluster, namespace, target, data);
    return out;
  }

  function event(input: RawInput, cluster: string, namespace: string, target: RawTarget): Outcome {
    const ev: KubeEvent = decode(input.subject, "KubeEvent", decodeKubeEvent, input.data);
    checkScope(input.subject, cluster, namespace, ev.cluster, ev.namespace);
    const tenants = matcher.tenantsForEvent({
      namespace: ev.namespace,
      reason: ev.reason || undefined,
      type: ev.eventType || undefined,
      source: ev.sourceComponent || ev.reportingController || undefined,
      involvedKind: ev.involved.kind || undefined,
      involvedName: ev.involved.name || undefined,
      involvedLabels: ev.involvedLabels,
    });
    const out: Outcome = { category: "event", outputs: [], dropped: undefined, hits: [], lines: [] };
    if (tenants.length === 0) {
      out.dropped = "no_tenant";
      return out;
    }
    const data = redacting(input.subject, () => {
      const obj = redactor.redactEvent(parseJson(ev.objectJson));
      const message = redactor.redactText(ev.message);
      // The involved object's labels travel on, redacted like an object's labels (rules matched the raw ones).
      const labels = ev.involvedLabels === undefined ? undefined : redactor.redactObject(ev.involvedLabels);
      out.hits.push(...obj.hits, ...message.hits, ...(labels?.hits ?? []));
      return encodeKubeEvent({
        ...ev,
        message: message.text,
        objectJson: obj.object === undefined ? "" : JSON.stringify(obj.object),
        ...(labels === undefined ? {} : { involvedLabels: labels.object }),
      });
    });
    out.outputs = fanOut(input, tenants, cluster, namespace, target, data);
    return out;
  }

  function log(input: RawInput, cluster: string, namespace: string, target: RawTarget): Outcome {
    const lb: LogBatch = decode(input.subject, "LogBatch", decodeLogBatch, input.data);
    checkScope(input.subject, cluster, namespace, lb.cluster, lb.namespace);
    const out: Outcome = { category: "log", outputs: [], dropped: undefined, hits: [], lines: [] };
    const stream = { namespace: lb.namespace, pod: lb.pod, container: lb.container, labels: lb.podLabels };
    const tenants = matcher.tenantsForLogStream(stream);
    if (tenants.length === 0) {
      out.dropped = "no_tenant";
      return out;
    }
    const texts = lb.lines.map((l) => l.line);
    // Noise rules see the lines as the container printed them; each tenant keeps a subsequence.
    const keptIdx: Array<{ tenant: string; idx: number[] }> = [];
    // One call evaluates global rules once for every tenant; only tenants admitting the stream are used.
    const results = matcher.filterLogBatch(stream, texts);
    for (const tenant of tenants) {
      const res = results.get(tenant);
      if (res === undefined) continue;
      out.lines.push({ tenant, kept: res.kept.length, dropped: res.dropped });
      if (res.kept.length > 0 || lb.endOfStream) keptIdx.push({ tenant, idx: subsequenceIndexes(texts, res.kept) });
    }
    if (keptIdx.length === 0) {
      out.dropped = "all_lines_filtered";
      return out;
    }
    const base = baseMsgId(input);
    out.outputs = redacting(input.subject, () => {
      // The whole batch is redacted once (also what no tenant keeps): a PEM block is recognised from its
      // BEGIN line even when a noise rule dropped that line for some tenant.
      const red = redactor.redactLogLines(texts);
      const labels = redactor.redactObject(lb.podLabels);
      out.hits.push(...red.hits, ...labels.hits);
      // Nothing redacted and every line kept: the raw message already is the clean one. Re-encoding it
      // (protobuf, every line) was a tenth of the filter's CPU on a log-heavy stream.
      const unchanged = labels.hits.length === 0 && red.lines.every((l, i) => l === texts[i]) && sameLabels(labels.object, lb.podLabels);
      const encodeFor = (idx: number[]): Uint8Array =>
        unchanged && idx.length === texts.length
          ? input.data
          : encodeLogBatch({
              ...lb,
              podLabels: labels.object,
              lines: idx.map((i): LogLine => ({ ...lb.lines[i]!, line: red.lines[i]! })),
            });
      // Tenants that keep the same lines share one encoding.
      const cache = new Map<string, Uint8Array>();
      return keptIdx.map(({ tenant, idx }) => {
        const key = idx.length === texts.length ? "all" : idx.join(",");
        let data = cache.get(key);
        if (data === undefined) {
          data = encodeFor(idx);
          cache.set(key, data);
        }
        return { tenant, subject: buildCleanSubject(tenant, cluster, namespace, target), msgId: cleanMsgId(base, tenant), data };
      });
    });
    return out;
  }

  return {
    process(input) {
      let parsed;
      try {
        parsed = parseSubject(input.subject);
      } catch (err) {
        throw new MalformedMessageError(input.subject, (err as Error).message, { cause: err });
      }
      if (parsed.stage !== "raw") throw new MalformedMessageError(input.subject, `expected a raw subject, got stage ${parsed.stage}`);
      const { cluster, namespace, target } = parsed;
      switch (target.category) {
        case "obj":
          return object(input, cluster, namespace, target);
        case "event":
          return event(input, cluster, namespace, target);
        case "log":
          return log(input, cluster, namespace, target);
      }
    },
  };
}

/**
 * Why redaction failed, without the error's message: messages of parse and redaction errors may quote
 * the input (V8's JSON.parse does), and this text goes to logs and dead letters.
 */
export function safeReason(err: unknown): string {
  if (!(err instanceof Error)) return `non-error thrown (${typeof err})`;
  const what = err instanceof RedactionError ? ` of ${err.what}` : "";
  const cause = err.cause instanceof Error ? ` caused by ${err.cause.name}` : "";
  return `${err.name}${what}${cause}`;
}

/**
 * The subject decides where the clean copy goes, the payload decides which tenants get it: they must
 * agree, or a message about one namespace could travel on another namespace's subject.
 */
function checkScope(subject: string, cluster: string, namespace: string, msgCluster: string, msgNamespace: string): void {
  if (cluster !== msgCluster) throw new MalformedMessageError(subject, `payload cluster ${JSON.stringify(msgCluster)} differs from the subject's`);
  if (namespace !== msgNamespace) throw new MalformedMessageError(subject, `payload namespace ${JSON.stringify(msgNamespace)} differs from the subject's`);
}

/**
 * Indexes of `kept` within `all`. `kept` is an in-order subsequence, and identical lines of one batch get
 * the same decision (rules look only at the line and its stream), so the greedy walk is exact.
 */
export function subsequenceIndexes(all: readonly string[], kept: readonly string[]): number[] {
  const out: number[] = [];
  let j = 0;
  for (let i = 0; i < all.length && j < kept.length; i++) {
    if (all[i] === kept[j]) {
      out.push(i);
      j++;
    }
  }
  if (j !== kept.length) throw new Error(`kept lines are not a subsequence of the batch (${j} of ${kept.length} found)`);
  return out;
}

function sameLabels(a: Record<string, string>, b: Record<string, string>): boolean {
  const ka = Object.keys(a);
  if (ka.length !== Object.keys(b).length) return false;
  return ka.every((k) => a[k] === b[k]);
}
