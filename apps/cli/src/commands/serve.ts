// `faro serve`: a read-only web view of a story directory — the list with filters, and each story's page.
import fs from "node:fs/promises";
import http from "node:http";
import path from "node:path";
import { parseDuration } from "@faro/config";
import type { StoryFile } from "@faro/contracts";
import { renderStoryHtml, renderStoryListHtml, type StoryListFilters, type StoryListItem } from "@faro/story-view";
import { summarize } from "@faro/writer";
import { parseFlags, type Command, type CommandIO } from "../command.js";
import { CommandError, UsageError } from "../errors.js";

const DEFAULT_DIR = "./faro-data/stories";
const DEFAULT_HOST = "127.0.0.1";
const DEFAULT_PORT = 7474;
const DEFAULT_MAX_STORIES = 1000;
/** Cluster-scoped stories in the namespace filter (their namespace is ""). */
const CLUSTER_SCOPED = "_cluster";
/** A story id as the list links it: a file stem, nothing that could name another path. */
const ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,200}$/;

export interface ServeOptions {
  dir: string;
  host: string;
  port: number;
  maxStories: number;
}

interface Listing {
  all: StoryListItem[];
  paths: Map<string, string>;
  unreadable: number;
}

interface Cached {
  mtimeMs: number;
  size: number;
  item: StoryListItem;
}

/**
 * The story files under `dir` as list items, sorted by namespace, opening time and id like `faro stories ls`.
 * A long-running server must not re-read every file per request: a file is parsed again only when its size or
 * modification time changed (the writer replaces files by rename, so either changes with the content).
 */
function storyIndex(dir: string): () => Promise<Listing> {
  const cache = new Map<string, Cached>();
  return async () => {
    const all: StoryListItem[] = [];
    const paths = new Map<string, string>();
    const seen = new Set<string>();
    let unreadable = 0;
    let namespaces: string[];
    try {
      namespaces = (await fs.readdir(dir, { withFileTypes: true })).filter((d) => d.isDirectory()).map((d) => d.name);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") return { all, paths, unreadable };
      throw err;
    }
    for (const ns of namespaces) {
      const names = await fs.readdir(path.join(dir, ns)).catch(() => [] as string[]);
      // Temp files start with "." and never end in ".json" (docs/story-format.md).
      for (const name of names.filter((n) => n.endsWith(".json") && !n.startsWith("."))) {
        const file = path.join(dir, ns, name);
        try {
          const st = await fs.stat(file);
          let c = cache.get(file);
          if (!c || c.mtimeMs !== st.mtimeMs || c.size !== st.size) {
            const text = await fs.readFile(file, "utf8");
            const story = JSON.parse(text) as StoryFile;
            const f = summarize(story, file, Buffer.byteLength(text));
            const item: StoryListItem = { id: f.id, href: `/story/${encodeURIComponent(f.id)}`, cluster: typeof story.cluster === "string" ? story.cluster : "", namespace: f.namespace, workload: f.workload, window: f.window, pods: f.pods, incidents: f.incidents, state: f.state, openedAt: f.openedAt, closedAt: f.closedAt };
            c = { mtimeMs: st.mtimeMs, size: st.size, item };
            cache.set(file, c);
          }
          seen.add(file);
          all.push(c.item);
          paths.set(c.item.id, file);
        } catch (err) {
          // Removed by retention between readdir and read: simply gone. Anything else is counted.
          if ((err as NodeJS.ErrnoException).code !== "ENOENT") unreadable++;
        }
      }
    }
    for (const k of cache.keys()) if (!seen.has(k)) cache.delete(k);
    all.sort((a, b) => (a.namespace < b.namespace ? -1 : a.namespace > b.namespace ? 1 : a.openedAt < b.openedAt ? -1 : a.openedAt > b.openedAt ? 1 : a.id < b.id ? -1 : 1));
    return { all, paths, unreadable };
  };
}

/** A time filter: RFC3339, or a duration (`30m`, `2h`, `1d`) meaning that long before now. */
export function parseTime(text: string, now: number): number | undefined {
  const abs = Date.parse(text);
  if (Number.isFinite(abs) && /\d{4}-\d{2}-\d{2}/.test(text)) return abs;
  const d = parseDuration(text);
  return d === undefined ? undefined : now - d;
}

