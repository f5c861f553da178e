// The MCP surface of Faro for one caller: tools (JSON Schema in and out), resources and the root-cause prompt.
// Every handler runs under Limits (rate, concurrency, result size, one log line) and sees only the caller's tenants.
import { McpServer, ResourceTemplate } from "@modelcontextprotocol/sdk/server/mcp.js";
import { z } from "zod";
import { diagnose } from "@faro/correlator";
import type { Principal } from "./config.js";
import { NotFoundError } from "./errors.js";
import { incidentUri } from "./bus.js";
import type { Limits } from "./limits.js";
import {
  INCIDENT_SECTIONS,
  findIncidents,
  findStories,
  findStory,
  getIncident,
  getInsights,
  getStory,
  page,
  parseTime,
  searchLogs,
  storyListItem,
  type McpContext,
} from "./queries.js";
import { storyUri } from "./stories.js";

export const SERVER_NAME = "faro";
export const SERVER_VERSION = "0.1.0";

/** Names of the tools this build offers (docs/mcp.md lists them). */
export const TOOL_NAMES = ["list_incidents", "get_incident", "get_story", "search_logs", "list_stories", "diagnose", "get_insights"] as const;

/** Most Kubernetes objects one diagnose call takes. */
const MAX_DIAGNOSE_OBJECTS = 1000;

const name = z.string().min(1).max(253);
const time = z.string().max(64).describe('RFC3339 time ("2026-12-08T01:00:00Z") or a duration back from now ("15m", "2h", "7d")');
const cursor = z.string().max(64).describe("nextCursor of the previous page, unchanged");
const workloadRef = z.object({ kind: z.string(), name: z.string() });

function json<T extends object>(out: T) {
  return { content: [{ type: "text" as const, text: JSON.stringify(out) }], structuredContent: out as unknown as Record<string, unknown> };
}

