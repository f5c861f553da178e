// What each MCP tool answers, over the story files and the bus, scoped to one caller's tenants. Pure reads:
// nothing here writes a file or publishes a message.
import { FARO_INSIGHT, decodeInsight, insightFilter, parseSubject, toCanonicalJson, type JsonValue, type StoryFile, type StoryTimelineEntry } from "@faro/contracts";
import { parseDuration } from "@faro/config";
import { compileRe2, PatternError } from "@faro/primitives";
import type { Logger } from "pino";
import { canSee, type McpConfig, type Principal } from "./config.js";
import { incidentJson, incidentUri, type BusReader, type StoredIncident } from "./bus.js";
import { NotFoundError, RefusedError } from "./errors.js";
import type { McpMetrics } from "./limits.js";
import { isClosed, ms, storyUri, type StoryIndex, type StorySummary } from "./stories.js";

export interface McpContext {
  config: McpConfig;
  stories: StoryIndex;
  /** Undefined when NATS could not be reached at start: incident answers then come from the story files only. */
  bus: BusReader | undefined;
  busProblem: string | undefined;
  metrics: McpMetrics;
  logger: Logger;
}

// ---- arguments shared by several tools ----

/** "2026-12-08T01:00:00Z" or a duration back from now ("15m", "2h", "7d"). */
export function parseTime(what: string, v: string | undefined, now = Date.now()): number | undefined {
  if (v === undefined || v === "") return undefined;
  const abs = Date.parse(v);
  if (/^\d{4}-\d{2}-\d{2}/.test(v) && Number.isFinite(abs)) return abs;
  const back = parseDuration(v);
  if (back === undefined) throw new RefusedError("bad_time", `${what}: "${v}" is neither an RFC3339 time nor a duration back from now like 15m, 2h, 7d`);
  return now - back;
}

/** Opaque page cursors: the offset into the (deterministically sorted) result. */
export function page<T>(items: readonly T[], cursor: string | undefined, limit: number): { items: T[]; nextCursor?: string } {
  let offset = 0;
  if (cursor !== undefined && cursor !== "") {
    const m = /^o:(\d{1,9})$/.exec(Buffer.from(cursor, "base64url").toString("utf8"));
    if (!m) throw new RefusedError("bad_cursor", "cursor: not a cursor this server gave out (pass nextCursor from the previous page unchanged)");
    offset = Number(m[1]);
  }
  const slice = items.slice(offset, offset + limit);
  const next = offset + limit < items.length ? Buffer.from(`o:${offset + limit}`, "utf8").toString("base64url") : undefined;
  return next === undefined ? { items: slice } : { items: slice, nextCursor: next };
}

// re2-wasm never frees a compiled regex, so each distinct pattern is compiled once and kept; the cache is
// bounded and the oldest pattern beyond it is dropped (its few KiB of wasm memory stay allocated).
const PATTERNS = new Map<string, { test(s: string): boolean }>();
const MAX_PATTERNS = 512;
export function compilePattern(source: string, maxLength: number): { test(s: string): boolean } {
  if (source.length > maxLength) throw new RefusedError("pattern_too_long", `pattern: ${source.length} characters, over limits.maxPatternLength (${maxLength})`);
  let re = PATTERNS.get(source);
  if (re === undefined) {
    try {
      re = compileRe2(source);
    } catch (err) {
      throw new RefusedError("bad_pattern", `pattern: ${err instanceof PatternError ? err.message : (err as Error).message} (RE2 syntax: no lookaround or backreferences)`, { cause: err });
    }
    if (PATTERNS.size >= MAX_PATTERNS) PATTERNS.delete(PATTERNS.keys().next().value!);
    PATTERNS.set(source, re);
  }
  return re;
}

// ---- stories ----

export interface StoryFilterArgs {
  cluster?: string;
  namespace?: string;
  workload?: string;
  since?: string;
  until?: string;
}

/** Windows whose [openedAt, closedAt or now] overlaps [since, until], newest first. */
export function findStories(ctx: McpContext, who: Principal, a: StoryFilterArgs): StorySummary[] {
  const since = parseTime("since", a.since);
  const until = parseTime("until", a.until);
  return ctx.stories
    .visible(who, { cluster: a.cluster, namespace: a.namespace, workload: a.workload })
    .filter((s) => (since === undefined || !(ms(s.closedAt) < since)) && (until === undefined || !(ms(s.openedAt) > until)))
    .sort((x, y) => y.openedAt.localeCompare(x.openedAt) || x.storyId.localeCompare(y.storyId) || y.window - x.window);
}

