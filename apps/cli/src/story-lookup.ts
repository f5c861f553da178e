// Finding stories the way people name workloads: `shop/payments`, `deployment/payments`, `shop/deploy/payments`,
// a story id or file; and the one-row-per-story listing of `faro stories ls`.
import { findStoryFile, StoryNotFoundError } from "@faro/writer";
import { CommandError, UsageError } from "./errors.js";
import { readStoryFiles, type ReadStory } from "./story-files.js";

/** kubectl's names and short names of the workload kinds → the Kind. */
const KINDS: Record<string, string> = {
  deploy: "Deployment",
  deployment: "Deployment",
  deployments: "Deployment",
  sts: "StatefulSet",
  statefulset: "StatefulSet",
  statefulsets: "StatefulSet",
  ds: "DaemonSet",
  daemonset: "DaemonSet",
  daemonsets: "DaemonSet",
  rs: "ReplicaSet",
  replicaset: "ReplicaSet",
  replicasets: "ReplicaSet",
  job: "Job",
  jobs: "Job",
  cj: "CronJob",
  cronjob: "CronJob",
  cronjobs: "CronJob",
  po: "Pod",
  pod: "Pod",
  pods: "Pod",
  node: "Node",
  nodes: "Node",
  no: "Node",
  ns: "Namespace",
  namespace: "Namespace",
  namespaces: "Namespace",
};

/** `deploy` → Deployment; a kind not in the list (a CRD's) is returned as written, or undefined with `known`. */
export function kindOf(alias: string, known = false): string | undefined {
  return KINDS[alias.toLowerCase()] ?? (known ? undefined : alias);
}

export interface StoryRef {
  namespace?: string;
  kind?: string;
  name: string;
}

/**
 * `payments` | `shop/payments` | `deployment/payments` | `shop/deployment/payments`: with two parts the first is a
 * kind when it is one kubectl knows (deploy, sts, …), else the namespace.
 */
export function parseStoryRef(ref: string): StoryRef {
  const parts = ref.split("/");
  if (parts.some((p) => p === "") || parts.length > 3) throw new UsageError(`want NAME, NAMESPACE/NAME, KIND/NAME or NAMESPACE/KIND/NAME, got "${ref}"`, "stories");
  if (parts.length === 1) return { name: parts[0]! };
  if (parts.length === 3) return { namespace: parts[0]!, kind: kindOf(parts[1]!)!, name: parts[2]! };
  const kind = kindOf(parts[0]!, true);
  return kind ? { kind, name: parts[1]! } : { namespace: parts[0]!, name: parts[1]! };
}

export interface StoryFilters {
  cluster?: string;
  namespace?: string;
  kind?: string;
}

const sameKind = (a: string | undefined, b: string | undefined) => a === undefined || b === undefined || a.toLowerCase() === b.toLowerCase();

function matches(s: ReadStory, ref: StoryRef | undefined, f: StoryFilters): boolean {
  const st = s.story;
  if (f.cluster !== undefined && st.cluster !== f.cluster) return false;
  if (f.namespace !== undefined && st.namespace !== f.namespace) return false;
  if (!sameKind(f.kind, st.workload?.kind)) return false;
  if (!ref) return true;
  if (ref.namespace !== undefined && st.namespace !== ref.namespace) return false;
  if (!sameKind(ref.kind, st.workload?.kind)) return false;
  return st.workload?.name === ref.name;
}

/** The last time in a story: its close, else its newest timeline entry, else its opening. */
export function lastActivity(s: ReadStory): string {
  return s.story.closedAt ?? s.story.timeline?.at(-1)?.timestamp ?? s.story.openedAt ?? "";
}

export interface StoryRow {
  /** The newest window's file. */
  newest: ReadStory;
  /** Windows of the story in the directory. */
  windows: number;
}

/** One row per story (cluster + story id): its newest window, sorted by cluster, namespace, workload. */
export function storyRows(dir: string, f: StoryFilters = {}): StoryRow[] {
  const byStory = new Map<string, StoryRow>();
  for (const s of readStoryFiles(dir, { validate: false })) {
    if (!s.story.storyId || !matches(s, undefined, f)) continue;
    const key = `${s.story.cluster}\u0000${s.story.storyId}`;
    const row = byStory.get(key);
    if (!row) byStory.set(key, { newest: s, windows: 1 });
    else {
      row.windows++;
      if (s.story.window > row.newest.story.window) row.newest = s;
    }
  }
  const key = (r: StoryRow) => [r.newest.story.cluster, r.newest.story.namespace, r.newest.story.workload?.kind ?? "", r.newest.story.workload?.name ?? ""].join("\u0000");
  return [...byStory.values()].sort((a, b) => key(a).localeCompare(key(b)));
}

export interface Resolved {
  path: string;
  /** Other clusters holding the same workload's story (the newest run's is shown). */
  otherClusters: string[];
}

/**
 * The file a reference names: a path, file stem, story id or unique prefix (as before), else a workload by name.
 * Several workloads match → UsageError listing them; the same workload in several clusters → the one with the
 * newest activity (others named in `otherClusters`); its newest window.
 */
export async function resolveStory(dir: string, refText: string, f: StoryFilters = {}): Promise<Resolved> {
  if (/^s-[0-9a-f]/.test(refText) || refText.endsWith(".json")) {
    try {
      return { path: await findStoryFile(dir, refText), otherClusters: [] };
    } catch (err) {
      if (!(err instanceof StoryNotFoundError)) throw new CommandError(`cannot look up "${refText}" in ${dir}: ${(err as Error).message}`, "stories", { cause: err });
      if (refText.endsWith(".json")) throw new CommandError(`${err.message} (see: faro stories ls --dir ${dir})`, "stories", { cause: err });
    }
  }
  const ref = parseStoryRef(refText);
  const found = readStoryFiles(dir, { validate: false }).filter((s) => matches(s, ref, f));
  if (found.length === 0) {
    const where = [f.cluster && `cluster ${f.cluster}`, f.namespace && `namespace ${f.namespace}`, f.kind && `kind ${f.kind}`].filter(Boolean).join(", ");
    throw new CommandError(`no story of "${refText}"${where ? ` (${where})` : ""} in ${dir} — list them with: faro stories ls --dir ${dir}`, "stories");
  }
  const workloads = new Map<string, string>();
  for (const s of found) {
    const w = s.story.workload;
    workloads.set(`${s.story.namespace}/${w.kind}/${w.name}`, `${s.story.namespace || "(cluster)"}/${w.kind.toLowerCase()}/${w.name}`);
  }
  if (workloads.size > 1) throw new UsageError(`"${refText}" names ${workloads.size} workloads: ${[...workloads.values()].sort().join(", ")} — name one as NAMESPACE/KIND/NAME`, "stories");
  const newestOf = new Map<string, string>();
  for (const s of found) {
    const t = lastActivity(s);
    if ((newestOf.get(s.story.cluster) ?? "") < t) newestOf.set(s.story.cluster, t);
  }
  const clusters = [...newestOf].sort((a, b) => (a[1] < b[1] ? 1 : a[1] > b[1] ? -1 : 0)).map(([c]) => c);
  const chosen = found.filter((s) => s.story.cluster === clusters[0]).sort((a, b) => b.story.window - a.story.window || (lastActivity(b) < lastActivity(a) ? -1 : 1));
  return { path: chosen[0]!.path, otherClusters: clusters.slice(1) };
}