export function createServer(ctx: McpContext, limits: Limits, who: Principal): McpServer {
  const server = new McpServer(
    { name: SERVER_NAME, version: SERVER_VERSION },
    {
      instructions:
        "Faro holds what happened in Kubernetes workloads: stories (a workload's timeline across pod recreations, with logs of pods that no longer exist) and incidents (CrashLoopBackOff, OOMKilled, ... with their last log lines, events and recent changes). Everything here is redacted and read-only. Start with list_incidents or list_stories; results are paginated (pass nextCursor).",
    },
  );
  const { maxPageSize } = ctx.config.limits;
  const limit = (dflt: number) => z.number().int().min(1).max(maxPageSize).default(Math.min(dflt, maxPageSize)).describe(`items per page (at most ${maxPageSize}, limits.maxPageSize)`);
  const run = <A extends Record<string, unknown>, T extends object>(tool: string, args: A, fn: () => Promise<T> | T, logArgs?: Record<string, unknown>) =>
    limits.run(tool, who, args, async () => json(await fn()), logArgs);

  server.registerTool(
    "list_incidents",
    {
      title: "List incidents",
      description:
        "Incidents Faro detected (CrashLoopBackOff, OOMKilled, ImagePullBackOff, ...), newest first, from the bus (FARO_INCIDENT) and the story files. Filters: cluster, namespace, workload (root workload or pod name), reason, time range, status (open = its story window is still open; resolved = the window closed).",
      inputSchema: {
        cluster: name.optional(),
        namespace: name.optional(),
        workload: name.optional(),
        reason: name.optional().describe("e.g. CrashLoopBackOff"),
        since: time.optional(),
        until: time.optional(),
        status: z.enum(["open", "resolved", "any"]).default("any"),
        cursor: cursor.optional(),
        limit: limit(50),
      },
      outputSchema: {
        incidents: z.array(
          z.object({
            incidentId: z.string(),
            uri: z.string(),
            storyUri: z.string().optional(),
            storyId: z.string(),
            tenant: z.string(),
            cluster: z.string(),
            namespace: z.string(),
            workload: workloadRef.optional(),
            pod: z.string().optional(),
            container: z.string().optional(),
            reason: z.string(),
            severity: z.string(),
            detectedAt: z.string(),
            firstSeen: z.string().optional(),
            lastSeen: z.string().optional(),
            repeatCount: z.number(),
            exitCode: z.number().optional(),
            message: z.string().optional(),
            lastLogLine: z.string().optional(),
            status: z.enum(["open", "resolved"]),
            source: z.enum(["bus", "story-file"]),
          }),
        ),
        matched: z.number(),
        nextCursor: z.string().optional(),
        bus: z.object({ read: z.boolean(), scanned: z.number(), truncated: z.boolean(), problem: z.string().optional() }),
      },
      annotations: { readOnlyHint: true, openWorldHint: false },
    },
    (a) =>
      run("list_incidents", a, async () => {
        const set = await findIncidents(ctx, who, a);
        const p = page(set.rows, a.cursor, a.limit);
        return { incidents: p.items, matched: set.rows.length, ...(p.nextCursor === undefined ? {} : { nextCursor: p.nextCursor }), bus: set.bus };
      }),
  );

  server.registerTool(
    "get_incident",
    {
      title: "Get an incident",
      description: `One incident in full: the redacted IncidentContext (log tail, previous instance's log, events, manifests, recent changes, owner chain). \`omit\` leaves sections out to keep the answer small (${INCIDENT_SECTIONS.join(", ")}).`,
      inputSchema: { incidentId: z.string().min(1).max(128), omit: z.array(z.enum(INCIDENT_SECTIONS)).max(INCIDENT_SECTIONS.length).optional() },
      outputSchema: {
        incident: z.record(z.unknown()),
        status: z.enum(["open", "resolved"]),
        source: z.enum(["bus", "story-file"]),
        uri: z.string(),
        storyUri: z.string().optional(),
        busProblem: z.string().optional(),
      },
      annotations: { readOnlyHint: true, openWorldHint: false },
    },
    (a) => run("get_incident", a, () => getIncident(ctx, who, a)),
  );

  server.registerTool(
    "get_story",
    {
      title: "Get a story",
      description:
        "One window of a workload's story (the newest unless `window`): pods with their instances (also deleted ones), incidents, and the timeline (changes, events, lifecycle, logs, incidents) — paginated, optionally only a time window or some kinds, optionally without log lines (includeLogs=false keeps their counts).",
      inputSchema: {
        storyId: z.string().min(1).max(64),
        cluster: name.optional(),
        window: z.number().int().min(0).optional(),
        includeLogs: z.boolean().default(true),
        since: time.optional(),
        until: time.optional(),
        kinds: z.array(z.enum(["open", "change", "lifecycle", "event", "log", "incident", "close", "snapshot"])).max(8).optional(),
        cursor: cursor.optional(),
        limit: limit(100),
      },
      outputSchema: {
        uri: z.string(),
        windows: z.array(z.number()),
        story: z.record(z.unknown()),
        timeline: z.array(z.record(z.unknown())),
        timelineMatched: z.number(),
        nextCursor: z.string().optional(),
      },
      annotations: { readOnlyHint: true, openWorldHint: false },
    },
    (a) => run("get_story", a, () => getStory(ctx, who, a)),
  );

  server.registerTool(
    "search_logs",
    {
      title: "Search logs",
      description:
        "Log lines of a workload or of one pod instance — including pods that no longer exist — by time range and RE2 pattern, oldest first, from the story files. Each line says its pod, whether that pod was deleted, container and restart. Lines the writer elided and instances whose log could never be read are reported, not invented.",
      inputSchema: {
        workload: name.optional().describe("root workload name (e.g. the Deployment)"),
        pod: name.optional().describe("one pod instance, alive or deleted"),
        namespace: name.optional(),
        cluster: name.optional(),
        container: name.optional(),
        pattern: z.string().max(4096).optional().describe("RE2 regular expression matched against each line"),
        since: time.optional(),
        until: time.optional(),
        cursor: cursor.optional(),
        limit: limit(100),
      },
      outputSchema: {
        lines: z.array(
          z.object({
            timestamp: z.string(),
            pod: z.string(),
            podUid: z.string(),
            podDeleted: z.boolean(),
            deletedAt: z.string().optional(),
            container: z.string(),
            restartCount: z.number(),
            line: z.string(),
            truncated: z.boolean().optional(),
            storyUri: z.string(),
          }),
        ),
        matched: z.number(),
        scannedLines: z.number(),
        stories: z.number(),
        elidedLines: z.record(z.number()).optional(),
        unreadInstances: z.array(z.record(z.unknown())).optional(),
        nextCursor: z.string().optional(),
      },
      annotations: { readOnlyHint: true, openWorldHint: false },
    },
    (a) =>
      run("search_logs", a, () => {
        if (a.workload === undefined && a.pod === undefined) throw new Error("search_logs needs a workload or a pod (one workload's or one pod instance's logs)");
        return searchLogs(ctx, who, a);
      }),
  );

  server.registerTool(
    "list_stories",
    {
      title: "List stories",
      description: "Story windows (one per file), newest first: workload, time span, pods (and how many were deleted), log lines, incidents. Filters: cluster, namespace, workload, time range.",
      inputSchema: { cluster: name.optional(), namespace: name.optional(), workload: name.optional(), since: time.optional(), until: time.optional(), cursor: cursor.optional(), limit: limit(50) },
      outputSchema: {
        stories: z.array(
          z.object({
            uri: z.string(),
            storyId: z.string(),
            window: z.number(),
            tenant: z.string(),
            cluster: z.string(),
            namespace: z.string(),
            workload: workloadRef,
            openedAt: z.string(),
            closedAt: z.string().optional(),
            status: z.enum(["open", "closed"]),
            pods: z.number(),
            podsDeleted: z.number(),
            logLines: z.number(),
            incidents: z.array(z.object({ incidentId: z.string(), reason: z.string(), severity: z.string() })),
          }),
        ),
        matched: z.number(),
        nextCursor: z.string().optional(),
      },
      annotations: { readOnlyHint: true, openWorldHint: false },
    },
    (a) =>
      run("list_stories", a, () => {
        const all = findStories(ctx, who, a);
        const p = page(all, a.cursor, a.limit);
        return { stories: p.items.map(storyListItem), matched: all.length, ...(p.nextCursor === undefined ? {} : { nextCursor: p.nextCursor }) };
      }),
  );

  server.registerTool(
    "diagnose",
    {
      title: "Diagnose Kubernetes objects",
      description:
        "Runs Faro's detection (the correlator's, as `faro diagnose` does) on Kubernetes objects you pass — Pods, Events, Nodes, a List, or `{type, object}` watch events in order — and returns the failures it finds (CrashLoopBackOff, OOMKilled, ImagePullBackOff, stuck Pending/Terminating, ...). Reads nothing from Faro's data.",
      inputSchema: {
        objects: z.array(z.record(z.unknown())).min(1).max(MAX_DIAGNOSE_OBJECTS).describe(`Kubernetes objects or watch events (at most ${MAX_DIAGNOSE_OBJECTS})`),
        now: time.optional().describe("source time for the stuck checks; default: the newest time in the input"),
      },
      outputSchema: {
        now: z.string(),
        versions: z.number(),
        objects: z.record(z.number()),
        findings: z.array(z.record(z.unknown())),
        rejected: z.array(z.string()),
      },
      annotations: { readOnlyHint: true, openWorldHint: false },
    },
    (a) =>
      run("diagnose", a, () => {
        const nowMs = a.now === undefined ? undefined : parseTime("now", a.now);
        const d = diagnose(a.objects, nowMs === undefined ? {} : { nowMs });
        return { now: d.now, versions: d.versions, objects: d.objects, findings: d.findings as unknown as Record<string, unknown>[], rejected: d.rejected };
      }, { objects: a.objects.length, now: a.now }),
  );

  server.registerTool(
    "get_insights",
    {
      title: "Get insights",
      description: "The analyzer's conclusions (FARO_INSIGHT): probable cause, evidence, next steps and confidence for an incident's revisions, or for every incident of a story. Empty when the analyzer does not run.",
      inputSchema: { incidentId: z.string().min(1).max(128).optional(), storyId: z.string().min(1).max(64).optional(), cluster: name.optional(), namespace: name.optional(), cursor: cursor.optional(), limit: limit(20) },
      outputSchema: { insights: z.array(z.record(z.unknown())), matched: z.number(), truncated: z.boolean(), nextCursor: z.string().optional() },
      annotations: { readOnlyHint: true, openWorldHint: false },
    },
    (a) =>
      run("get_insights", a, () => {
        if (a.incidentId === undefined && a.storyId === undefined) throw new Error("get_insights needs an incidentId or a storyId");
        return getInsights(ctx, who, a);
      }),
  );

  registerResources(server, ctx, limits, who);
  registerPrompt(server, ctx, limits, who);
  return server;
}

