// The story told in words: one plain sentence per timeline entry and a short account of what led to each incident.
import { storyTimelineData, type StoryEntry, type StoryFile, type StoryIncident, type StoryLogLine, type StoryPod, type StoryTimelineEntry } from "@faro/contracts";
import { clock, cut, duration, ms, plural, quote } from "./format.js";

/** How a sentence reads: `error` for failures, `warning` for Kubernetes warnings, `info` otherwise. */
export type Tone = "info" | "warning" | "error";

export interface NarratedEntry {
  seq: number;
  timestamp: string;
  kind: string;
  pod?: string;
  container?: string;
  sentence: string;
  tone: Tone;
}

/** What the sentences need to know beyond one entry: pod instances, log lines per instance, replacements. */
interface StoryIndex {
  pods: Map<string, StoryPod>;
  /** Old pod name → the pod that replaced it. */
  replacedBy: Map<string, string>;
  /** `<pod>/<container>#<restartCount>` → its lines in story order. */
  logs: Map<string, StoryLogLine[]>;
}

const indexes = new WeakMap<StoryFile, StoryIndex>();
/** Without a story (one entry off the bus), sentences do without durations in hindsight and last lines. */
const NO_CONTEXT: StoryIndex = { pods: new Map(), replacedBy: new Map(), logs: new Map() };

const instanceKey = (pod: string, container: string, restartCount: number) => `${pod}/${container}#${restartCount}`;

function indexOf(story: StoryFile | undefined): StoryIndex {
  if (!story) return NO_CONTEXT;
  const known = indexes.get(story);
  if (known) return known;
  const pods = new Map((story.pods ?? []).map((p) => [p.name, p]));
  const replacedBy = new Map<string, string>();
  const logs = new Map<string, StoryLogLine[]>();
  for (const e of story.timeline ?? []) {
    if (e.kind === "lifecycle" && e.data["what"] === "replaced" && typeof e.data["replacesPod"] === "string" && e.pod) replacedBy.set(e.data["replacesPod"], e.pod);
    if (e.kind === "log" && e.pod) {
      const key = instanceKey(e.pod, str(e.data["container"]) ?? e.container ?? "", num(e.data["restartCount"]) ?? 0);
      const lines = Array.isArray(e.data["lines"]) ? (e.data["lines"] as StoryLogLine[]) : [];
      const acc = logs.get(key);
      if (acc) for (const l of lines) acc.push(l);
      else logs.set(key, [...lines]);
    }
  }
  const index = { pods, replacedBy, logs };
  indexes.set(story, index);
  return index;
}

function str(v: unknown): string | undefined {
  return typeof v === "string" && v !== "" ? v : undefined;
}

function num(v: unknown): number | undefined {
  return typeof v === "number" && Number.isFinite(v) ? v : undefined;
}

const code = (name: string) => `\`${name}\``;

/** The log lines of one container instance (as far as the story has them), in order. */
export function instanceLog(story: StoryFile | undefined, pod: string, container: string, restartCount: number): StoryLogLine[] {
  return indexOf(story).logs.get(instanceKey(pod, container, restartCount)) ?? [];
}

/** The last non-empty line an instance logged at or before `untilMs` (its end), if the story has it. */
function lastLine(story: StoryFile | undefined, pod: string, container: string, restartCount: number, untilMs?: number): string | undefined {
  const lines = instanceLog(story, pod, container, restartCount);
  for (let i = lines.length - 1; i >= 0; i--) {
    const l = lines[i]!;
    const t = ms(l.timestamp);
    // A line stamped within a second after the reported finish still belongs to the instance (second-precision status times).
    if (untilMs !== undefined && t !== undefined && t > untilMs + 1000) continue;
    if (l.line.trim() !== "") return l.line;
  }
  return undefined;
}

function exitText(exitCode: number | undefined, reason: string | undefined): string {
  if (exitCode === undefined) return reason ? `stopped (${reason})` : "stopped";
  return `exited ${exitCode}${reason ? ` (${reason})` : ""}`;
}