/** Applies the list's filters; an unparseable time is reported and ignored. */
export function filterStories(all: StoryListItem[], f: StoryListFilters, now: number): { items: StoryListItem[]; problems: string[] } {
  const problems: string[] = [];
  const since = f.since ? parseTime(f.since, now) : undefined;
  const until = f.until ? parseTime(f.until, now) : undefined;
  if (f.since && since === undefined) problems.push(`since: "${f.since}" is neither an RFC3339 time nor a duration like 30m; ignored`);
  if (f.until && until === undefined) problems.push(`until: "${f.until}" is neither an RFC3339 time nor a duration like 30m; ignored`);
  const items = all.filter((s) => {
    if (f.cluster && s.cluster !== f.cluster) return false;
    if (f.namespace && (f.namespace === CLUSTER_SCOPED ? s.namespace !== "" : s.namespace !== f.namespace)) return false;
    if (f.reason && !(f.reason in s.incidents)) return false;
    const opened = Date.parse(s.openedAt);
    // An open window (a snapshot) lasts until now.
    const closed = s.closedAt ? Date.parse(s.closedAt) : Infinity;
    if (since !== undefined && closed < since) return false;
    if (until !== undefined && opened > until) return false;
    return true;
  });
  return { items, problems };
}

function send(res: http.ServerResponse, status: number, type: string, body: string, head: boolean): void {
  res.writeHead(status, {
    "content-type": `${type}; charset=utf-8`,
    "content-length": Buffer.byteLength(body),
    "cache-control": "no-store",
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "no-referrer",
  });
  res.end(head ? undefined : body);
}

/** Host headers a page may be requested under: the bound address, and localhost names when bound to loopback (no DNS rebinding). */
function allowedHosts(host: string, port: number): Set<string> {
  const names = new Set([host.includes(":") ? `[${host}]` : host]);
  if (host === "127.0.0.1" || host === "::1" || host === "localhost") for (const n of ["127.0.0.1", "localhost", "[::1]"]) names.add(n);
  return new Set([...names].flatMap((n) => [n, `${n}:${port}`]));
}

/** The request handler: GET/HEAD only; `/`, `/api/stories`, `/story/ID`, `/story/ID.json`. */
export function storyHandler(opts: ServeOptions, portOf: () => number, onError: (err: unknown) => void, listing: () => Promise<Listing> = storyIndex(path.resolve(opts.dir))): http.RequestListener {
  const dir = path.resolve(opts.dir);
  return (req, res) => {
    void (async () => {
      const head = req.method === "HEAD";
      if (req.method !== "GET" && !head) {
        res.setHeader("allow", "GET, HEAD");
        return send(res, 405, "text/plain", "read-only: GET and HEAD only\n", false);
      }
      if (!allowedHosts(opts.host, portOf()).has(req.headers.host ?? "")) return send(res, 403, "text/plain", "unexpected Host header\n", head);
      const url = new URL(req.url ?? "/", "http://localhost");
      const filters: StoryListFilters = {};
      for (const k of ["cluster", "namespace", "reason", "since", "until"] as const) {
        const v = url.searchParams.get(k);
        if (v) filters[k] = v;
      }
      if (url.pathname === "/" || url.pathname === "/api/stories") {
        const { all } = await listing();
        const { items, problems } = filterStories(all, filters, Date.now());
        const shown = items.slice(0, opts.maxStories);
        if (url.pathname === "/api/stories") return send(res, problems.length ? 400 : 200, "application/json", `${JSON.stringify({ dir, total: all.length, stories: shown, omitted: items.length - shown.length, problems }, null, 2)}\n`, head);
        const choices = {
          clusters: [...new Set(all.map((s) => s.cluster))].sort(),
          namespaces: [...new Set(all.map((s) => s.namespace || CLUSTER_SCOPED))].sort(),
          reasons: [...new Set(all.flatMap((s) => Object.keys(s.incidents)))].sort(),
        };
        const html = renderStoryListHtml({ items: shown, filters, choices, total: all.length, dir, problems, omitted: items.length - shown.length });
        return send(res, problems.length ? 400 : 200, "text/html", html, head);
      }
      const m = /^\/story\/([^/]+)$/.exec(url.pathname);
      if (m) {
        const raw = decodeURIComponent(m[1]!);
        const json = raw.endsWith(".json");
        const id = json ? raw.slice(0, -5) : raw;
        // Only the files the listing shows are served: an id never becomes a path of its own.
        const file = ID.test(id) ? (await listing()).paths.get(id) : undefined;
        if (!file) return send(res, 404, "text/plain", `no story file ${id} in ${dir}\n`, head);
        const text = await fs.readFile(file, "utf8");
        if (json) return send(res, 200, "application/json", text, head);
        return send(res, 200, "text/html", renderStoryHtml(JSON.parse(text) as StoryFile, { backHref: "/" }), head);
      }
      return send(res, 404, "text/plain", "not found\n", head);
    })().catch((err: unknown) => {
      onError(err);
      if (!res.headersSent) send(res, 500, "text/plain", `error: ${(err as Error).message}\n`, false);
      else res.destroy();
    });
  };
}

