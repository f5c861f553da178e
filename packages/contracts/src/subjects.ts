// The faro.v1 subject taxonomy: builders, a strict parser, reversible token escaping and wildcard filters.
import { SubjectError } from "./errors.js";

export const SUBJECT_PREFIX = "faro.v1";
export const STAGES = ["raw", "clean", "story", "incident", "insight", "control", "dlq"] as const;
export type Stage = (typeof STAGES)[number];
export const RAW_CATEGORIES = ["obj", "event", "log"] as const;
export type RawCategory = (typeof RAW_CATEGORIES)[number];
/** Namespace token of cluster-scoped objects; Kubernetes names cannot start with "_", escaped tokens never do. */
export const CLUSTER_SCOPE_TOKEN = "_cluster";
/** Escape character; "~XX" is one UTF-8 byte in uppercase hex, "~" alone is the empty string. */
export const ESCAPE_CHAR = "~";

const HEX = "0123456789ABCDEF";
const encoder = new TextEncoder();
const strictDecoder = new TextDecoder("utf-8", { fatal: true });

// Printable ASCII that is safe inside a NATS token: everything from "!" to "}" except ".", "*", ">" (and "~" = 0x7E is above).
function isPlain(code: number): boolean {
  return code > 0x20 && code < 0x7e && code !== 0x2e && code !== 0x2a && code !== 0x3e;
}

/**
 * Escapes any string into one NATS subject token, reversibly. Bytes outside the safe printable ASCII set,
 * the escape char itself and a leading "_" become "~XX" (UTF-8, uppercase hex); "" becomes "~".
 * Plain Kubernetes names ([a-z0-9.-]) stay readable except for the dot.
 */
export function escapeToken(value: string): string {
  if (value === "") return ESCAPE_CHAR;
  let out = "";
  let plainFrom = 0;
  for (let i = 0; i < value.length; i++) {
    const code = value.charCodeAt(i);
    if (isPlain(code) && !(i === 0 && code === 0x5f)) continue;
    out += value.slice(plainFrom, i);
    // A surrogate pair is one code point: encode both halves together.
    const end = code >= 0xd800 && code <= 0xdbff && i + 1 < value.length ? i + 2 : i + 1;
    for (const byte of encoder.encode(value.slice(i, end))) out += ESCAPE_CHAR + HEX[byte >> 4]! + HEX[byte & 15]!;
    i = end - 1;
    plainFrom = end;
  }
  return out + value.slice(plainFrom);
}

/** Inverse of escapeToken. Rejects anything escapeToken would not produce, so every value has one token. */
export function unescapeToken(token: string): string {
  if (token === ESCAPE_CHAR) return "";
  if (token === "") throw new SubjectError(token, "empty token");
  if (token.charCodeAt(0) === 0x5f) throw new SubjectError(token, 'token starts with "_" (reserved)');
  if (!token.includes(ESCAPE_CHAR)) {
    for (let i = 0; i < token.length; i++) {
      if (!isPlain(token.charCodeAt(i))) throw new SubjectError(token, `character at ${i} must be escaped`);
    }
    return token;
  }
  const bytes: number[] = [];
  for (let i = 0; i < token.length; i++) {
    const code = token.charCodeAt(i);
    if (code === 0x7e) {
      // indexOf("") is 0, so a missing digit must be caught before the lookup.
      const hi = i + 2 < token.length ? HEX.indexOf(token[i + 1]!) : -1;
      const lo = i + 2 < token.length ? HEX.indexOf(token[i + 2]!) : -1;
      if (hi < 0 || lo < 0) throw new SubjectError(token, `bad escape at ${i} (want ~XX, uppercase hex)`);
      const byte = hi * 16 + lo;
      // Canonical form only: a byte that may appear plain must not be escaped (except a leading "_").
      if (isPlain(byte) && !(i === 0 && byte === 0x5f)) throw new SubjectError(token, `needless escape at ${i}`);
      bytes.push(byte);
      i += 2;
    } else if (isPlain(code)) {
      bytes.push(code);
    } else {
      throw new SubjectError(token, `character at ${i} must be escaped`);
    }
  }
  try {
    return strictDecoder.decode(new Uint8Array(bytes));
  } catch (err) {
    throw new SubjectError(token, "escaped bytes are not valid UTF-8", { cause: err });
  }
}

/** Namespace → token: "" (cluster-scoped) becomes "_cluster". */
export function namespaceToken(namespace: string): string {
  return namespace === "" ? CLUSTER_SCOPE_TOKEN : escapeToken(namespace);
}

/** Token → namespace: "_cluster" becomes "". */
export function namespaceFromToken(token: string): string {
  return token === CLUSTER_SCOPE_TOKEN ? "" : unescapeToken(token);
}

/** The group-qualified resource as one string: "pods", "deployments.apps" (like kubectl's resource.group). */
export function qualifiedResource(resource: string, group: string): string {
  return group === "" ? resource : `${resource}.${group}`;
}

