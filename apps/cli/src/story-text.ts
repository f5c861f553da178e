// A story file as `faro stories show` prints it: header, pods and their container instances, incidents with
// what led to them, and the timeline — one sentence per entry (@faro/story-view's narrative), log lines as
// written. One timestamp format (terminal.ts formatTime), colours only when asked.
import type { StoryFile, StoryPod, StoryTimelineEntry } from "@faro/contracts";
import { narrateEntry, narrateIncident, incidentTime, type Tone } from "@faro/story-view";
import { formatTime, oneLine, painter, paintName, type Colour } from "./terminal.js";

/** Log lines shown per log entry (a batch); `--json` has them all. */
export const LINES_PER_LOG_ENTRY = 5;
/** Lines of an incident's log tail shown. */
const INCIDENT_TAIL_LINES = 10;

export interface StoryTextOptions {
  colour: boolean;
  /** Leave log lines out of the timeline. */
  noLogs?: boolean;
  /** Timeline entries before this time are left out. */
  since?: Date;
}

const TONE: Record<Tone, Colour | undefined> = { error: "red", warning: "yellow", info: undefined };

function podLines(p: StoryPod, colour: boolean): string[] {
  const t = (s: string | undefined) => formatTime(s);
  const out = [`  ${paintName(p.name, colour)}  node ${p.node || "-"}  created ${t(p.createdAt)}${p.deletedAt ? `  deleted ${t(p.deletedAt)}` : ""}${p.replacesPodUid ? `  replaces ${p.replacesPodUid}` : ""}`];
  for (const c of p.containers) {
    const inst = c.instances
      .map((i) => {
        const bits = [`#${i.restartCount}`];
        if (i.startedAt) bits.push(`started ${t(i.startedAt)}`);
        if (i.finishedAt) bits.push(`finished ${t(i.finishedAt)}`);
        if (i.exitCode !== undefined) bits.push(`exit ${i.exitCode}`);
        if (i.reason) bits.push(i.reason);
        return bits.join(" ");
      })
      .join("; ");
    out.push(`    ${c.type === "regular" ? "" : `${c.type} `}${c.name}: ${inst || "no instance seen"}`);
  }
  return out;
}

function timelineLines(s: StoryFile, e: StoryTimelineEntry, o: StoryTextOptions): string[] {
  const c = painter(o.colour);
  const where = e.pod ? `${paintName(e.pod, o.colour)}${e.container ? `/${e.container}` : ""} ` : "";
  const time = c("dim", formatTime(e.timestamp));
  if (e.kind === "log") {
    const lines = Array.isArray(e.data["lines"]) ? (e.data["lines"] as Array<{ timestamp?: string; line: string }>) : [];
    if (lines.length > 0) {
      // A summary, not the file: a few lines per batch.
      const out = lines.slice(0, LINES_PER_LOG_ENTRY).map((l) => `  ${c("dim", formatTime(l.timestamp ?? e.timestamp))}  ${"log".padEnd(9)} ${where}| ${oneLine(l.line)}`);
      if (lines.length > LINES_PER_LOG_ENTRY) out.push(`  ${" ".repeat(24)}  ${"".padEnd(9)} ${where}| … ${lines.length - LINES_PER_LOG_ENTRY} more line(s) (--json shows all)`);
      if (typeof e.data["elidedLines"] === "number") out.push(`  ${" ".repeat(24)}  ${"".padEnd(9)} ${where}| … ${e.data["elidedLines"]} line(s) elided from the file`);
      return out;
    }
  }
  const told = narrateEntry(e, s);
  // "Pod web-1 created" is about web-1 already: the pod is not named twice.
  const about = e.pod && told.sentence.includes(e.pod) ? "" : where;
  const tone = e.kind === "incident" ? "red" : TONE[told.tone];
  const kind = e.kind.padEnd(9);
  return [`  ${time}  ${tone ? c(tone, kind) : c("dim", kind)} ${about}${tone === "red" ? c("bold", told.sentence) : told.sentence}`];
}

/** The lines `faro stories show` prints for a story file. */
export function storyText(s: StoryFile, file: string, o: StoryTextOptions): string[] {
  const c = painter(o.colour);
  const out: string[] = [];
  out.push(c("bold", `story ${s.storyId} window ${s.window}: ${s.workload.kind}/${s.workload.name} in ${s.namespace || "(cluster-scoped)"} (tenant ${s.tenant || "-"}, cluster ${s.cluster})`));
  out.push(`file ${file}`);
  out.push(s.closedAt ? `opened ${formatTime(s.openedAt)}, closed ${formatTime(s.closedAt)} (${s.closeReason})` : `opened ${formatTime(s.openedAt)}, still open (snapshot)`);
  out.push(`owner chain: ${s.ownerChain.map((w) => `${w.kind}/${w.name}`).join(" → ")}`);
  out.push(c("bold", `pods (${s.pods.length}):`));
  for (const p of s.pods) out.push(...podLines(p, o.colour));
  out.push(c("bold", `incidents (${s.incidents.length}):`));
  for (const i of s.incidents) {
    const head = `${i.reason} (${i.severity})${i.container ? ` container ${i.container}` : ""}${i.repeatCount > 1 ? ` ×${i.repeatCount}` : ""}${i.exitCode !== undefined ? ` exit ${i.exitCode}` : ""}${typeof i["message"] === "string" && i["message"] ? `: ${oneLine(i["message"])}` : ""}`;
    out.push(`  ${c("dim", formatTime(incidentTime(i)))}  ${c("red", c("bold", head))}`);
    const led = narrateIncident(i, s);
    if (led) out.push(`    what led to it: ${oneLine(led)}`);
    if (i.logTail.length) {
      const shown = i.logTail.slice(-INCIDENT_TAIL_LINES);
      out.push(`    log tail (${i.logTail.length} line${i.logTail.length > 1 ? "s" : ""}${shown.length < i.logTail.length ? `, last ${shown.length}` : ""}):`);
      for (const l of shown) out.push(`      | ${oneLine(l.line)}`);
    }
  }
  const elided = Object.entries(s.elided.logLines ?? {});
  if (elided.length) out.push(`elided log lines: ${elided.map(([k, n]) => `${k} ${n}`).join(", ")}`);
  // Lines that never reached Faro (pod deleted before its log was read, log no longer served): gone for good.
  const unread = s.unreadLogs ?? [];
  if (unread.length) out.push(`unread logs (lines lost): ${unread.map((u) => `${u.pod}/${u.container}#${u.restartCount} ${u.reason}`).join(", ")}`);
  const since = o.since?.getTime();
  const shown = s.timeline.filter((e) => !(o.noLogs && e.kind === "log") && !(since !== undefined && Date.parse(e.timestamp) < since));
  const left = s.timeline.length - shown.length;
  const why = [o.noLogs && "--no-logs", o.since && `--since ${formatTime(o.since.getTime())}`].filter(Boolean).join(", ");
  out.push(c("bold", `timeline (${s.timeline.length} entries${left ? `, ${left} left out by ${why}` : ""}):`));
  for (const e of shown) out.push(...timelineLines(s, e, o));
  return out;
}
