// `faro stories [ls | show REF]`: lists the stories the writer wrote (one row per story) and prints one, found by
// workload name (`shop/payments`) or id, as a readable summary (sentences, colours, a pager) or raw JSON.
import fs from "node:fs/promises";
import type { StoryFile } from "@faro/contracts";
import { summarize as summarizeFile, type StoryFileSummary } from "@faro/writer";
import { parseFlags, type Command, type CommandIO, type FlagSpec } from "../command.js";
import { CommandError, UsageError } from "../errors.js";
import { storiesHtml } from "./html.js";
import { storiesPrune } from "./prune.js";
import { lastActivity, resolveStory, storyRows, type StoryFilters } from "../story-lookup.js";
import { storyText } from "../story-text.js";
import { formatTime, page, painter, parseSince, useColour } from "../terminal.js";

const DEFAULT_DIR = "./faro-data/stories";
const FLAGS: FlagSpec = {
  dir: "string",
  json: "boolean",
  cluster: "string",
  namespace: "string",
  kind: "string",
  since: "string",
  "no-logs": "boolean",
  "no-color": "boolean",
  "no-pager": "boolean",
  help: "boolean",
};

/** What show and ls take besides the directory. */
interface ViewOptions {
  filters: StoryFilters;
  json: boolean;
  colour: boolean;
  pager: boolean;
  noLogs: boolean;
  since?: Date;
}

/** Splits positionals (subcommand, id) from flags, wherever they appear. */
function split(args: string[]): { positionals: string[]; flags: string[] } {
  const positionals: string[] = [];
  const flags: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i] === "-n" ? "--namespace" : args[i]!;
    if (!a.startsWith("--")) {
      positionals.push(a);
      continue;
    }
    flags.push(a);
    const name = a.slice(2).split("=")[0]!;
    if (!a.includes("=") && FLAGS[name] && FLAGS[name] !== "boolean" && i + 1 < args.length) flags.push(args[++i]!);
  }
  return { positionals, flags };
}

function incidentsText(byReason: Record<string, number>): string {
  const parts = Object.entries(byReason)
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([r, n]) => (n > 1 ? `${r}×${n}` : r));
  return parts.length ? parts.join(",") : "-";
}

function table(rows: string[][]): string[] {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  return rows.map((r) => r.map((cell, c) => (c === r.length - 1 ? cell : cell.padEnd(widths[c]!))).join("  ").trimEnd());
}

async function ls(dir: string, o: ViewOptions, io: CommandIO): Promise<number> {
  let rows;
  try {
    rows = storyRows(dir, o.filters);
  } catch (err) {
    throw new CommandError(`cannot list ${dir}: ${(err as Error).message} — check --dir`, "stories", { cause: err });
  }
  const since = o.since?.toISOString();
  if (since) rows = rows.filter((r) => lastActivity(r.newest) >= since);
  if (o.json) {
    const out = [];
    for (const r of rows) {
      const bytes = (await fs.stat(r.newest.path).catch(() => ({ size: 0 }))).size;
      out.push({ ...summarizeFile(r.newest.story, r.newest.path, bytes), cluster: r.newest.story.cluster, windows: r.windows });
    }
    io.out(JSON.stringify(out, null, 2));
    return 0;
  }
  if (rows.length === 0) {
    io.err(`no stories in ${dir}${Object.values(o.filters).some(Boolean) || since ? " matching the filters" : ""}`);
    return 0;
  }
  const c = painter(o.colour);
  const table_ = [["CLUSTER", "NAMESPACE", "WORKLOAD", "WINDOW", "PODS", "INCIDENTS", "STATE", "LAST ACTIVITY", "ID"]];
  for (const r of rows) {
    const s = r.newest.story;
    const sum = summarizeFile(s, r.newest.path, 0);
    table_.push([s.cluster, s.namespace || "(cluster)", `${s.workload.kind.toLowerCase()}/${s.workload.name}`, r.windows > 1 ? `${s.window} (of ${r.windows})` : String(s.window), String(sum.pods), incidentsText(sum.incidents), stateText(sum), formatTime(lastActivity(r.newest)), sum.id]);
  }
  const lines = table(table_);
  // Colour after padding (escape codes would break the widths): the header bold, incidents red.
  io.out(c("bold", lines[0]!));
  for (let i = 1; i < lines.length; i++) io.out(o.colour && table_[i]![5] !== "-" ? lines[i]!.replace(table_[i]![5]!, c("red", table_[i]![5]!)) : lines[i]!);
  const clusters = new Set(rows.map((r) => r.newest.story.cluster));
  io.err(`${rows.length} stor${rows.length === 1 ? "y" : "ies"}${clusters.size > 1 ? ` from ${clusters.size} clusters (--cluster NAME for one)` : ""} in ${dir}; show one with: faro stories show NAMESPACE/NAME`);
  return 0;
}