/** Splits "deployments.apps" back into resource and group (the resource plural never contains a dot). */
export function splitQualifiedResource(qualified: string): { resource: string; group: string } {
  const dot = qualified.indexOf(".");
  return dot < 0 ? { resource: qualified, group: "" } : { resource: qualified.slice(0, dot), group: qualified.slice(dot + 1) };
}

/** What a raw/clean subject is about; a and b of the subject depend on the category. */
export type RawTarget =
  | { category: "obj"; resource: string; group: string; name: string }
  | { category: "event"; kind: string; name: string }
  | { category: "log"; pod: string; container: string };

function targetTokens(t: RawTarget): string {
  switch (t.category) {
    case "obj":
      return `obj.${escapeToken(qualifiedResource(t.resource, t.group))}.${escapeToken(t.name)}`;
    case "event":
      return `event.${escapeToken(t.kind)}.${escapeToken(t.name)}`;
    case "log":
      return `log.${escapeToken(t.pod)}.${escapeToken(t.container)}`;
  }
}

/** faro.v1.raw.<cluster>.<namespace>.<category>.<a>.<b> */
export function buildRawSubject(cluster: string, namespace: string, target: RawTarget): string {
  return `${SUBJECT_PREFIX}.raw.${escapeToken(cluster)}.${namespaceToken(namespace)}.${targetTokens(target)}`;
}

/** faro.v1.clean.<tenant>.<cluster>.<namespace>.<category>.<a>.<b> */
export function buildCleanSubject(tenant: string, cluster: string, namespace: string, target: RawTarget): string {
  return `${SUBJECT_PREFIX}.clean.${escapeToken(tenant)}.${escapeToken(cluster)}.${namespaceToken(namespace)}.${targetTokens(target)}`;
}

/** faro.v1.story.<tenant>.<cluster>.<namespace>.<storyId> */
export function buildStorySubject(tenant: string, cluster: string, namespace: string, storyId: string): string {
  return `${SUBJECT_PREFIX}.story.${escapeToken(tenant)}.${escapeToken(cluster)}.${namespaceToken(namespace)}.${escapeToken(storyId)}`;
}

/** faro.v1.incident.<tenant>.<cluster>.<namespace>.<reason> */
export function buildIncidentSubject(tenant: string, cluster: string, namespace: string, reason: string): string {
  return `${SUBJECT_PREFIX}.incident.${escapeToken(tenant)}.${escapeToken(cluster)}.${namespaceToken(namespace)}.${escapeToken(reason)}`;
}

/** faro.v1.insight.<tenant>.<cluster>.<namespace>.<storyId> — the analyzer's insights about a story's incidents. */
export function buildInsightSubject(tenant: string, cluster: string, namespace: string, storyId: string): string {
  return `${SUBJECT_PREFIX}.insight.${escapeToken(tenant)}.${escapeToken(cluster)}.${namespaceToken(namespace)}.${escapeToken(storyId)}`;
}

/** faro.v1.dlq.<service>.<stage> — stage names the step that gave up (e.g. "decode", "redact"). */
export function buildDlqSubject(service: string, stage: string): string {
  return `${SUBJECT_PREFIX}.dlq.${escapeToken(service)}.${escapeToken(stage)}`;
}

/** faro.v1.control.<service>.<verb> */
export function buildControlSubject(service: string, verb: string): string {
  return `${SUBJECT_PREFIX}.control.${escapeToken(service)}.${escapeToken(verb)}`;
}

export type ParsedSubject =
  | { stage: "raw"; cluster: string; namespace: string; target: RawTarget }
  | { stage: "clean"; tenant: string; cluster: string; namespace: string; target: RawTarget }
  | { stage: "story"; tenant: string; cluster: string; namespace: string; storyId: string }
  | { stage: "incident"; tenant: string; cluster: string; namespace: string; reason: string }
  | { stage: "insight"; tenant: string; cluster: string; namespace: string; storyId: string }
  | { stage: "dlq"; service: string; failedStage: string }
  | { stage: "control"; service: string; verb: string };

function parseTarget(subject: string, category: string, a: string, b: string): RawTarget {
  switch (category) {
    case "obj": {
      const { resource, group } = splitQualifiedResource(unescapeToken(a));
      return { category, resource, group, name: unescapeToken(b) };
    }
    case "event":
      return { category, kind: unescapeToken(a), name: unescapeToken(b) };
    case "log":
      return { category, pod: unescapeToken(a), container: unescapeToken(b) };
    default:
      throw new SubjectError(subject, `unknown category ${JSON.stringify(category)} (want ${RAW_CATEGORIES.join("|")})`);
  }
}

const TOKEN_COUNT: Record<Stage, number> = { raw: 8, clean: 9, story: 7, incident: 7, insight: 7, dlq: 5, control: 5 };

