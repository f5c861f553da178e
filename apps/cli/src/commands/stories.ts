// `faro stories [ls | show ID]`: lists the story files the writer wrote and prints one as a readable summary or raw JSON.
import fs from "node:fs/promises";
import type { StoryFile, StoryPod, StoryTimelineEntry } from "@faro/contracts";
import { findStoryFile, listStoryFiles, StoryNotFoundError, type StoryFileSummary } from "@faro/writer";
import { parseFlags, type Command, type CommandIO, type FlagSpec } from "../command.js";
import { CommandError, UsageError } from "../errors.js";

const DEFAULT_DIR = "./faro-data/stories";
const LINES_PER_LOG_ENTRY = 5;
const FLAGS: FlagSpec = { dir: "string", json: "boolean", help: "boolean" };

/** Splits positionals (subcommand, id) from flags, wherever they appear. */
function split(args: string[]): { positionals: string[]; flags: string[] } {
  const positionals: string[] = [];
  const flags: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
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

async function ls(dir: string, json: boolean, io: CommandIO): Promise<number> {
  const { files, unreadable } = await listStoryFiles(dir).catch((err: unknown) => {
    throw new CommandError(`cannot list ${dir}: ${(err as Error).message}`, "stories", { cause: err });
  });
  for (const u of unreadable) io.err(`faro stories: skipped unreadable ${u.path}: ${u.error}`);
  if (json) {
    io.out(JSON.stringify(files, null, 2));
    return 0;
  }
  if (files.length === 0) {
    io.out(`no story files in ${dir}`);
    return 0;
  }
  const rows = [["NAMESPACE", "WORKLOAD", "WINDOW", "PODS", "INCIDENTS", "STATE", "ID", "PATH"]];
  for (const f of files) rows.push([f.namespace || "(cluster)", f.workload, String(f.window), String(f.pods), incidentsText(f.incidents), stateText(f), f.id, f.path]);
  for (const line of table(rows)) io.out(line);
  io.out(`${files.length} stor${files.length === 1 ? "y" : "ies"} in ${dir}`);
  return 0;
}

function stateText(f: StoryFileSummary): string {
  return f.state === "closed" ? `closed (${f.closeReason})` : "snapshot";
}

function podLines(p: StoryPod): string[] {
  const out = [`  ${p.name}  uid ${p.uid}  node ${p.node || "-"}  created ${p.createdAt}${p.deletedAt ? `  deleted ${p.deletedAt}` : ""}${p.replacesPodUid ? `  replaces ${p.replacesPodUid}` : ""}`];
  for (const c of p.containers) {
    const inst = c.instances
      .map((i) => {
        const bits = [`#${i.restartCount}`];
        if (i.startedAt) bits.push(`started ${i.startedAt}`);
        if (i.finishedAt) bits.push(`finished ${i.finishedAt}`);
        if (i.exitCode !== undefined) bits.push(`exit ${i.exitCode}`);
        if (i.reason) bits.push(i.reason);
        return bits.join(" ");
      })
      .join("; ");
    out.push(`    ${c.type === "regular" ? "" : `${c.type} `}${c.name}: ${inst || "no instance seen"}`);
  }
  return out;
}

function timelineLine(t: StoryTimelineEntry): string[] {
  const where = t.pod ? ` [${t.pod}${t.container ? `/${t.container}` : ""}]` : "";
  const head = `  ${t.timestamp}  ${t.kind.padEnd(9)} ${t.summary}${where}`;
  if (t.kind !== "log") return [head];
  const lines = Array.isArray(t.data["lines"]) ? (t.data["lines"] as Array<{ line: string }>) : [];
  // A summary, not the file: a few lines per batch (--json has them all).
  const out = [head, ...lines.slice(0, LINES_PER_LOG_ENTRY).map((l) => `      | ${l.line}`)];
  if (lines.length > LINES_PER_LOG_ENTRY) out.push(`      | … ${lines.length - LINES_PER_LOG_ENTRY} more line(s) (--json shows all)`);
  if (typeof t.data["elidedLines"] === "number") out.push(`      | … ${t.data["elidedLines"]} line(s) elided from the file`);
  return out;
}

function pretty(s: StoryFile, file: string): string[] {
  const out: string[] = [];
  out.push(`story ${s.storyId} window ${s.window}: ${s.workload.kind}/${s.workload.name} in ${s.namespace || "(cluster-scoped)"} (tenant ${s.tenant || "-"}, cluster ${s.cluster})`);
  out.push(`file ${file}`);
  out.push(s.closedAt ? `opened ${s.openedAt}, closed ${s.closedAt} (${s.closeReason})` : `opened ${s.openedAt}, still open (snapshot)`);
  out.push(`owner chain: ${s.ownerChain.map((o) => `${o.kind}/${o.name}`).join(" → ")}`);
  out.push(`pods (${s.pods.length}):`);
  for (const p of s.pods) out.push(...podLines(p));
  out.push(`incidents (${s.incidents.length}):`);
  for (const i of s.incidents) {
    out.push(`  ${i.detectedAt}  ${i.reason} (${i.severity})${i.container ? ` container ${i.container}` : ""}${i.repeatCount > 1 ? ` ×${i.repeatCount}` : ""}${i.exitCode !== undefined ? ` exit ${i.exitCode}` : ""}${typeof i["message"] === "string" ? `: ${i["message"]}` : ""}`);
    if (i.logTail.length) {
      out.push(`    log tail (${i.logTail.length} line${i.logTail.length > 1 ? "s" : ""}):`);
      for (const l of i.logTail.slice(-10)) out.push(`      | ${l.line}`);
    }
  }
  const elided = Object.entries(s.elided.logLines ?? {});
  if (elided.length) out.push(`elided log lines: ${elided.map(([c, n]) => `${c} ${n}`).join(", ")}`);
  // Lines that never reached Faro (pod deleted before its log was read, log no longer served): gone for good.
  const unread = s.unreadLogs ?? [];
  if (unread.length) out.push(`unread logs (lines lost): ${unread.map((u) => `${u.pod}/${u.container}#${u.restartCount} ${u.reason}`).join(", ")}`);
  out.push(`timeline (${s.timeline.length} entries):`);
  for (const t of s.timeline) out.push(...timelineLine(t));
  return out;
}

async function show(dir: string, id: string, json: boolean, io: CommandIO): Promise<number> {
  let file: string;
  try {
    file = await findStoryFile(dir, id);
  } catch (err) {
    if (err instanceof StoryNotFoundError) throw new CommandError(err.message, "stories", { cause: err });
    throw new CommandError(`cannot look up "${id}" in ${dir}: ${(err as Error).message}`, "stories", { cause: err });
  }
  let text: string;
  let parsed: StoryFile;
  try {
    text = await fs.readFile(file, "utf8");
    parsed = JSON.parse(text) as StoryFile;
  } catch (err) {
    throw new CommandError(`cannot read ${file}: ${(err as Error).message}`, "stories", { cause: err });
  }
  if (json) io.out(text.trimEnd());
  else for (const line of pretty(parsed, file)) io.out(line);
  return 0;
}

export const storiesCommand: Command = {
  name: "stories",
  summary: "list story files and show one (timeline summary, or raw JSON with --json)",
  usage: "faro stories [ls | show ID] [--dir DIR] [--json]   (ID: file name without .json, a story id, or a unique prefix)",
  async run(args, io) {
    const { positionals, flags } = split(args);
    const f = parseFlags(flags, FLAGS, "stories");
    if (f.help) {
      io.out(`usage: ${storiesCommand.usage}`);
      io.out(`  --dir DIR  story directory (default ${DEFAULT_DIR})`);
      io.out("  --json     machine-readable output");
      return 0;
    }
    const dir = (f.dir as string | undefined) ?? DEFAULT_DIR;
    const json = f.json === true;
    const [sub = "ls", id, ...extra] = positionals;
    if (extra.length) throw new UsageError(`unexpected argument "${extra[0]}"`, "stories");
    if (sub === "ls") {
      if (id !== undefined) throw new UsageError(`unexpected argument "${id}"`, "stories");
      return await ls(dir, json, io);
    }
    if (sub === "show") {
      if (id === undefined) throw new UsageError("show needs a story ID (see `faro stories ls`)", "stories");
      return await show(dir, id, json, io);
    }
    throw new UsageError(`unknown subcommand "${sub}" (ls, show)`, "stories");
  },
};
