// Fails when docs/configuration.md no longer matches what the services' schemas generate.
import fs from "node:fs";
import { describe, expect, it } from "vitest";
import { CONFIG_DOCS_PATH, generateConfigDocs } from "./gen-config-docs.js";

describe("docs/configuration.md", () => {
  it("is up to date with the schemas (run `npm run docs:config` if this fails)", async () => {
    const expected = await generateConfigDocs();
    const current = fs.existsSync(CONFIG_DOCS_PATH) ? fs.readFileSync(CONFIG_DOCS_PATH, "utf8") : "";
    expect(current === expected, "docs/configuration.md is stale: run `npm run docs:config`").toBe(true);
  });
});
