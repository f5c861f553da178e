// What one pipeline owns on a shared bus: every durable consumer name and every default Redis key prefix is
// scoped by the pipeline's cluster (the `cluster` setting, a DNS label), and every consumer group filters on
// that cluster's subjects, so many pipelines share one NATS and one Redis without touching each other's
// state (docs/architecture.md#topologies).
import { SUBJECT_PREFIX, unescapeToken } from "@faro/contracts";

/** Between the cluster and the name of a durable: neither a DNS label nor a service name contains it. */
export const SCOPE_SEPARATOR = "_";

/** `<cluster>_<name>`: the name of the durable consumer `name` of the pipeline of `cluster` (`prod-eu1_filter`). */
export function scopedDurable(cluster: string, name: string): string {
  return `${cluster}${SCOPE_SEPARATOR}${name}`;
}

/** `faro:<cluster>:<suffix>`: the default prefix of a service's Redis keys (`faro:prod-eu1:ls`). */
export function scopedKeyPrefix(cluster: string, suffix = ""): string {
  return `faro:${cluster}:${suffix}`;
}

/** Position of the cluster token in the subjects of each stage that carries one (faro.v1.<stage>.…). */
const CLUSTER_TOKEN_AT: Readonly<Record<string, number>> = { raw: 3, clean: 4, story: 4, incident: 4, insight: 4 };

/**
 * The cluster a filter subject on a Faro stream is pinned to: its cluster token (raw: the 4th token,
 * clean/story/incident/insight: the 5th), unescaped; undefined when that token is a wildcard, missing, or the stage
 * carries no cluster (dlq, control) or is not Faro's.
 */
export function filterCluster(filter: string): string | undefined {
  const tokens = filter.split(".");
  if (`${tokens[0]}.${tokens[1]}` !== SUBJECT_PREFIX) return undefined;
  const at = CLUSTER_TOKEN_AT[tokens[2] ?? ""];
  if (at === undefined) return undefined;
  // A ">" before the cluster position swallows it.
  if (tokens.slice(0, at).includes(">")) return undefined;
  const token = tokens[at];
  if (token === undefined || token === "*" || token === ">") return undefined;
  try {
    return unescapeToken(token);
  } catch {
    return undefined;
  }
}

/** The names one pipeline owns, as services see them on their KernelContext. */
export interface PipelineScope {
  /** The `cluster` setting. */
  readonly cluster: string;
  /** `<cluster>_<name>`: what the kernel names a consumer group's durable `name`. */
  durable(name: string): string;
  /** The configured prefix when set, else `faro:<cluster>:<suffix>` (a service's Redis keys). */
  keyPrefix(configured: string | undefined, suffix?: string): string;
}

export function pipelineScope(cluster: string): PipelineScope {
  return Object.freeze({
    cluster,
    durable: (name: string) => scopedDurable(cluster, name),
    keyPrefix: (configured: string | undefined, suffix = "") => configured ?? scopedKeyPrefix(cluster, suffix),
  });
}
