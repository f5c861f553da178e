// `faro stories prune --older-than 7d [--namespace NS] [--tenant T] [--cluster C] [--reason R] [--dry-run]`: removes
// story files (and their HTML pages) by filter, the same selection as the writer's POST /v1/cleanup; with --nats also
// the FARO_STORY messages of the stories removed whole (docs/story-management.md).
import { connectBus, type Bus } from "@faro/bus";
import { parseDuration } from "@faro/config";
import { cleanup, type CleanupFilter } from "@faro/writer";
import { parseFlags, type CommandIO, type FlagSpec } from "../command.js";
import { CommandError, UsageError } from "../errors.js";

const DEFAULT_DIR = "./faro-data/stories";
const FLAGS: FlagSpec = {
  dir: "string",
  "older-than": "string",
  namespace: "string",
  tenant: "string",
  cluster: "string",
  reason: "string",
  nats: "string",
  "dry-run": "boolean",
  json: "boolean",
  help: "boolean",
};

export const PRUNE_USAGE =
  "faro stories prune --older-than DURATION [--namespace NS] [--tenant T] [--cluster C] [--reason R] [--dry-run] [--dir DIR] [--nats URL] [--json]";

export async function storiesPrune(args: string[], io: CommandIO): Promise<number> {
  const f = parseFlags(args.map((a) => (a === "-n" ? "--namespace" : a)), FLAGS, "stories prune");
  if (f["help"]) {
    io.out(PRUNE_USAGE);
    io.out("Removes story files whose last activity is older than --older-than (7d, 12h), narrowed by the other filters;");
    io.out("--dry-run lists them and removes nothing. With --nats, FARO_STORY messages of stories removed whole go too.");
    return 0;
  }
  const older = f["older-than"];
  if (typeof older !== "string") throw new UsageError("--older-than is required (e.g. --older-than 7d): prune never removes everything by accident", "stories prune");
  const olderThanMs = parseDuration(older);
  if (olderThanMs === undefined) throw new UsageError(`--older-than must be a duration like 7d, 12h, 30m, got "${older}"`, "stories prune");
  const filter: CleanupFilter = { olderThanMs };
  for (const k of ["namespace", "tenant", "cluster", "reason"] as const) if (typeof f[k] === "string") filter[k] = f[k];
  const dir = typeof f["dir"] === "string" ? f["dir"] : DEFAULT_DIR;
  const dryRun = f["dry-run"] === true;
  let bus: Bus | undefined;
  try {
    if (typeof f["nats"] === "string") bus = await connectBus({ servers: f["nats"], name: "faro-stories-prune" });
  } catch (err) {
    throw new CommandError(`cannot connect to NATS at ${String(f["nats"])}: ${(err as Error).message}`, "stories prune", { cause: err });
  }
  try {
    const r = await cleanup(dir, filter, { dryRun, ...(bus ? { jsm: bus.jsm } : {}) });
    if (f["json"]) {
      io.out(JSON.stringify(r));
      return 0;
    }
    for (const file of r.files) io.out(`${dryRun ? "would remove" : "removed"} ${file}`);
    const bus0 = bus ? `, ${r.busMessages} FARO_STORY message${r.busMessages === 1 ? "" : "s"}${r.busKept.length ? ` (kept for ${r.busKept.length} stories with newer windows)` : ""}` : " (bus messages untouched: no --nats)";
    io.out(`${dryRun ? "dry run: would remove" : "removed"} ${r.files.length} file${r.files.length === 1 ? "" : "s"} of ${r.stories.length} stor${r.stories.length === 1 ? "y" : "ies"}${bus0}`);
    for (const u of r.unreadable) io.err(`unreadable (left alone): ${u.file}: ${u.error}`);
    return 0;
  } catch (err) {
    throw new CommandError(`pruning ${dir} failed: ${(err as Error).message}`, "stories prune", { cause: err });
  } finally {
    await bus?.close();
  }
}
