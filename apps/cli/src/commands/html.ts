// `faro stories html ID [-o FILE]`: one story file as a self-contained HTML page (timeline, incidents, logs).
import fs from "node:fs/promises";
import path from "node:path";
import { parseArgs } from "node:util";
import { validateStoryFile, type StoryFile } from "@faro/contracts";
import { renderStoryHtml } from "@faro/story-view";
import type { CommandIO } from "../command.js";
import { CommandError, UsageError } from "../errors.js";
import { resolveStory } from "../story-lookup.js";

const DEFAULT_DIR = "./faro-data/stories";
export const STORIES_HTML_USAGE = "faro stories html REF [-o FILE] [--dir DIR]   (REF: NAMESPACE/NAME of a workload, a story id, file name, unique prefix, or a path to a story file)";

/** Reads and checks one story file: parsed, and valid against the story schema. */
export async function readStory(file: string, command: string): Promise<StoryFile> {
  let obj: unknown;
  try {
    obj = JSON.parse(await fs.readFile(file, "utf8"));
  } catch (err) {
    throw new CommandError(`cannot read story file ${file}: ${(err as Error).message}`, command, { cause: err });
  }
  const v = validateStoryFile(obj);
  if (!v.ok) throw new CommandError(`${file} is not a valid story file: ${v.errors.slice(0, 3).join("; ")}`, command);
  return obj as StoryFile;
}


/** `faro stories html`: the page goes to `-o FILE`, or to stdout (the only thing on it). */
export async function storiesHtml(args: string[], io: CommandIO): Promise<number> {
  let values: { out?: string; dir?: string; help?: boolean };
  let positionals: string[];
  try {
    ({ values, positionals } = parseArgs({
      args,
      options: { out: { type: "string", short: "o" }, dir: { type: "string" }, help: { type: "boolean", short: "h" } },
      allowPositionals: true,
      strict: true,
    }));
  } catch (err) {
    throw new UsageError((err as Error).message, "stories html");
  }
  if (values.help) {
    io.out(`usage: ${STORIES_HTML_USAGE}`);
    io.out("  -o, --out FILE  write the page to FILE (default: stdout)");
    io.out(`  --dir DIR       story directory (default ${DEFAULT_DIR})`);
    return 0;
  }
  const [id, ...extra] = positionals;
  if (id === undefined) throw new UsageError("html needs a story (shop/payments, an id; see `faro stories ls`)", "stories html");
  if (extra.length) throw new UsageError(`unexpected argument "${extra[0]}"`, "stories html");
  // The same lookup as `faro stories show`: a workload by name, an id or prefix, or a path.
  const file = (await resolveStory(values.dir ?? DEFAULT_DIR, id)).path;
  const story = await readStory(file, "stories html");
  const html = renderStoryHtml(story);
  if (values.out === undefined) {
    io.out(html.trimEnd());
    return 0;
  }
  try {
    await fs.mkdir(path.dirname(path.resolve(values.out)), { recursive: true });
    await fs.writeFile(values.out, html);
  } catch (err) {
    throw new CommandError(`cannot write ${values.out}: ${(err as Error).message}`, "stories html", { cause: err });
  }
  io.err(`wrote ${values.out}: ${story.workload.kind} ${story.workload.name} (${story.storyId} window ${story.window}), ${Math.ceil(Buffer.byteLength(html) / 1024)} KiB`);
  return 0;
}