function lifecycleSentence(e: StoryTimelineEntry, story: StoryFile | undefined): [string, Tone] {
  const d = e.data;
  const container = str(d["container"]) ?? e.container ?? "";
  const restart = num(d["restartCount"]) ?? 0;
  switch (d["what"]) {
    case "scheduled":
      return [`scheduled on ${str(d["node"]) ?? "a node"}`, "info"];
    case "phase":
      return [`pod ${str(d["phase"]) ?? "phase unknown"}${str(d["previous"]) ? ` (was ${str(d["previous"])})` : ""}`, d["phase"] === "Failed" ? "error" : "info"];
    case "started":
      return [restart > 0 ? `container ${code(container)} started again (restart ${restart})` : `container ${code(container)} started`, "info"];
    case "restarted": {
      const exitCode = num(d["exitCode"]);
      const reason = str(d["reason"]);
      if (exitCode === undefined && !reason) return [`container ${code(container)} restarted (restart ${restart})`, "warning"];
      const started = ms(str(d["startedAt"]));
      const finished = ms(str(d["finishedAt"]));
      const ran = started !== undefined && finished !== undefined ? ` after ${duration(finished - started)}` : "";
      const line = e.pod ? lastLine(story, e.pod, container, restart - 1, finished) : undefined;
      // The next instance's start says, in hindsight, how long the kubelet backed off.
      const next = e.pod ? indexOf(story).pods.get(e.pod)?.containers.find((c) => c.name === container)?.instances.find((i) => i.restartCount === restart) : undefined;
      const nextStart = ms(next?.startedAt);
      const backoff = nextStart !== undefined && finished !== undefined && nextStart >= finished ? `, back-off ${duration(nextStart - finished)}` : "";
      const waiting = str(d["waiting"]);
      return [
        `container ${code(container)} ${exitText(exitCode, reason)}${ran}${line ? ` (${quote(line)})` : ""}; restarted${backoff}${waiting ? ` (${waiting})` : ""}`,
        exitCode === 0 ? "warning" : "error",
      ];
    }
    case "terminated": {
      const exitCode = num(d["exitCode"]);
      const started = ms(str(d["startedAt"]));
      const finished = ms(str(d["finishedAt"]));
      const ran = started !== undefined && finished !== undefined ? ` after ${duration(finished - started)}` : "";
      const line = exitCode !== 0 && e.pod ? lastLine(story, e.pod, container, restart, finished) : undefined;
      return [`container ${code(container)} ${exitText(exitCode, str(d["reason"]))}${ran}${line ? ` (${quote(line)})` : ""}`, exitCode === 0 ? "info" : "error"];
    }
    case "terminating":
      return [`pod terminating${str(d["deletionTimestamp"]) ? `, grace period until ${clock(str(d["deletionTimestamp"]))}` : ""}`, "info"];
    case "deleted": {
      const by = e.pod ? indexOf(story).replacedBy.get(e.pod) : undefined;
      return [`pod deleted${by ? `; replaced by pod ${by}` : ""}`, "info"];
    }
    case "replaced":
      return [`replaces pod ${str(d["replacesPod"]) ?? str(d["replacesPodUid"]) ?? "(unknown)"}`, "info"];
    default:
      return [e.summary, "info"];
  }
}

/** `Pulling image "shop/payments:0.9.3"` → shop/payments:0.9.3 */
function imageOf(message: string): string | undefined {
  return /image "([^"]+)"/.exec(message)?.[1];
}

