#!/usr/bin/env node
// The `faro` command. Runs the built bundle (plain JavaScript: starts in a fraction of a second) when it is
// newer than every source file; otherwise — a checkout being edited — the TypeScript sources through tsx.
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..");
const bundle = path.join(root, "apps", "cli", "dist", "faro.mjs");

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

function bundleIsFresh() {
  if (process.env.FARO_FROM_SOURCE === "1") return false;
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

if (bundleIsFresh()) {
  await import(pathToFileURL(bundle).href);
} else {
  const { register } = await import("tsx/esm/api");
  register();
  await import("../src/main.ts");
}