export function storyListItem(s: StorySummary) {
  return {
    uri: storyUri(s),
    storyId: s.storyId,
    window: s.window,
    tenant: s.tenant,
    cluster: s.cluster,
    namespace: s.namespace,
    workload: s.workload,
    openedAt: s.openedAt,
    ...(s.closedAt === undefined ? {} : { closedAt: s.closedAt }),
    status: isClosed(s) ? ("closed" as const) : ("open" as const),
    pods: s.pods.length,
    podsDeleted: s.pods.filter((p) => p.deletedAt !== undefined).length,
    logLines: s.logLines,
    incidents: s.incidents.map((i) => ({ incidentId: i.incidentId, reason: i.reason, severity: i.severity })),
  };
}

/** One window of a story (the newest when `window` is absent), if the caller may see it. */
export function findStory(ctx: McpContext, who: Principal, a: { cluster?: string; storyId: string; window?: number }): { summary: StorySummary; story: StoryFile; windows: number[] } {
  const all = ctx.stories.visible(who, { cluster: a.cluster }).filter((s) => s.storyId === a.storyId);
  const summary = a.window === undefined ? all.sort((x, y) => y.window - x.window)[0] : all.find((s) => s.window === a.window);
  const story = summary && ctx.stories.read(summary);
  if (!summary || !story || !canSee(who, story.tenant)) throw new NotFoundError("story", a.window === undefined ? a.storyId : `${a.storyId} window ${a.window}`);
  return { summary, story, windows: all.map((s) => s.window).sort((x, y) => x - y) };
}

export interface GetStoryArgs {
  cluster?: string;
  storyId: string;
  window?: number;
  includeLogs: boolean;
  since?: string;
  until?: string;
  kinds?: string[];
  cursor?: string;
  limit: number;
}

export function getStory(ctx: McpContext, who: Principal, a: GetStoryArgs) {
  const { summary, story, windows } = findStory(ctx, who, a);
  const since = parseTime("since", a.since);
  const until = parseTime("until", a.until);
  const kinds = a.kinds && a.kinds.length > 0 ? new Set(a.kinds) : undefined;
  const entries = story.timeline.filter(
    (e) => (kinds === undefined || kinds.has(e.kind)) && (since === undefined || !(ms(e.timestamp) < since)) && (until === undefined || !(ms(e.timestamp) > until)),
  );
  const p = page(entries, a.cursor, a.limit);
  const timeline = p.items.map((e) => (a.includeLogs ? e : withoutLines(e)));
  return {
    uri: storyUri(summary),
    windows,
    story: {
      storyId: story.storyId,
      window: story.window,
      ...(story.previousWindow === undefined ? {} : { previousWindow: story.previousWindow }),
      tenant: story.tenant,
      cluster: story.cluster,
      namespace: story.namespace,
      workload: story.workload,
      ownerChain: story.ownerChain,
      openedAt: story.openedAt,
      ...(story.closedAt === undefined ? {} : { closedAt: story.closedAt }),
      ...(story.closeReason === undefined ? {} : { closeReason: story.closeReason }),
      pods: story.pods,
      incidents: story.incidents.map((i) => ({
        incidentId: i.incidentId,
        uri: incidentUri(i.incidentId),
        reason: i.reason,
        severity: i.severity,
        detectedAt: i.detectedAt,
        repeatCount: i.repeatCount,
        ...(i.container === undefined ? {} : { container: i.container }),
        ...(i.exitCode === undefined ? {} : { exitCode: i.exitCode }),
        ...(a.includeLogs ? { logTail: i.logTail } : { logTailLines: i.logTail.length }),
      })),
      ...(story.unreadLogs === undefined ? {} : { unreadLogs: story.unreadLogs }),
      elided: story.elided,
      stats: story.stats,
    },
    timeline: timeline as unknown as Record<string, unknown>[],
    timelineMatched: entries.length,
    ...(p.nextCursor === undefined ? {} : { nextCursor: p.nextCursor }),
  };
}

/** A log entry with its lines replaced by their count (get_story with includeLogs=false). */
function withoutLines(e: StoryTimelineEntry): StoryTimelineEntry {
  if (e.kind !== "log") return e;
  const { lines, ...data } = e.data as { lines?: unknown[] };
  return { ...e, data: { ...data, lineCount: lines?.length ?? 0 } };
}

// ---- logs ----

export interface SearchLogsArgs {
  cluster?: string;
  namespace?: string;
  workload?: string;
  pod?: string;
  container?: string;
  pattern?: string;
  since?: string;
  until?: string;
  cursor?: string;
  limit: number;
}