/** Parses any faro.v1 subject into its parts (unescaped). Throws SubjectError when it does not fit the taxonomy. */
export function parseSubject(subject: string): ParsedSubject {
  const t = subject.split(".");
  if (t[0] !== "faro" || t[1] !== "v1") throw new SubjectError(subject, `does not start with ${SUBJECT_PREFIX}.`);
  const stage = t[2] as Stage;
  if (!(STAGES as readonly string[]).includes(stage)) {
    throw new SubjectError(subject, `unknown stage ${JSON.stringify(t[2])} (want ${STAGES.join("|")})`);
  }
  if (t.length !== TOKEN_COUNT[stage]) {
    throw new SubjectError(subject, `${stage} subjects have ${TOKEN_COUNT[stage]} tokens, got ${t.length}`);
  }
  const at = (i: number): string => t[i]!;
  try {
    switch (stage) {
      case "raw":
        return {
          stage,
          cluster: unescapeToken(at(3)),
          namespace: namespaceFromToken(at(4)),
          target: parseTarget(subject, at(5), at(6), at(7)),
        };
      case "clean":
        return {
          stage,
          tenant: unescapeToken(at(3)),
          cluster: unescapeToken(at(4)),
          namespace: namespaceFromToken(at(5)),
          target: parseTarget(subject, at(6), at(7), at(8)),
        };
      case "story":
        return { stage, tenant: unescapeToken(at(3)), cluster: unescapeToken(at(4)), namespace: namespaceFromToken(at(5)), storyId: unescapeToken(at(6)) };
      case "incident":
        return { stage, tenant: unescapeToken(at(3)), cluster: unescapeToken(at(4)), namespace: namespaceFromToken(at(5)), reason: unescapeToken(at(6)) };
      case "insight":
        return { stage, tenant: unescapeToken(at(3)), cluster: unescapeToken(at(4)), namespace: namespaceFromToken(at(5)), storyId: unescapeToken(at(6)) };
      case "dlq":
        return { stage, service: unescapeToken(at(3)), failedStage: unescapeToken(at(4)) };
      case "control":
        return { stage, service: unescapeToken(at(3)), verb: unescapeToken(at(4)) };
    }
  } catch (err) {
    if (err instanceof SubjectError && err.subject !== subject) {
      throw new SubjectError(subject, err.message, { cause: err });
    }
    throw err;
  }
}

// undefined → "*" (any); a value → its escaped token.
const tok = (v: string | undefined): string => (v === undefined ? "*" : escapeToken(v));
const nsTok = (v: string | undefined): string => (v === undefined ? "*" : namespaceToken(v));

/**
 * Selects raw/clean subjects. Unset fields match anything. For category obj, a is the qualified resource
 * ("pods", "deployments.apps") and b the object name; event: involved kind / name; log: pod / container.
 */
export interface TargetFilter {
  cluster?: string;
  namespace?: string;
  category?: RawCategory;
  a?: string;
  b?: string;
}

/** e.g. rawFilter({ category: "obj", a: "pods" }) → "faro.v1.raw.*.*.obj.pods.*" */
export function rawFilter(f: TargetFilter = {}): string {
  return `${SUBJECT_PREFIX}.raw.${tok(f.cluster)}.${nsTok(f.namespace)}.${f.category ?? "*"}.${tok(f.a)}.${tok(f.b)}`;
}

export function cleanFilter(f: TargetFilter & { tenant?: string } = {}): string {
  return `${SUBJECT_PREFIX}.clean.${tok(f.tenant)}.${tok(f.cluster)}.${nsTok(f.namespace)}.${f.category ?? "*"}.${tok(f.a)}.${tok(f.b)}`;
}

export function storyFilter(f: { tenant?: string; cluster?: string; namespace?: string; storyId?: string } = {}): string {
  return `${SUBJECT_PREFIX}.story.${tok(f.tenant)}.${tok(f.cluster)}.${nsTok(f.namespace)}.${tok(f.storyId)}`;
}

/** e.g. incidentFilter({ namespace: "shop" }) → "faro.v1.incident.*.*.shop.*" */
export function incidentFilter(f: { tenant?: string; cluster?: string; namespace?: string; reason?: string } = {}): string {
  return `${SUBJECT_PREFIX}.incident.${tok(f.tenant)}.${tok(f.cluster)}.${nsTok(f.namespace)}.${tok(f.reason)}`;
}

/** e.g. insightFilter({ storyId }) → "faro.v1.insight.*.*.*.s-0123456789abcdef" */
export function insightFilter(f: { tenant?: string; cluster?: string; namespace?: string; storyId?: string } = {}): string {
  return `${SUBJECT_PREFIX}.insight.${tok(f.tenant)}.${tok(f.cluster)}.${nsTok(f.namespace)}.${tok(f.storyId)}`;
}

export function dlqFilter(f: { service?: string; stage?: string } = {}): string {
  return `${SUBJECT_PREFIX}.dlq.${tok(f.service)}.${tok(f.stage)}`;
}
