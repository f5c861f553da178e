// Fails when docs/configuration.md no longer matches what the schemas generate.
import fs from "node:fs";
import { describe, expect, it } from "vitest";
import { renderConfigDocs } from "@faro/config";
import { CONFIG_DOCS_PATH, generateConfigDocs } from "../../../scripts/gen-config-docs.js";
import { fixtureSchema } from "./fixtures/schema.js";

describe("docs/configuration.md", () => {
  it("is up to date with the schemas (run `npm run docs:config` if this fails)", async () => {
    const expected = await generateConfigDocs();
    const current = fs.existsSync(CONFIG_DOCS_PATH) ? fs.readFileSync(CONFIG_DOCS_PATH, "utf8") : "";
    expect(current === expected, "docs/configuration.md is stale: run `npm run docs:config`").toBe(true);
  });

  it("documents each field with type, default, env var, flag and example", () => {
    const md = renderConfigDocs([fixtureSchema]);
    expect(md).toContain("## fixture");
    expect(md).toContain(
      "| `queue.maxInFlight` | integer 1..10000 | `100` | `FARO_QUEUE_MAX_IN_FLIGHT` | `--queue.maxInFlight` | Messages in flight. | `500` |",
    );
    expect(md).toContain("| `rules[].name` | string | **required** |");
    // http.port differs from the common default, so the service section repeats it.
    expect(md).toMatch(/\| `http\.port` \| integer 0\.\.65535 \| `9101` \|/);
    expect(md).not.toMatch(/## fixture[\s\S]*`nats\.url`/);
  });
});