function eventSentence(e: StoryTimelineEntry): [string, Tone] {
  const d = e.data;
  const reason = str(d["reason"]) ?? "";
  const message = typeof d["message"] === "string" ? d["message"] : "";
  const warning = d["type"] === "Warning";
  const count = num(d["count"]) ?? 1;
  const times = count > 1 ? ` (×${count})` : "";
  const container = /container "?([A-Za-z0-9._-]+)"?/.exec(message)?.[1];
  const image = imageOf(message);
  let text: string;
  switch (reason) {
    case "Scheduled":
      text = `scheduler assigned the pod to ${/ to (\S+)$/.exec(message)?.[1] ?? "a node"}`;
      break;
    case "Pulling":
      text = `pulling image ${image ?? "(unknown)"}`;
      break;
    case "Pulled": {
      const took = /pulled image "[^"]+" in (\S+?)(?: \(|\.? |$)/.exec(message)?.[1];
      text = /already present/.test(message) ? `image ${image ?? ""} already on the node` : `image ${image ?? ""} pulled${took ? ` in ${took}` : ""}`;
      break;
    }
    case "Created":
      text = container ? `container ${code(container)} created` : `created: ${quote(message)}`;
      break;
    case "Started":
      text = container ? `kubelet started container ${code(container)}` : `started: ${quote(message)}`;
      break;
    case "Killing":
      text = container ? `kubelet stopping container ${code(container)}` : `kubelet stopping: ${quote(message)}`;
      break;
    case "BackOff":
      text = /pulling image/i.test(message) ? `kubelet backing off pulling image ${image ?? ""}` : `kubelet backing off before restarting container ${code(container ?? "?")}`;
      break;
    case "Failed":
      text = /Failed to pull image/.test(message)
        ? `cannot pull image ${image ?? "(unknown)"}${/not ?found/i.test(message) ? " (not found)" : ""}`
        : /ErrImagePull|ImagePullBackOff/.test(message)
          ? `image pull failing: ${quote(message, 80)}`
          : `failed: ${quote(message)}`;
      break;
    case "ScalingReplicaSet":
      text = message ? message.charAt(0).toLowerCase() + message.slice(1) : "scaling";
      break;
    case "SuccessfulCreate":
      text = /^Created pod: (\S+)/.test(message) ? `created pod ${/^Created pod: (\S+)/.exec(message)![1]}` : `created: ${quote(message)}`;
      break;
    case "SuccessfulDelete":
      text = /^Deleted pod: (\S+)/.test(message) ? `deleted pod ${/^Deleted pod: (\S+)/.exec(message)![1]}` : `deleted: ${quote(message)}`;
      break;
    default:
      text = `${warning ? "warning " : ""}${reason || "event"}: ${quote(message)}`;
  }
  return [`${text}${times}`, warning ? "warning" : "info"];
}

interface DiffOp {
  path?: string;
  op?: string;
  from?: unknown;
  to?: unknown;
}

function short(v: unknown): string {
  if (v === undefined) return "∅";
  const s = typeof v === "string" ? v : JSON.stringify(v);
  return cut(s ?? String(v), 40);
}

function leaf(path: string): string {
  return path.split("/").filter(Boolean).slice(-1)[0] ?? path;
}

/** The sentence of a change: created, deleted, scaled, a new image, bound to a node, or its first field changes. */
export function describeChange(kind: string, name: string, type: string | undefined, diff: unknown): string {
  const ops = Array.isArray(diff) ? (diff as DiffOp[]) : [];
  if (type === "ADDED" || (ops.length === 1 && ops[0]!.path === "" && ops[0]!.op === "add")) return `${kind} ${name} created`;
  if (type === "DELETED" || (ops.length === 1 && ops[0]!.path === "" && ops[0]!.op === "remove")) return `${kind} ${name} deleted`;
  const subject = `${kind} ${name}`;
  const replicas = ops.find((o) => o.path === "/spec/replicas");
  if (replicas) return `${subject} scaled from ${short(replicas.from)} to ${short(replicas.to)}`;
  const image = ops.find((o) => /\/containers\/\d+\/image$/.test(o.path ?? ""));
  if (image) return `${subject}: image changed to ${short(image.to)}`;
  const node = ops.find((o) => o.path === "/spec/nodeName");
  if (node) return `${subject} bound to node ${short(node.to)}`;
  if (ops.length === 0) return `${subject} changed`;
  const statusOnly = ops.every((o) => (o.path ?? "").startsWith("/status"));
  const shown = ops
    .filter((o) => o.op === "replace" || typeof o.to !== "object")
    .slice(0, 2)
    .map((o) => (o.op === "remove" ? `${leaf(o.path ?? "")} removed` : o.op === "replace" ? `${leaf(o.path ?? "")} ${short(o.from)} → ${short(o.to)}` : `${leaf(o.path ?? "")} ${short(o.to)}`));
  const rest = ops.length - shown.length;
  const what = shown.length ? `: ${shown.join(", ")}${rest > 0 ? ` and ${plural(rest, "more field")}` : ""}` : ` (${plural(ops.length, "field")})`;
  return `${subject}${statusOnly ? " status" : ""} changed${what}`;
}