function stateText(f: StoryFileSummary): string {
  return f.state === "closed" ? `closed (${f.closeReason})` : "snapshot";
}

async function show(dir: string, ref: string, o: ViewOptions, io: CommandIO): Promise<number> {
  const { path: file, otherClusters } = await resolveStory(dir, ref, o.filters);
  let text: string;
  let parsed: StoryFile;
  try {
    text = await fs.readFile(file, "utf8");
    parsed = JSON.parse(text) as StoryFile;
  } catch (err) {
    throw new CommandError(`cannot read ${file}: ${(err as Error).message}`, "stories", { cause: err });
  }
  if (otherClusters.length) io.err(`faro stories: showing cluster ${parsed.cluster}'s (newest); also in ${otherClusters.join(", ")} — choose with --cluster NAME`);
  if (o.json) {
    io.out(text.trimEnd());
    return 0;
  }
  await page(storyText(parsed, file, { colour: o.colour, noLogs: o.noLogs, since: o.since }), { enabled: o.pager, out: io.out });
  return 0;
}

export const storiesCommand: Command = {
  name: "stories",
  summary: "list stories (one row each) and show one by workload name: faro stories show shop/payments",
  usage: "faro stories [ls | show REF] [--dir DIR] [--cluster NAME] [-n NS] [--kind KIND] [--since 1h] [--no-logs] [--json] [--no-color] [--no-pager]",
  async run(args, io) {
    // `stories html ID -o FILE` has flags of its own (-o): html.ts parses them.
    if (args[0] === "html") return await storiesHtml(args.slice(1), io);
    // `stories prune` (prune.ts) has flags of its own too.
    if (args[0] === "prune") return await storiesPrune(args.slice(1), io);
    const { positionals, flags } = split(args);
    const f = parseFlags(flags, FLAGS, "stories");
    if (f.help) {
      io.out(`usage: ${storiesCommand.usage}`);
      io.out("  REF            NAME, NAMESPACE/NAME, KIND/NAME or NAMESPACE/KIND/NAME (shop/payments, deploy/payments), or a story id / file");
      io.out("                 (newest window; the newest run's when several clusters have it — --cluster to choose)");
      io.out(`  --dir DIR      story directory (default ${DEFAULT_DIR})`);
      io.out("  --cluster, -n/--namespace, --kind   only stories of that cluster, namespace, workload kind");
      io.out("  --since T      ls: stories active since T; show: timeline entries since T (a duration back from now, e.g. 1h, or an RFC 3339 time)");
      io.out("  --no-logs      show: leave log lines out of the timeline");
      io.out("  --json         ls: one object per story; show: the story file itself");
      io.out("  --no-color     no colours (also NO_COLOR=1; never when stdout is not a terminal)");
      io.out("  --no-pager     show: no pager (else $PAGER, or less -FRX, when the story does not fit the terminal)");
      io.out("Times are UTC with milliseconds: 2026-12-08T00:52:55.779Z.");
      return 0;
    }
    const dir = (f.dir as string | undefined) ?? DEFAULT_DIR;
    const json = f.json === true;
    const view: ViewOptions = {
      filters: { cluster: f.cluster as string | undefined, namespace: f.namespace as string | undefined, kind: f.kind as string | undefined },
      json,
      colour: !json && useColour(process.stdout, f["no-color"] === true),
      pager: !json && f["no-pager"] !== true,
      noLogs: f["no-logs"] === true,
      ...(f.since !== undefined ? { since: parseSince(String(f.since), "stories") } : {}),
    };
    const [sub = "ls", id, ...extra] = positionals;
    if (extra.length) throw new UsageError(`unexpected argument "${extra[0]}"`, "stories");
    if (sub === "ls") {
      if (id !== undefined) throw new UsageError(`unexpected argument "${id}"`, "stories");
      return await ls(dir, view, io);
    }
    if (sub === "show") {
      if (id === undefined) throw new UsageError("show needs a workload (shop/payments) or story id — list them with: faro stories ls", "stories");
      return await show(dir, id, view, io);
    }
    throw new UsageError(`unknown subcommand "${sub}" (ls, show, html, prune)`, "stories");
  },
};