function registerResources(server: McpServer, ctx: McpContext, limits: Limits, who: Principal): void {
  const { maxPageSize } = ctx.config.limits;
  server.registerResource(
    "story",
    new ResourceTemplate("faro://story/{cluster}/{storyId}/{window}", {
      list: async () => limits.run("resources:story", who, {}, async () => ({
        resources: findStories(ctx, who, {})
          .slice(0, maxPageSize)
          .map((s) => ({ uri: storyUri(s), name: `${s.namespace || "_cluster"}/${s.workload.name} w${s.window}`, mimeType: "application/json", description: `story ${s.storyId} window ${s.window} of ${s.workload.kind} ${s.workload.name}` })),
      })),
    }),
    { title: "Story window", description: "One story file (one window of a workload's story), as the writer wrote it (docs/story-format.md).", mimeType: "application/json" },
    async (uri, v) =>
      limits.run("resource:story", who, { uri: uri.href }, async () => {
        const window = Number(v.window);
        if (!Number.isInteger(window)) throw new NotFoundError("story", uri.href);
        const { story } = findStory(ctx, who, { cluster: decodeURIComponent(String(v.cluster)), storyId: decodeURIComponent(String(v.storyId)), window });
        return { contents: [{ uri: uri.href, mimeType: "application/json", text: JSON.stringify(story) }] };
      }),
  );
  server.registerResource(
    "incident",
    new ResourceTemplate("faro://incident/{incidentId}", {
      list: async () => limits.run("resources:incident", who, {}, async () => {
        const seen = new Set<string>();
        const resources = [];
        for (const s of findStories(ctx, who, {}))
          for (const i of s.incidents) {
            if (seen.has(i.incidentId) || resources.length >= maxPageSize) continue;
            seen.add(i.incidentId);
            resources.push({ uri: incidentUri(i.incidentId), name: `${i.reason} ${s.namespace}/${s.workload.name}`, mimeType: "application/json" });
          }
        return { resources };
      }),
    }),
    { title: "Incident", description: "One incident's redacted IncidentContext (from FARO_INCIDENT, else from its story file).", mimeType: "application/json" },
    async (uri, v) =>
      limits.run("resource:incident", who, { uri: uri.href }, async () => {
        const r = await getIncident(ctx, who, { incidentId: decodeURIComponent(String(v.incidentId)) });
        return { contents: [{ uri: uri.href, mimeType: "application/json", text: JSON.stringify(r.incident) }] };
      }),
  );
}