export const serveCommand: Command = {
  name: "serve",
  summary: "browse the story files in a web browser: list with filters, one page per story (read-only, localhost)",
  usage: "faro serve [--dir DIR] [--port N] [--host ADDR] [--max-stories N]",
  async run(args, io: CommandIO) {
    const f = parseFlags(args, { dir: "string", port: "number", host: "string", "max-stories": "number", help: "boolean" }, "serve");
    if (f.help) {
      io.out(
        [
          `usage: ${serveCommand.usage}`,
          "Serves the story files of DIR read-only: / lists them (filters: cluster, namespace, incident reason, since/until),",
          "/story/ID shows one as a page (timeline, incidents, logs), /story/ID.json the file, /api/stories the list as JSON.",
          `  --dir DIR          story directory (default ${DEFAULT_DIR})`,
          `  --port N           TCP port (default ${DEFAULT_PORT}; 0 picks a free one)`,
          `  --host ADDR        address to bind (default ${DEFAULT_HOST}; anything else exposes the stories to the network)`,
          `  --max-stories N    rows listed at most (default ${DEFAULT_MAX_STORIES})`,
          "Ctrl-C stops it.",
        ].join("\n"),
      );
      return 0;
    }
    const port = (f.port as number | undefined) ?? DEFAULT_PORT;
    if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError(`--port must be an integer from 0 to 65535, got ${port}`, "serve");
    const maxStories = (f["max-stories"] as number | undefined) ?? DEFAULT_MAX_STORIES;
    if (!Number.isInteger(maxStories) || maxStories < 1) throw new UsageError(`--max-stories must be a positive integer, got ${maxStories}`, "serve");
    const opts: ServeOptions = { dir: (f.dir as string | undefined) ?? DEFAULT_DIR, host: (f.host as string | undefined) ?? DEFAULT_HOST, port, maxStories };
    const dir = path.resolve(opts.dir);
    const st = await fs.stat(dir).catch(() => undefined);
    if (!st?.isDirectory()) throw new CommandError(`no story directory at ${dir} — run \`npm run demo\` first, or pass --dir`, "serve");

    let bound = port;
    const listing = storyIndex(dir);
    const server = http.createServer(storyHandler(opts, () => bound, (err) => io.err(`faro serve: ${(err as Error).message}`), listing));
    await new Promise<void>((resolve, reject) => {
      server.once("error", (err: NodeJS.ErrnoException) =>
        reject(
          new CommandError(
            err.code === "EADDRINUSE" ? `port ${port} on ${opts.host} is in use — pick another with --port` : `cannot listen on ${opts.host}:${port}: ${err.message}`,
            "serve",
            { cause: err },
          ),
        ),
      );
      server.listen(port, opts.host, () => resolve());
    });
    const addr = server.address();
    bound = typeof addr === "object" && addr ? addr.port : port;
    const shownHost = opts.host.includes(":") ? `[${opts.host}]` : opts.host;
    const { all, unreadable } = await listing();
    if (unreadable) io.err(`faro serve: ${unreadable} unreadable file(s) in ${dir} are not listed`);
    if (opts.host !== DEFAULT_HOST && opts.host !== "localhost" && opts.host !== "::1") io.err(`faro serve: listening on ${opts.host}: story contents are visible to anyone who can reach it`);
    io.out(`serving ${all.length} stor${all.length === 1 ? "y" : "ies"} from ${dir} at http://${shownHost}:${bound}/ (Ctrl-C stops)`);

    await new Promise<void>((resolve) => {
      if (io.signal.aborted) resolve();
      else io.signal.addEventListener("abort", () => resolve(), { once: true });
    });
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
    return 0;
  },
};
