// The story as a picture: one self-contained HTML page (inline CSS and JS, no network) with a timeline of
// pod and container lanes, events, incidents, diffs and the log lines around each failure.
import { createHash } from "node:crypto";
import type { StoryContainer, StoryContainerInstance, StoryFile, StoryIncident, StoryPod, StoryTimelineEntry } from "@faro/contracts";
import { UnsupportedStoryError } from "./errors.js";
import { esc, inlineJson } from "./escape.js";
import { clock, duration, ms } from "./format.js";
import { incidentTime, instanceLog, narrateEntry, narrateIncident, type NarratedEntry } from "./narrative.js";
import { PAGE_CSS } from "./page-style.js";
import { PAGE_SCRIPT } from "./page-script.js";

export interface StoryHtmlOptions {
  /** A link back to a list of stories (`faro serve` passes "/"); none in a standalone page. */
  backHref?: string;
  /** Log lines shown before each failure (default 12). */
  linesBeforeFailure?: number;
  /** Log lines of the next run shown after each failure (default 3). */
  linesAfterFailure?: number;
  /**
   * Timeline entries drawn and told at most (default 20,000): beyond it the log entries in the middle are left
   * out (the first and last ones stay, every other kind stays) and the page says how many.
   */
  maxEntries?: number;
}

export const DEFAULT_MAX_ENTRIES = 20_000;

/** The entries the page shows: all, or all but the middle log entries when there are more than `max`. */
function shownEntries(timeline: StoryTimelineEntry[], max: number): { shown: StoryTimelineEntry[]; hidden: number } {
  if (timeline.length <= max) return { shown: timeline, hidden: 0 };
  const logs = timeline.filter((e) => e.kind === "log");
  const budget = Math.max(0, max - (timeline.length - logs.length));
  const head = Math.ceil(budget / 2);
  const left = new Set(logs.slice(head, logs.length - (budget - head)).map((e) => e.seq));
  return { shown: timeline.filter((e) => !left.has(e.seq)), hidden: left.size };
}

/** Timeline geometry: times to percentages of the lane width. */
interface Axis {
  t0: number;
  t1: number;
  at(t: string | undefined): number | undefined;
}

function axisOf(story: StoryFile): Axis {
  const times: number[] = [];
  const push = (t: string | undefined) => {
    const v = ms(t);
    if (v !== undefined) times.push(v);
  };
  push(story.openedAt);
  push(story.closedAt);
  for (const e of story.timeline) push(e.timestamp);
  for (const p of story.pods) {
    push(p.createdAt);
    push(p.deletedAt);
    for (const c of p.containers) for (const i of c.instances) (push(i.startedAt), push(i.finishedAt));
  }
  // A loop, not Math.min(...times): a long story has more times than a call has room for arguments.
  let t0 = times.length ? Infinity : 0;
  let t1 = -Infinity;
  for (const t of times) {
    if (t < t0) t0 = t;
    if (t > t1) t1 = t;
  }
  t1 = Math.max(t1, t0 + 1000);
  return {
    t0,
    t1,
    at(t) {
      const v = ms(t);
      return v === undefined ? undefined : ((v - t0) / (t1 - t0)) * 100;
    },
  };
}

const pct = (v: number) => `${Math.max(0, Math.min(100, v)).toFixed(3)}%`;

function marker(cls: string, left: number | undefined, n: NarratedEntry, label = ""): string {
  if (left === undefined) return "";
  return `<button type="button" class="m ${cls}" style="left:${pct(left)}" data-seq="${n.seq}" title="${esc(`${clock(n.timestamp)} ${n.sentence}`)}">${esc(label)}</button>`;
}

function axisHtml(axis: Axis): string {
  const span = axis.t1 - axis.t0;
  const ticks: string[] = [];
  for (let k = 0; k <= 6; k++) {
    const t = axis.t0 + (span * k) / 6;
    ticks.push(`<span class="tick" style="left:${pct((k / 6) * 100)}">${esc(new Date(t).toISOString().slice(11, 19))}</span>`);
  }
  return `<div class="lane axis"><div class="label">UTC (cluster time) · ${esc(duration(span))}</div><div class="track">${ticks.join("")}</div></div>`;
}

