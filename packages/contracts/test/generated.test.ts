// The committed generated code (src/gen/) is what scripts/gen-contracts.ts makes of proto/faro.proto
// today: the generator is run into a temporary directory and its output compared byte for byte. It needs
// only node_modules (protobufjs-cli), so this runs wherever the dependencies are installed.
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import { createRequire } from "node:module";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";

const root = path.resolve(import.meta.dirname, "..", "..", "..");
const genDir = path.join(root, "packages", "contracts", "src", "gen");
const FILES = ["faro.js", "faro.d.ts", "faro.json"];

let missing: string | undefined;
try {
  createRequire(path.join(root, "package.json")).resolve("protobufjs-cli");
} catch {
  missing = "protobufjs-cli is not installed (run npm run setup)";
  console.warn(`[contracts] skipping the generated-code staleness check: ${missing}`);
}

describe("generated contract code", () => {
  it.skipIf(missing !== undefined)(`is up to date with proto/faro.proto${missing ? ` (skipped: ${missing})` : ""}`, () => {
    const out = fs.mkdtempSync(path.join(os.tmpdir(), "faro-gen-check-"));
    try {
      const r = spawnSync(process.execPath, ["--import", "tsx", path.join(root, "scripts", "gen-contracts.ts"), "--out", out], {
        cwd: root,
        encoding: "utf8",
      });
      expect(r.status, r.stderr).toBe(0);
      const stale = FILES.filter((f) => {
        const committed = path.join(genDir, f);
        return !fs.existsSync(committed) || fs.readFileSync(committed, "utf8") !== fs.readFileSync(path.join(out, f), "utf8");
      });
      expect(stale, `stale generated files in packages/contracts/src/gen — run \`npm run gen:contracts\``).toEqual([]);
    } finally {
      fs.rmSync(out, { recursive: true, force: true });
    }
  });
});