export function searchLogs(ctx: McpContext, who: Principal, a: SearchLogsArgs) {
  const since = parseTime("since", a.since);
  const until = parseTime("until", a.until);
  const re = a.pattern === undefined || a.pattern === "" ? undefined : compilePattern(a.pattern, ctx.config.limits.maxPatternLength);
  const candidates = ctx.stories
    .visible(who, { cluster: a.cluster, namespace: a.namespace, workload: a.workload })
    .filter((s) => a.pod === undefined || s.pods.some((p) => p.name === a.pod))
    .filter((s) => (since === undefined || !(ms(s.closedAt) < since)) && (until === undefined || !(ms(s.openedAt) > until)));
  type Hit = { timestamp: string; pod: string; podUid: string; podDeleted: boolean; deletedAt?: string; container: string; restartCount: number; line: string; truncated?: boolean; storyUri: string };
  const hits: Hit[] = [];
  const elided: Record<string, number> = {};
  const unread: Record<string, unknown>[] = [];
  let scanned = 0;
  for (const s of candidates) {
    const story = ctx.stories.read(s);
    if (!story) continue;
    const pods = new Map(story.pods.map((p) => [p.name, p]));
    const uri = storyUri(s);
    for (const e of story.timeline) {
      if (e.kind !== "log" || e.pod === undefined) continue;
      if (a.pod !== undefined && e.pod !== a.pod) continue;
      const d = e.data as { container?: string; restartCount?: number; lines?: { timestamp: string; line: string; truncated?: boolean }[] };
      if (a.container !== undefined && d.container !== a.container) continue;
      const pod = pods.get(e.pod);
      for (const l of d.lines ?? []) {
        const t = ms(l.timestamp);
        if ((since !== undefined && t < since) || (until !== undefined && t > until)) continue;
        scanned++;
        if (re !== undefined && !re.test(l.line)) continue;
        hits.push({
          timestamp: l.timestamp,
          pod: e.pod,
          podUid: pod?.uid ?? "",
          podDeleted: pod?.deletedAt !== undefined,
          ...(pod?.deletedAt === undefined ? {} : { deletedAt: pod.deletedAt }),
          container: d.container ?? e.container ?? "",
          restartCount: d.restartCount ?? 0,
          line: l.line,
          ...(l.truncated ? { truncated: true } : {}),
          storyUri: uri,
        });
      }
    }
    for (const [k, n] of Object.entries(story.elided.logLines ?? {})) {
      const [pod, container] = k.split("/");
      if ((a.pod === undefined || pod === a.pod) && (a.container === undefined || container === a.container)) elided[k] = (elided[k] ?? 0) + n;
    }
    for (const u of story.unreadLogs ?? []) if ((a.pod === undefined || u.pod === a.pod) && (a.container === undefined || u.container === a.container)) unread.push({ ...u });
  }
  // Timestamps carry up to 9 fractional digits: compare as instants, then by text for ties.
  hits.sort((x, y) => ms(x.timestamp) - ms(y.timestamp) || x.timestamp.localeCompare(y.timestamp) || x.pod.localeCompare(y.pod));
  const p = page(hits, a.cursor, a.limit);
  return {
    lines: p.items,
    matched: hits.length,
    scannedLines: scanned,
    stories: candidates.length,
    ...(Object.keys(elided).length > 0 ? { elidedLines: elided } : {}),
    ...(unread.length > 0 ? { unreadInstances: unread } : {}),
    ...(p.nextCursor === undefined ? {} : { nextCursor: p.nextCursor }),
  };
}

// ---- incidents ----

export interface IncidentFilterArgs {
  cluster?: string;
  namespace?: string;
  workload?: string;
  reason?: string;
  since?: string;
  until?: string;
  status?: "open" | "resolved" | "any";
}

export interface IncidentRow {
  incidentId: string;
  uri: string;
  storyUri?: string;
  storyId: string;
  tenant: string;
  cluster: string;
  namespace: string;
  workload?: { kind: string; name: string };
  pod?: string;
  container?: string;
  reason: string;
  severity: string;
  detectedAt: string;
  firstSeen?: string;
  lastSeen?: string;
  repeatCount: number;
  exitCode?: number;
  message?: string;
  lastLogLine?: string;
  status: "open" | "resolved";
  source: "bus" | "story-file";
}

interface IncidentSet {
  rows: IncidentRow[];
  contexts: Map<string, StoredIncident>;
  bus: { read: boolean; scanned: number; truncated: boolean; problem?: string };
}