function instanceEnd(i: StoryContainerInstance, c: StoryContainer, pod: StoryPod): string | undefined {
  if (i.finishedAt) return i.finishedAt;
  const next = c.instances.find((x) => x.restartCount === i.restartCount + 1);
  return next?.startedAt ?? pod.deletedAt;
}

function containerLane(pod: StoryPod, c: StoryContainer, axis: Axis, narrated: Map<number, NarratedEntry>, entries: StoryTimelineEntry[]): string {
  const parts: string[] = [];
  const end = 100;
  let waitingFrom = axis.at(pod.createdAt) ?? 0;
  for (const i of c.instances) {
    // A run seen only when it ended (a quick init container): it ran at most since the previous end.
    const s = axis.at(i.startedAt) ?? (i.finishedAt ? waitingFrom : undefined);
    const stop = instanceEnd(i, c, pod);
    const f = stop ? axis.at(stop) : end;
    if (s === undefined) {
      // An instance never seen running: the kubelet waits (back-off, image pull) from the previous end.
      const from = waitingFrom;
      parts.push(`<div class="seg waiting" style="left:${pct(from)};width:${pct((f ?? end) - from)}" title="${esc(`restart ${i.restartCount}: waiting${i.reason ? ` (${i.reason})` : ""}`)}"></div>`);
      continue;
    }
    // The back-off before this run: the kubelet waited since the previous run ended.
    if (i.restartCount > 0 && s - waitingFrom > 0.2) parts.push(`<div class="seg waiting" style="left:${pct(waitingFrom)};width:${pct(s - waitingFrom)}" title="${esc(`back-off before restart ${i.restartCount}`)}"></div>`);
    const failed = i.exitCode !== undefined && i.exitCode !== 0;
    const state = i.finishedAt ? (failed ? "failed" : "done") : "running";
    const ran = i.startedAt && i.finishedAt ? ` after ${duration((ms(i.finishedAt) ?? 0) - (ms(i.startedAt) ?? 0))}` : "";
    const title = `${c.name} restart ${i.restartCount}: ${i.startedAt ? `started ${clock(i.startedAt)}` : "start not seen"}${i.finishedAt ? `, exited ${i.exitCode ?? "?"}${i.reason ? ` (${i.reason})` : ""}${ran}` : ", running"}`;
    parts.push(
      `<div class="seg ${state}" data-restart="${i.restartCount}" style="left:${pct(s)};width:${pct(Math.max(0.4, (f ?? end) - s))}" title="${esc(title)}">${
        i.finishedAt ? `<span class="exit${(f ?? end) > 90 ? " in" : ""}">${esc(i.exitCode !== undefined ? `exit ${i.exitCode}` : "exited")}${i.reason && failed ? ` ${esc(i.reason)}` : ""}</span>` : ""
      }</div>`,
    );
    if (i.finishedAt) waitingFrom = axis.at(i.finishedAt) ?? waitingFrom;
  }
  // A container the pod declared but never ran: it waited the whole time.
  if (c.instances.length === 0) parts.push(`<div class="seg waiting" style="left:${pct(waitingFrom)};width:${pct(end - waitingFrom)}" title="never started"></div>`);
  for (const e of entries) {
    const n = narrated.get(e.seq);
    if (!n) continue; // left out (maxEntries)
    if (e.kind === "log") parts.push(marker("log", axis.at(e.timestamp), n));
    else if (e.kind === "incident") parts.push(marker("inc", axis.at(e.timestamp), n, "!"));
    else if (e.kind === "lifecycle") parts.push(marker(`lc ${n.tone}`, axis.at(e.timestamp), n, e.data["what"] === "restarted" ? "↻" : ""));
    else parts.push(marker(`ev ${n.tone}`, axis.at(e.timestamp), n));
  }
  return `<div class="lane container" data-pod="${esc(pod.name)}" data-container="${esc(c.name)}"><div class="label" title="${esc(`${pod.name}/${c.name}`)}"><span class="ctype">${esc(c.type === "regular" ? "" : `${c.type} `)}</span>${esc(c.name)} <span class="dim">${esc(`${c.instances.length} run${c.instances.length === 1 ? "" : "s"}`)}</span></div><div class="track">${parts.join("")}</div></div>`;
}

