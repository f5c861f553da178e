// Compares story files with the simulator's ground truth, one deployment at a time: every pod instance, every
// Event, every log line once, the incident its scenario must produce. The only lines allowed missing are those of
// short-lived instances the story files list as unread. Shared by the end-to-end tests (pipeline, hub).
import type { ReadStory } from "@faro/cli";
import type { Cluster } from "@faro/kube-sim";

/** Everything the story files hold about one deployment (all its windows). */
export function storyOf(stories: readonly ReadStory[], name: string) {
  const files = stories.filter((s) => s.story.workload.kind === "Deployment" && s.story.workload.name === name && s.story.namespace === "default");
  return {
    files,
    pods: files.flatMap((f) => f.story.pods),
    timeline: files.flatMap((f) => f.story.timeline),
    incidents: files.flatMap((f) => f.story.incidents),
  };
}

/** At most this many lines written (a pod living ~1 s of real time at 20× speed) may be lost with its pod. */
const MAX_UNREAD_LINES = 20;

const ownedBy = (name: string, objectName: string | undefined) => objectName === name || (objectName ?? "").startsWith(`${name}-`);

/**
 * Differences between the ground truth of `cluster` and the files for its deployment `name` in namespace
 * `default`; empty when they agree. `reason`: the incident the deployment must have. What was accepted without
 * being a problem (lines of unread short-lived instances) is added to `notes`.
 */
export function compareWithTruth(cluster: Cluster, stories: readonly ReadStory[], name: string, reason: string | undefined, notes: string[] = []): string[] {
  const problems: string[] = [];
  const s = storyOf(stories, name);
  if (s.files.length === 0) return [`${name}: no story file`];
  for (const f of s.files) if (f.errors.length) problems.push(`${f.path}: ${f.errors.slice(0, 3).join("; ")}`);

  // Pods: every pod the cluster ever had for this deployment, each once per window.
  const truthPods = new Set(cluster.truth.changes({ kind: "Pod", namespace: "default" }).filter((c) => ownedBy(name, c.name)).map((c) => c.uid));
  for (const f of s.files) {
    const uids = f.story.pods.map((p) => p.uid);
    if (new Set(uids).size !== uids.length) problems.push(`${name}: a pod appears twice in ${f.path}`);
  }
  const storyPods = new Set(s.pods.map((p) => p.uid));
  for (const uid of truthPods) if (!storyPods.has(uid)) problems.push(`${name}: pod ${uid} missing`);

  // Events: every (Event, count) the cluster recorded for the deployment, its ReplicaSets and pods.
  const truthEvents = new Set(
    cluster.truth
      .events({ namespace: "default" })
      .filter((e) => e.type !== "DELETED" && ownedBy(name, e.involvedObject.name))
      .map((e) => `${e.name}#${e.count}`),
  );
  const storyEvents = new Set(s.timeline.filter((t) => t.kind === "event").map((t) => `${String(t.data.name)}#${String(t.data.count)}`));
  for (const k of truthEvents) if (!storyEvents.has(k)) problems.push(`${name}: event ${k} missing`);

  // Log lines: exactly the lines every container instance wrote, none twice. One exception: an instance
  // whose pod was deleted before its log was read loses its lines for good (as in Kubernetes). That is
  // excused only for a short-lived instance (at most MAX_UNREAD_LINES lines written) that the story files
  // list in unreadLogs; any other gap fails.
  const instance = (pod: string, container: string, restart: number) => `${pod}/${container}#${restart}`;
  const key = (pod: string, container: string, restart: number, ts: string, line: string) => `${instance(pod, container, restart)} ${ts} ${line}`;
  const instanceOfKey = (k: string) => k.slice(0, k.indexOf(" "));
  const truthLines = cluster.truth
    .lines({ namespace: "default" })
    .filter((l) => ownedBy(name, l.pod))
    .map((l) => key(l.pod, l.container, l.restartCount, l.timestamp, l.line));
  const storyLines: string[] = [];
  for (const t of s.timeline) {
    if (t.kind !== "log") continue;
    const d = t.data as { container: string; restartCount: number; lines: { timestamp: string; line: string }[] };
    for (const l of d.lines) storyLines.push(key(t.pod ?? "?", d.container, d.restartCount, l.timestamp, l.line));
  }
  const seen = new Set<string>();
  for (const l of storyLines) {
    if (seen.has(l)) problems.push(`${name}: duplicate log line ${l}`);
    seen.add(l);
  }
  const countBy = (keys: readonly string[]) => {
    const m = new Map<string, number>();
    for (const k of keys) m.set(instanceOfKey(k), (m.get(instanceOfKey(k)) ?? 0) + 1);
    return m;
  };
  const wrote = countBy(truthLines);
  const unread = new Map<string, string>();
  for (const f of s.files) for (const u of f.story.unreadLogs ?? []) unread.set(instance(u.pod, u.container, u.restartCount), u.reason);
  const truthSet = new Set(truthLines);
  const missing = truthLines.filter((l) => !seen.has(l));
  const unexcused = missing.filter((l) => {
    const inst = instanceOfKey(l);
    return !unread.has(inst) || (wrote.get(inst) ?? 0) > MAX_UNREAD_LINES;
  });
  if (unexcused.length) {
    const byInstance = countBy(unexcused);
    const why = (inst: string) => (unread.has(inst) ? ` [unread ${unread.get(inst)}, wrote ${wrote.get(inst)} > ${MAX_UNREAD_LINES}]` : "");
    problems.push(`${name}: ${unexcused.length} of ${truthLines.length} log lines missing (${[...byInstance].map(([k, n]) => `${k}: ${n}${why(k)}`).join(", ")}), e.g. ${unexcused[0]}`);
  }
  const unexcusedSet = new Set(unexcused);
  const excused = countBy(missing.filter((l) => !unexcusedSet.has(l)));
  if (excused.size) notes.push(`${name}: lines of ${excused.size} unread short-lived instance(s) missing, as the story says (${[...excused].map(([k, n]) => `${k}: ${n}`).join(", ")})`);
  // An instance marked unread whose lines are in the story contradicts it, for "gone_before_read": the
  // log-streamer says so only when it committed no line of the instance (seq 0). An instance that wrote
  // nothing cannot contradict it (the streamer cannot tell "wrote nothing" from "could not read").
  // "not_served" may come with lines, even all of them: the streamer read what the API served but could
  // not confirm the log's end (restarted twice since, or never seen running), so it cannot know whether
  // lines were left.
  const present = countBy(storyLines.filter((l) => truthSet.has(l)));
  for (const [inst, reason] of unread) {
    if (reason === "gone_before_read" && (present.get(inst) ?? 0) > 0) problems.push(`${name}: ${inst} is marked unread (${reason}) but ${present.get(inst)} of its ${wrote.get(inst) ?? 0} lines are in the story`);
  }
  const extra = storyLines.filter((l) => !truthSet.has(l));
  if (extra.length) problems.push(`${name}: ${extra.length} log lines the cluster never wrote, e.g. ${extra[0]}`);

  if (reason && !s.incidents.some((i) => i.reason === reason)) problems.push(`${name}: no ${reason} incident (have ${s.incidents.map((i) => i.reason).join(", ") || "none"})`);
  return problems.slice(0, 20);
}
