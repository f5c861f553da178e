// The configuration reference renderer. Whether docs/configuration.md matches the services' schemas is
// checked by scripts/gen-config-docs.test.ts (a library cannot import the services).
import { describe, expect, it } from "vitest";
import { renderConfigDocs } from "@faro/config";
import { fixtureSchema } from "./fixtures/schema.js";

describe("renderConfigDocs", () => {
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
