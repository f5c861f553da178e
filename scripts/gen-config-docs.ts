// Writes docs/configuration.md from the common schema and every service's `configSchema` (exported by
// `@faro/<service>`). `--check` exits 1 when the file is stale.
import fs from "node:fs";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { definitionOf } from "@faro/cli";
import { commonSchema, renderConfigDocs, type Schema } from "@faro/config";
import { configSchema as correlatorSchema } from "@faro/correlator";
import { configSchema as filterSchema } from "@faro/filter";
import { configSchema as logStreamerSchema } from "@faro/log-streamer";
import { configSchema as watcherSchema } from "@faro/watcher";
import { configSchema as writerSchema } from "@faro/writer";

const root = path.resolve(import.meta.dirname, "..");
export const CONFIG_DOCS_PATH = path.join(root, "docs", "configuration.md");

/** Each service's schema, in pipeline order. */
export const SERVICE_SCHEMAS = {
  watcher: watcherSchema,
  "log-streamer": logStreamerSchema,
  filter: filterSchema,
  correlator: correlatorSchema,
  writer: writerSchema,
} satisfies Record<string, Schema>;
export const SERVICES = Object.keys(SERVICE_SCHEMAS) as (keyof typeof SERVICE_SCHEMAS)[];
/** Documented after the pipeline's core, in this order. */
export const LATER_SERVICES = ["analyzer", "forwarder", "ingester", "remediator"] as const;

/** The schemas the reference documents: common first, then each service's. */
export async function collectSchemas(): Promise<Schema[]> {
  // Services the repository root does not depend on directly come through the CLI's service registry.
  const more = await Promise.all(LATER_SERVICES.map(async (name) => (await definitionOf(name)).schema as Schema));
  return [commonSchema, ...Object.values(SERVICE_SCHEMAS), ...more];
}

export async function generateConfigDocs(): Promise<string> {
  return renderConfigDocs(await collectSchemas());
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const text = await generateConfigDocs();
  if (process.argv.includes("--check")) {
    const current = fs.existsSync(CONFIG_DOCS_PATH) ? fs.readFileSync(CONFIG_DOCS_PATH, "utf8") : "";
    if (current !== text) {
      process.stderr.write("docs/configuration.md is stale: run `npm run docs:config`\n");
      process.exit(1);
    }
  } else {
    fs.writeFileSync(CONFIG_DOCS_PATH, text);
    process.stdout.write(`wrote ${path.relative(root, CONFIG_DOCS_PATH)}\n`);
  }
}
