// Writes docs/configuration.md from the common schema and every service's `configSchema`
// (services/<name>/src/config.ts, when it exists). `--check` exits 1 when the file is stale.
import fs from "node:fs";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { commonSchema, renderConfigDocs, type Schema } from "@faro/config";

const root = path.resolve(import.meta.dirname, "..");
export const SERVICES = ["watcher", "log-streamer", "filter", "correlator", "writer"] as const;
export const CONFIG_DOCS_PATH = path.join(root, "docs", "configuration.md");

/** The schemas the reference documents: common first, then each service that has a config.ts. */
export async function collectSchemas(): Promise<Schema[]> {
  const schemas: Schema[] = [commonSchema];
  for (const name of SERVICES) {
    const file = path.join(root, "services", name, "src", "config.ts");
    if (!fs.existsSync(file)) continue;
    const mod = (await import(pathToFileURL(file).href)) as { configSchema?: Schema };
    if (!mod.configSchema) throw new Error(`${path.relative(root, file)} does not export configSchema`);
    schemas.push(mod.configSchema);
  }
  return schemas;
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
