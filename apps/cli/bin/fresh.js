// Whether the built bundle (apps/cli/dist/faro.mjs) is newer than every TypeScript source of the workspace.
// Used by bin/faro.js (run the bundle or the sources) and scripts/build.ts --if-stale (setup rebuilds only then).
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..");
export const bundle = path.join(root, "apps", "cli", "dist", "faro.mjs");

/** True when some .ts file under `dir` is newer than `than` (stops at the first one). */
function newerSource(dir, than) {
  let entries;
  try {
    entries = fs.readdirSync(dir, { withFileTypes: true });
  } catch {
    return false;
  }
  for (const e of entries) {
    if (e.name === "node_modules" || e.name === "dist") continue;
    const p = path.join(dir, e.name);
    if (e.isDirectory()) {
      if (newerSource(p, than)) return true;
    } else if (e.name.endsWith(".ts") && fs.statSync(p).mtimeMs > than) return true;
  }
  return false;
}

/** True when the bundle exists and no source file of packages/, services/ or apps/ is newer. */
export function bundleIsFresh() {
  let built;
  try {
    built = fs.statSync(bundle).mtimeMs;
  } catch {
    return false;
  }
  for (const layer of ["packages", "services", "apps"]) {
    for (const pkg of fs.readdirSync(path.join(root, layer))) if (newerSource(path.join(root, layer, pkg, "src"), built)) return false;
  }
  return true;
}