/** Incidents from FARO_INCIDENT, completed by the story files for those that aged out of the stream. */
export async function findIncidents(ctx: McpContext, who: Principal, a: IncidentFilterArgs): Promise<IncidentSet> {
  const since = parseTime("since", a.since);
  const until = parseTime("until", a.until);
  const stories = ctx.stories.visible(who, { cluster: a.cluster, namespace: a.namespace });
  // An incident is resolved once a final file (a closed window) holds it: the workload went idle or was deleted.
  const byIncident = new Map<string, StorySummary[]>();
  for (const s of stories) for (const i of s.incidents) byIncident.set(i.incidentId, [...(byIncident.get(i.incidentId) ?? []), s]);
  const statusOf = (id: string) => ((byIncident.get(id) ?? []).some(isClosed) ? ("resolved" as const) : ("open" as const));
  const storyOf = (id: string) => (byIncident.get(id) ?? []).sort((x, y) => y.window - x.window)[0];

  const rows = new Map<string, IncidentRow>();
  const bus: IncidentSet["bus"] = { read: false, scanned: 0, truncated: false };
  let contexts = new Map<string, StoredIncident>();
  if (ctx.bus) {
    try {
      const r = await ctx.bus.read(who, { cluster: a.cluster, namespace: a.namespace, reason: a.reason, sinceMs: since });
      ctx.metrics.undecodable.inc({ stream: "FARO_INCIDENT" }, r.undecodable);
      Object.assign(bus, { read: true, scanned: r.scanned, truncated: r.truncated });
      contexts = r.incidents;
      for (const [id, s] of r.incidents) {
        if (!canSee(who, s.tenant)) continue; // the filters already pin the tenants; belt and braces
        const c = s.context;
        const root = c.ownerChain.at(-1);
        const st = storyOf(id);
        rows.set(id, {
          incidentId: id,
          uri: incidentUri(id),
          ...(st ? { storyUri: storyUri(st) } : {}),
          storyId: c.storyId,
          tenant: s.tenant,
          cluster: c.cluster,
          namespace: c.namespace,
          ...(root ? { workload: { kind: root.kind, name: root.name } } : {}),
          ...(c.pod?.name ? { pod: c.pod.name } : {}),
          ...(c.container ? { container: c.container } : {}),
          reason: c.reason,
          severity: c.severity,
          detectedAt: c.detectedAt,
          ...(c.firstSeen ? { firstSeen: c.firstSeen } : {}),
          ...(c.lastSeen ? { lastSeen: c.lastSeen } : {}),
          repeatCount: c.repeatCount,
          ...(c.exitCode === undefined ? {} : { exitCode: c.exitCode }),
          ...(c.message ? { message: c.message } : {}),
          ...(c.logTail.length > 0 ? { lastLogLine: c.logTail.at(-1)!.line } : {}),
          status: statusOf(id),
          source: "bus",
        });
      }
    } catch (err) {
      bus.problem = (err as Error).message;
      ctx.logger.warn({ err: (err as Error).message }, "reading incidents from the bus failed; answering from the story files");
    }
  } else bus.problem = ctx.busProblem;
  for (const s of stories) {
    const file = s.incidents.filter((i) => !rows.has(i.incidentId) && (a.reason === undefined || i.reason === a.reason));
    if (file.length === 0) continue;
    const story = ctx.stories.read(s);
    for (const i of story?.incidents ?? []) {
      if (!file.some((f) => f.incidentId === i.incidentId) || rows.has(i.incidentId)) continue;
      const pod = (i.pod as { name?: string } | undefined)?.name;
      rows.set(i.incidentId, {
        incidentId: i.incidentId,
        uri: incidentUri(i.incidentId),
        storyUri: storyUri(storyOf(i.incidentId) ?? s),
        storyId: s.storyId,
        tenant: s.tenant,
        cluster: s.cluster,
        namespace: s.namespace,
        workload: s.workload,
        ...(pod ? { pod } : {}),
        ...(i.container ? { container: i.container } : {}),
        reason: i.reason,
        severity: i.severity,
        detectedAt: i.detectedAt,
        ...(typeof i.firstSeen === "string" ? { firstSeen: i.firstSeen } : {}),
        ...(typeof i.lastSeen === "string" ? { lastSeen: i.lastSeen } : {}),
        repeatCount: i.repeatCount,
        ...(i.exitCode === undefined ? {} : { exitCode: i.exitCode }),
        ...(typeof i.message === "string" && i.message ? { message: i.message } : {}),
        ...(i.logTail.length > 0 ? { lastLogLine: i.logTail.at(-1)!.line } : {}),
        status: statusOf(i.incidentId),
        source: "story-file",
      });
    }
  }
  const start = (r: IncidentRow) => ms(r.firstSeen ?? r.detectedAt);
  const end = (r: IncidentRow) => ms(r.lastSeen ?? r.detectedAt);
  const out = [...rows.values()].filter(
    (r) =>
      (a.workload === undefined || r.workload?.name === a.workload || r.pod === a.workload) &&
      (a.status === undefined || a.status === "any" || r.status === a.status) &&
      (since === undefined || !(end(r) < since)) &&
      (until === undefined || !(start(r) > until)),
  );
  out.sort((x, y) => y.detectedAt.localeCompare(x.detectedAt) || x.incidentId.localeCompare(y.incidentId));
  return { rows: out, contexts, bus };
}