function podLanes(story: StoryFile, axis: Axis, narrated: Map<number, NarratedEntry>): string {
  const out: string[] = [];
  const byPod = new Map<string, StoryTimelineEntry[]>();
  for (const e of story.timeline) {
    if (!e.pod) continue;
    const list = byPod.get(e.pod);
    if (list) list.push(e);
    else byPod.set(e.pod, [e]);
  }
  const byUid = new Map(story.pods.map((p) => [p.uid, p.name]));
  for (const pod of story.pods) {
    const entries = byPod.get(pod.name) ?? [];
    const podEntries = entries.filter((e) => !e.container && narrated.has(e.seq));
    const s = axis.at(pod.createdAt) ?? 0;
    const f = axis.at(pod.deletedAt) ?? 100;
    const replaces = pod.replacesPodUid ? (byUid.get(pod.replacesPodUid) ?? pod.replacesPodUid) : undefined;
    const marks = podEntries
      .map((e) => {
        const n = narrated.get(e.seq)!;
        if (e.kind === "event") return marker(`ev ${n.tone}`, axis.at(e.timestamp), n);
        if (e.kind === "change") return marker("chg", axis.at(e.timestamp), n);
        return marker(`lc ${n.tone}`, axis.at(e.timestamp), n);
      })
      .join("");
    out.push(
      `<div class="lane pod" data-pod="${esc(pod.name)}"><div class="label" title="${esc(`${pod.name} (uid ${pod.uid})`)}"><b>${esc(pod.name)}</b><br><span class="dim">${esc(pod.node || "no node")}${replaces ? ` · replaces ${esc(replaces)}` : ""}${pod.deletedAt ? " · deleted" : ""}</span></div><div class="track"><div class="podbar${pod.deletedAt ? " gone" : ""}" style="left:${pct(s)};width:${pct(Math.max(0.4, f - s))}"></div>${marks}</div></div>`,
    );
    for (const c of pod.containers) out.push(containerLane(pod, c, axis, narrated, entries.filter((e) => e.container === c.name)));
  }
  return out.join("");
}

function workloadLane(story: StoryFile, axis: Axis, narrated: Map<number, NarratedEntry>): string {
  const marks = story.timeline
    .filter((e) => !e.pod && e.kind !== "open" && e.kind !== "close" && e.kind !== "snapshot" && narrated.has(e.seq))
    .map((e) => {
      const n = narrated.get(e.seq)!;
      return marker(e.kind === "change" ? "chg" : e.kind === "incident" ? "inc" : `ev ${n.tone}`, axis.at(e.timestamp), n);
    })
    .join("");
  return `<div class="lane workload"><div class="label"><b>${esc(`${story.workload.kind} ${story.workload.name}`)}</b><br><span class="dim">workload &amp; owners: changes, events</span></div><div class="track">${marks}</div></div>`;
}

function incidentBands(story: StoryFile, axis: Axis): string {
  return story.incidents
    .map((i) => {
      const left = axis.at(incidentTime(i));
      return left === undefined ? "" : `<div class="band" style="left:${pct(left)}" title="${esc(`${i.reason} at ${clock(incidentTime(i))}`)}"><span>${esc(i.reason)}</span></div>`;
    })
    .join("");
}