/** Lines of a log tail as text, at most `n`, the newest last. */
const tail = (lines: unknown, n: number) =>
  (Array.isArray(lines) ? (lines as { timestamp?: string; line?: string }[]) : [])
    .slice(-n)
    .map((l) => `    ${l.timestamp ?? ""} ${l.line ?? ""}`)
    .join("\n") || "    (none)";

function registerPrompt(server: McpServer, ctx: McpContext, limits: Limits, who: Principal): void {
  server.registerPrompt(
    "root_cause_analysis",
    {
      title: "Root-cause analysis of an incident",
      description: "Frames one incident for root-cause analysis with its evidence: what happened, the last log lines, the previous instance's log, events, recent changes and the story around it.",
      argsSchema: { incidentId: z.string().min(1).max(128).describe("an incidentId from list_incidents") },
    },
    async ({ incidentId }) =>
      limits.run("prompt:root_cause_analysis", who, { incidentId }, async () => {
        const r = await getIncident(ctx, who, { incidentId });
        const i = r.incident as Record<string, unknown> & { ownerChain?: { kind: string; name: string }[]; pod?: { name?: string; node?: string } };
        const chain = (i.ownerChain ?? []).map((o) => `${o.kind}/${o.name}`).join(" → ");
        const events = (Array.isArray(i.events) ? (i.events as Record<string, unknown>[]) : []).slice(-10).map((e) => `    ${String(e.type)} ${String(e.reason)} ×${String(e.count ?? 1)}: ${String(e.message)}`).join("\n") || "    (none)";
        const changes = (Array.isArray(i.recentChanges) ? (i.recentChanges as Record<string, unknown>[]) : []).slice(-5).map((c) => `    ${String(c.timestamp ?? "")} ${String(c.kind)}/${String(c.name)}: ${String(c.diffJson ?? JSON.stringify(c.diff ?? ""))}`.slice(0, 600)).join("\n") || "    (none)";
        let around = "";
        const storyUriText = r.storyUri;
        if (storyUriText) {
          const m = /^faro:\/\/story\/([^/]+)\/([^/]+)\/(\d+)$/.exec(storyUriText);
          if (m) {
            const s = getStory(ctx, who, { cluster: decodeURIComponent(m[1]!), storyId: decodeURIComponent(m[2]!), window: Number(m[3]), includeLogs: false, kinds: ["change", "lifecycle", "event", "incident"], limit: 10_000 });
            around = s.timeline.slice(-25).map((e) => `    ${String(e.timestamp)} ${String(e.summary)}`).join("\n");
          }
        }
        const text = [
          "You are investigating a Kubernetes incident that Faro recorded. Find its most likely root cause, citing the evidence below",
          "(quote log lines and events), say what is still uncertain and which Faro tool calls (search_logs, get_story) would settle it,",
          "and propose a fix and a way to verify it. Do not invent facts that the evidence does not show.",
          "",
          `Incident ${incidentId}: ${String(i.reason)} (${String(i.severity)}), status ${r.status}`,
          `  where: cluster ${String(i.cluster)}, namespace ${String(i.namespace)}, ${chain || "workload unknown"}${i.container ? `, container ${String(i.container)}` : ""}`,
          `  pod: ${i.pod?.name ?? "?"}${i.pod?.node ? ` on ${i.pod.node}` : ""}; exit code ${i.exitCode ?? "n/a"}; restarts ${String(i.restartCount ?? "?")}; repeats ${String(i.repeatCount ?? 1)}`,
          `  first seen ${String(i.firstSeen ?? i.detectedAt ?? "?")}, last seen ${String(i.lastSeen ?? i.detectedAt ?? "?")}`,
          i.message ? `  message: ${String(i.message)}` : "",
          "",
          "Last log lines of the failing instance (newest last):",
          tail(i.logTail, 40),
          "",
          `Log of the previous instance (${String(i.previousLogSource ?? "n/a")}):`,
          tail(i.previousLog, 20),
          "",
          "Events:",
          events,
          "",
          "Recent changes to the workload:",
          changes,
          ...(around ? ["", `The story around it (${storyUriText}, without log lines):`, around] : []),
          "",
          `Full context: resource ${r.uri}${storyUriText ? ` and ${storyUriText}` : ""}.`,
        ]
          .filter((l, idx, all) => !(l === "" && all[idx - 1] === ""))
          .join("\n");
        return { description: `Root-cause analysis of ${String(i.reason)} ${incidentId}`, messages: [{ role: "user" as const, content: { type: "text" as const, text } }] };
      }),
  );
}