export const INCIDENT_SECTIONS = ["logTail", "previousLog", "events", "manifests", "recentChanges", "evidence", "affectedPods"] as const;

/** One incident in full (the redacted IncidentContext), from the bus, else from its story file. */
export async function getIncident(ctx: McpContext, who: Principal, a: { incidentId: string; omit?: string[] }) {
  // The story files say where to look (tenant, cluster, namespace, reason) and narrow the bus read.
  const hint = ctx.stories.visible(who).find((s) => s.incidents.some((i) => i.incidentId === a.incidentId));
  const reason = hint?.incidents.find((i) => i.incidentId === a.incidentId)?.reason;
  const set = await findIncidents(ctx, who, hint ? { cluster: hint.cluster, namespace: hint.namespace, reason, status: "any" } : { status: "any" });
  const row = set.rows.find((r) => r.incidentId === a.incidentId);
  if (!row || !canSee(who, row.tenant)) throw new NotFoundError("incident", a.incidentId);
  const omit = new Set(a.omit ?? []);
  let incident: Record<string, unknown>;
  const stored = set.contexts.get(a.incidentId);
  if (stored && row.source === "bus") {
    incident = incidentJson(stored.context);
  } else {
    const s = ctx.stories.visible(who).find((x) => x.incidents.some((i) => i.incidentId === a.incidentId));
    const story = s && ctx.stories.read(s);
    incident = { ...(story?.incidents.find((i) => i.incidentId === a.incidentId) ?? {}), tenant: row.tenant, cluster: row.cluster, namespace: row.namespace, storyId: row.storyId };
  }
  for (const k of omit) delete incident[k];
  return { incident, status: row.status, source: row.source, uri: row.uri, ...(row.storyUri ? { storyUri: row.storyUri } : {}), ...(set.bus.problem ? { busProblem: set.bus.problem } : {}) };
}

// ---- insights ----

/** The analyzer's insights (FARO_INSIGHT) about an incident or a story's incidents, newest revision last. */
export async function getInsights(ctx: McpContext, who: Principal, a: { incidentId?: string; storyId?: string; cluster?: string; namespace?: string; limit: number; cursor?: string }) {
  if (!ctx.bus) throw new Error(`insights live on the bus, which is not reachable (${ctx.busProblem ?? "not connected"})`);
  const filters = who.tenants === "*" ? [insightFilter({ cluster: a.cluster, namespace: a.namespace, storyId: a.storyId })] : [...who.tenants].sort().map((tenant) => insightFilter({ tenant, cluster: a.cluster, namespace: a.namespace, storyId: a.storyId }));
  const found: Record<string, JsonValue>[] = [];
  let truncated = false;
  let budget = ctx.config.limits.maxScan;
  for (const f of filters) {
    const r = await ctx.bus.scan(FARO_INSIGHT.name, f, undefined, budget, (subject, data) => {
      const parsed = parseSubject(subject);
      if (parsed.stage !== "insight" || !canSee(who, parsed.tenant)) return;
      const insight = decodeInsight(data);
      if (a.incidentId !== undefined && insight.incidentId !== a.incidentId) return;
      found.push(toCanonicalJson("Insight", insight));
    });
    ctx.metrics.undecodable.inc({ stream: FARO_INSIGHT.name }, r.undecodable);
    budget -= r.scanned;
    if (r.truncated) {
      truncated = true;
      break;
    }
  }
  const p = page(found, a.cursor, a.limit);
  return { insights: p.items, matched: found.length, truncated, ...(p.nextCursor === undefined ? {} : { nextCursor: p.nextCursor }) };
}