function logSentence(e: StoryTimelineEntry): [string, Tone] {
  const d = e.data;
  const restart = num(d["restartCount"]) ?? 0;
  const unread = (d["unread"] as { reason?: string } | undefined)?.reason;
  if (unread) {
    const why =
      unread === "gone_before_read" ? "the pod was deleted before its log was read" : unread === "not_served" ? "the API no longer serves it" : unread;
    return [`log of restart ${restart} lost: ${why}`, "warning"];
  }
  const lines = Array.isArray(d["lines"]) ? (d["lines"] as StoryLogLine[]) : [];
  const elided = num(d["elidedLines"]);
  const tail = elided ? `; ${plural(elided, "line")} left out of the file` : "";
  if (lines.length === 0) return [`no log lines${tail}`, "info"];
  const last = lines[lines.length - 1]!.line;
  return [lines.length === 1 ? `logged ${quote(last)}${tail}` : `logged ${lines.length} lines, the last ${quote(last)}${tail}`, "info"];
}

function incidentSentence(e: StoryTimelineEntry): [string, Tone] {
  const d = e.data;
  const container = str(d["container"]);
  const exitCode = num(d["exitCode"]);
  const repeat = num(d["repeatCount"]) ?? 1;
  const bits = [container ? `container ${code(container)}` : "", exitCode !== undefined ? `exit code ${exitCode}` : "", repeat > 1 ? `seen ${repeat} times` : ""].filter(Boolean);
  return [`${d["isUpdate"] === true ? "incident updated" : "incident"}: ${str(d["reason"]) ?? "?"} (${str(d["severity"]) ?? "?"})${bits.length ? `, ${bits.join(", ")}` : ""}`, "error"];
}

/**
 * One plain sentence for one timeline entry; `story` gives the context (back-off durations, last log lines,
 * replacements). Without it (a live entry) the sentence says what the entry alone says.
 */
export function narrateEntry(e: StoryTimelineEntry, story?: StoryFile): NarratedEntry {
  const d = e.data ?? {};
  let told: [string, Tone];
  switch (e.kind) {
    case "open": {
      const root = d["root"] as { kind?: string; name?: string } | undefined;
      const prev = num(d["previousWindow"]);
      const what = `${root?.kind ?? story?.workload?.kind ?? ""} ${root?.name ?? story?.workload?.name ?? ""}`.trim();
      told = [prev !== undefined ? `story of ${what} continues in window ${String(d["window"])} (after window ${prev})` : `story of ${what} begins`, "info"];
      break;
    }
    case "change":
      told = [describeChange(str(d["kind"]) ?? "object", str(d["name"]) ?? "", str(d["type"]), d["diff"]), "info"];
      break;
    case "lifecycle":
      told = lifecycleSentence(e, story);
      break;
    case "event":
      told = eventSentence(e);
      break;
    case "log":
      told = logSentence(e);
      break;
    case "incident":
      told = incidentSentence(e);
      break;
    case "close": {
      const why = str(d["why"]) ?? "closed";
      told = [`window closed: ${why.replace(/[-_]/g, " ")}${num(d["next"]) !== undefined ? `; the story continues in window ${String(d["next"])}` : ""}`, "info"];
      break;
    }
    case "snapshot":
      told = ["snapshot of the open window", "info"];
      break;
    default:
      told = [e.summary, "info"];
  }
  return {
    seq: e.seq,
    timestamp: e.timestamp,
    kind: e.kind,
    ...(e.pod ? { pod: e.pod } : {}),
    ...(e.container ? { container: e.container } : {}),
    sentence: told[0],
    tone: told[1],
  };
}

/** A story entry off the bus (`faro tail`) as a sentence: the same words as in the file, without hindsight. */
export function narrateStoryEntry(entry: StoryEntry): NarratedEntry {
  const data = storyTimelineData(entry);
  const container = typeof data["container"] === "string" && data["container"] !== "" ? data["container"] : undefined;
  return narrateEntry({
    seq: Number(entry.seq),
    timestamp: entry.timestamp,
    kind: entry.entryKind,
    summary: entry.summary,
    ...(entry.pod?.name ? { pod: entry.pod.name } : {}),
    ...(container ? { container } : {}),
    data,
  });
}

/** Every entry of the story as a sentence, in story order. */
export function narrateStory(story: StoryFile): NarratedEntry[] {
  return (story.timeline ?? []).map((e) => narrateEntry(e, story));
}

interface IncidentPodRef {
  name?: string;
  node?: string;
}