function diffTable(diff: unknown): string {
  if (!Array.isArray(diff)) return `<pre>${esc(JSON.stringify(diff, null, 2))}</pre>`;
  const rows = (diff as Array<{ path?: string; op?: string; from?: unknown; to?: unknown }>).map(
    (d) => `<tr><td>${esc(d.op)}</td><td><code>${esc(d.path || "(whole object)")}</code></td><td>${esc(d.from === undefined ? "" : JSON.stringify(d.from))}</td><td>${esc(d.to === undefined ? "" : cutJson(d.to))}</td></tr>`,
  );
  return `<table class="diff"><tr><th>op</th><th>path</th><th>from</th><th>to</th></tr>${rows.join("")}</table>`;
}

function cutJson(v: unknown): string {
  const s = JSON.stringify(v, null, typeof v === "object" ? 1 : undefined) ?? "";
  return s.length > 4000 ? `${s.slice(0, 4000)}…` : s;
}

function ownerChainHtml(story: StoryFile): string {
  const chain = story.ownerChain.length ? story.ownerChain : [story.workload];
  return `<nav class="owners" aria-label="owner chain">${chain
    .map((o) => `<details class="owner"><summary>${esc(`${o.kind} ${o.name}`)}</summary><div>${esc(o.apiVersion)} · uid <code>${esc(o.uid)}</code></div></details>`)
    .join('<span class="arrow">→</span>')}</nav>`;
}

function logLines(lines: Array<{ timestamp: string; line: string; truncated?: boolean }>, cls = ""): string {
  return lines.map((l) => `<div class="logline ${cls}"><time>${esc(clock(l.timestamp))}</time> ${esc(l.line)}${l.truncated ? ' <span class="dim">(truncated)</span>' : ""}</div>`).join("");
}

function incidentCard(story: StoryFile, i: StoryIncident): string {
  const last = [...(i.logTail ?? [])].reverse().find((l) => l.line.trim() !== "");
  const pod = (i["pod"] as { name?: string } | undefined)?.name;
  const changes = Array.isArray(i["recentChanges"]) ? (i["recentChanges"] as Array<{ timestamp?: string; kind?: string; name?: string; diff?: unknown }>) : [];
  const manifests = Array.isArray(i["manifests"]) ? (i["manifests"] as Array<{ kind?: string; name?: string; object?: unknown }>) : [];
  const chain = Array.isArray(i["ownerChain"]) ? (i["ownerChain"] as Array<{ kind?: string; name?: string }>) : [];
  return `<article class="incident sev-${esc(i.severity)}" data-incident="${esc(i.incidentId)}" data-reason="${esc(i.reason)}">
<h3><span class="reason">${esc(i.reason)}</span> <span class="sev">${esc(i.severity)}</span>${i.exitCode !== undefined ? ` <span class="exitcode">exit code ${esc(i.exitCode)}</span>` : ""}${i.repeatCount > 1 ? ` <span class="dim">×${esc(i.repeatCount)}</span>` : ""}</h3>
<p class="where">${esc(pod ?? "")}${i.container ? ` / <code>${esc(i.container)}</code>` : ""} · ${esc(clock(incidentTime(i)))}${chain.length ? ` · ${esc(chain.map((o) => `${o.kind ?? ""} ${o.name ?? ""}`).join(" → "))}` : ""}</p>
<p class="story-of">${esc(narrateIncident(i, story))}</p>
${last ? `<p class="lastline">last log line: <code>${esc(last.line)}</code></p>` : ""}
${typeof i["message"] === "string" ? `<p class="dim">${esc(i["message"])}</p>` : ""}
${i.logTail?.length ? `<details><summary>log tail (${i.logTail.length} lines)</summary><div class="log">${logLines(i.logTail)}</div></details>` : ""}
${i.previousLog?.length ? `<details><summary>previous run's log (${i.previousLog.length} lines)</summary><div class="log">${logLines(i.previousLog)}</div></details>` : ""}
${i.events?.length ? `<details><summary>events (${i.events.length})</summary><ul>${i.events.map((e) => `<li class="${e.type === "Warning" ? "warning" : ""}">${esc(`${e.type} ${e.reason}${e.count && e.count > 1 ? ` ×${e.count}` : ""}: ${e.message}`)}</li>`).join("")}</ul></details>` : ""}
${changes.length ? `<details><summary>recent changes (${changes.length})</summary>${changes.map((c) => `<h4>${esc(`${clock(c.timestamp)} ${c.kind ?? ""} ${c.name ?? ""}`)}</h4>${diffTable(c.diff)}`).join("")}</details>` : ""}
${manifests.length ? `<details><summary>manifests (${manifests.length})</summary>${manifests.map((m) => `<h4>${esc(`${m.kind ?? ""} ${m.name ?? ""}`)}</h4><pre>${esc(JSON.stringify(m.object, null, 2))}</pre>`).join("")}</details>` : ""}
</article>`;
}

/** Each run that ended badly (non-zero exit) with its last lines and the first lines of the next run. */
function failuresHtml(story: StoryFile, before: number, after: number): string {
  const out: string[] = [];
  for (const pod of story.pods) {
    for (const c of pod.containers) {
      for (const i of c.instances) {
        if (!i.finishedAt || i.exitCode === undefined || i.exitCode === 0) continue;
        const lines = instanceLog(story, pod.name, c.name, i.restartCount);
        const next = instanceLog(story, pod.name, c.name, i.restartCount + 1).slice(0, after);
        const nextRun = c.instances.find((x) => x.restartCount === i.restartCount + 1);
        const gap = nextRun?.startedAt ? ` · restarted ${duration((ms(nextRun.startedAt) ?? 0) - (ms(i.finishedAt) ?? 0))} later` : "";
        out.push(
          `<section class="failure" data-pod="${esc(pod.name)}" data-container="${esc(c.name)}" data-restart="${i.restartCount}"><h3>${esc(`${pod.name} / ${c.name}`)} · run ${i.restartCount} <span class="exitcode">exit ${esc(i.exitCode)}</span> ${esc(i.reason ?? "")} <span class="dim">at ${esc(clock(i.finishedAt))}${esc(gap)}</span></h3><div class="log">${
            lines.length ? logLines(lines.slice(-before)) : '<div class="dim">no log lines of this run in the story</div>'
          }<div class="cut">${esc(`— exited ${i.exitCode}${i.reason ? ` (${i.reason})` : ""} —`)}</div>${logLines(next, "after")}</div></section>`,
        );
      }
    }
  }
  return out.length ? out.join("") : '<p class="dim">No container run exited with an error in this window.</p>';
}

function narrativeHtml(story: StoryFile, narrated: NarratedEntry[], hidden: number): string {
  const rows = narrated.map(
    (n) =>
      `<tr id="e${n.seq}" class="k-${esc(n.kind)} t-${n.tone}" data-seq="${n.seq}"><td><time>${esc(clock(n.timestamp))}</time></td><td class="dim">${esc(n.pod ?? "")}${n.container ? `/${esc(n.container)}` : ""}</td><td>${esc(n.sentence)}</td></tr>`,
  );
  const kinds = [...new Set(story.timeline.map((e) => e.kind))];
  const toggles = kinds.map((k) => `<label><input type="checkbox" data-kind="${esc(k)}" checked> ${esc(k)}</label>`).join(" ");
  // Where the left-out log entries were: after the last shown entry that precedes the gap.
  if (hidden > 0) {
    const gap = narrated.findIndex((n, i) => i > 0 && n.kind === "log" && narrated[i - 1]!.kind === "log" && n.seq - narrated[i - 1]!.seq > 1);
    const row = `<tr class="elided"><td></td><td></td><td class="dim">… ${hidden} log entr${hidden === 1 ? "y" : "ies"} not shown on this page (the story file has them)</td></tr>`;
    rows.splice(gap > 0 ? gap : rows.length, 0, row);
  }
  return `<div class="toggles">${toggles}</div><table class="narrative"><tbody>${rows.join("")}</tbody></table>`;
}

/** Renders a story file as one self-contained HTML page; every value from the file is escaped. */
export function renderStoryHtml(story: StoryFile, options: StoryHtmlOptions = {}): string {
  if (story.schemaVersion !== 1) throw new UnsupportedStoryError(story.schemaVersion);
  const { shown, hidden } = shownEntries(story.timeline, options.maxEntries ?? DEFAULT_MAX_ENTRIES);
  const narrated = shown.map((e) => narrateEntry(e, story));
  const bySeq = new Map(narrated.map((n) => [n.seq, n]));
  const axis = axisOf(story);
  const title = `${story.workload.kind} ${story.workload.name}${story.namespace ? ` in ${story.namespace}` : ""}`;
  const state = story.closedAt ? `closed ${clock(story.closedAt)} (${story.closeReason ?? ""})` : "open (snapshot)";
  const data = {
    storyId: story.storyId,
    entries: shown.map((e) => ({ seq: e.seq, timestamp: e.timestamp, kind: e.kind, pod: e.pod, container: e.container, summary: e.summary, sentence: bySeq.get(e.seq)!.sentence, data: e.data })),
  };
  const script = PAGE_SCRIPT;
  const scriptHash = createHash("sha256").update(script).digest("base64");
  const unread = story.unreadLogs ?? [];
  const elided = Object.entries(story.elided?.logLines ?? {});
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; script-src 'sha256-${scriptHash}'; img-src data:; base-uri 'none'; form-action 'none'">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(`${title} — Faro story ${story.storyId} w${story.window}`)}</title>
<style>${PAGE_CSS}</style>
</head>
<body>
<header>
${options.backHref !== undefined ? `<a class="back" href="${esc(options.backHref)}">← all stories</a>` : ""}
<h1>${esc(title)}</h1>
<p class="meta">cluster <b>${esc(story.cluster)}</b> · tenant ${esc(story.tenant || "-")} · story <code>${esc(story.storyId)}</code> window ${esc(story.window)} · opened ${esc(story.openedAt)} · ${esc(state)} · ${esc(story.pods.length)} pod${story.pods.length === 1 ? "" : "s"} · ${esc(story.timeline.length)} entries</p>
${ownerChainHtml(story)}
</header>
<main>
<section id="incidents"><h2>Incidents (${story.incidents.length})</h2>${story.incidents.length ? story.incidents.map((i) => incidentCard(story, i)).join("") : '<p class="dim">No incident in this window.</p>'}</section>
<section id="timeline"><h2>Timeline</h2>
<p class="legend"><span class="seg-key running"></span>running <span class="seg-key done"></span>exited 0 <span class="seg-key failed"></span>exited ≠ 0 <span class="seg-key waiting"></span>waiting <span class="m-key ev"></span>event <span class="m-key warning"></span>warning <span class="m-key chg"></span>change <span class="m-key inc"></span>incident · click a marker for details</p>
<div class="lanes">${axisHtml(axis)}<div class="bands">${incidentBands(story, axis)}</div>${workloadLane(story, axis, bySeq)}${podLanes(story, axis, bySeq)}</div>
<aside id="detail" aria-live="polite"><p class="dim">Click a marker or a line of the narrative to see the entry: its sentence, the diff of a change, the lines of a log batch.</p></aside>
</section>
<section id="failures"><h2>Around each failure</h2>${failuresHtml(story, options.linesBeforeFailure ?? 12, options.linesAfterFailure ?? 3)}</section>
${unread.length ? `<section id="unread"><h2>Logs never read</h2><ul>${unread.map((u) => `<li>${esc(`${u.pod}/${u.container} run ${u.restartCount}: ${u.reason}`)}</li>`).join("")}</ul></section>` : ""}
${elided.length ? `<section id="elided"><h2>Log lines left out of the file</h2><ul>${elided.map(([k, n]) => `<li>${esc(`${k}: ${n}`)}</li>`).join("")}</ul></section>` : ""}
<section id="narrative"><h2>What happened</h2>${narrativeHtml(story, narrated, hidden)}</section>
</main>
<script type="application/json" id="faro-story">${inlineJson(data)}</script>
<script>${script}</script>
</body>
</html>
`;
}