/** The time an incident is about: the cluster's time of its status (k8sTimestamp/lastSeen) before the receipt time. */
export function incidentTime(i: StoryIncident): string {
  return str(i["k8sTimestamp"]) ?? str(i["lastSeen"]) ?? i.detectedAt;
}

/**
 * A short account of what led to an incident: the change that started the pod's story, where the pod ran,
 * how the container's runs ended, its last log line and the warnings Kubernetes gave.
 */
export function narrateIncident(i: StoryIncident, story: StoryFile): string {
  const out: string[] = [];
  const ref = (i["pod"] ?? {}) as IncidentPodRef;
  const podName = ref.name ?? story.timeline.find((e) => e.kind === "incident" && e.data["incidentId"] === i.incidentId)?.pod;
  const pod = podName ? indexOf(story).pods.get(podName) : undefined;
  const at = ms(incidentTime(i));

  const changes = Array.isArray(i["recentChanges"]) ? (i["recentChanges"] as Array<{ timestamp?: string; kind?: string; name?: string; diff?: unknown }>) : [];
  // The newest change to the spec (not the status) before the incident: what someone did.
  // Pods change as a consequence (binding, status), so the cause is a workload's change.
  const cause = [...changes].reverse().find((c) => {
    const ops = Array.isArray(c.diff) ? (c.diff as DiffOp[]) : [];
    return c.kind !== "Pod" && (ms(c.timestamp) ?? 0) <= (at ?? Infinity) && ops.some((o) => !(o.path ?? "").startsWith("/status") && !(o.path ?? "").startsWith("/metadata"));
  });
  if (cause?.kind && cause.name) out.push(`${describeChange(cause.kind, cause.name, undefined, cause.diff)} at ${clock(cause.timestamp)}.`);

  if (podName) out.push(`Pod ${podName} ran on ${ref.node || pod?.node || "an unknown node"}${pod?.createdAt ? ` from ${clock(pod.createdAt)}` : ""}.`);

  const container = i.container;
  const instances = (pod?.containers.find((c) => c.name === container)?.instances ?? []).filter((x) => x.finishedAt && (at === undefined || (ms(x.finishedAt) ?? 0) <= at + 1000));
  if (container && instances.length > 0) {
    const runs = instances.map((x) => {
      const s = ms(x.startedAt);
      const f = ms(x.finishedAt);
      return { exit: exitText(x.exitCode, x.reason), ran: s !== undefined && f !== undefined ? f - s : undefined };
    });
    const same = runs.every((r) => r.exit === runs[0]!.exit);
    if (runs.length === 1) out.push(`Container ${code(container)} ${runs[0]!.exit}${runs[0]!.ran !== undefined ? ` after ${duration(runs[0]!.ran)}` : ""}.`);
    else if (same) {
      const known = runs.filter((r) => r.ran !== undefined).map((r) => r.ran!);
      const avg = known.length ? ` after about ${duration(known.reduce((a, b) => a + b, 0) / known.length)} each time` : "";
      out.push(`Container ${code(container)} ran ${runs.length} times and ${runs[0]!.exit}${avg}.`);
    } else out.push(`Container ${code(container)} ran ${runs.length} times: ${runs.map((r) => r.exit).join(", ")}.`);
  } else if (container && i.exitCode !== undefined) out.push(`Container ${code(container)} exited ${i.exitCode}.`);
  else if (container && i.reason.includes("Pull")) out.push(`Container ${code(container)} never started.`);

  const last = [...(i.logTail ?? [])].reverse().find((l) => l.line.trim() !== "") ?? [...(i.previousLog ?? [])].reverse().find((l) => l.line.trim() !== "");
  if (last) out.push(`Its last log line: ${quote(last.line, 160)}.`);

  const warnings = (i.events ?? []).filter((ev) => ev.type === "Warning");
  for (const ev of warnings.slice(0, 2)) {
    const told = eventSentence({ seq: 0, timestamp: ev.last ?? "", kind: "event", summary: "", data: { ...ev } })[0];
    out.push(`Kubernetes: ${told}.`);
  }
  out.push(`Faro raised ${i.reason} (${i.severity})${i.repeatCount > 1 ? `, seen ${i.repeatCount} times,` : ""} at ${clock(incidentTime(i))}.`);
  return out.join(" ");
}
