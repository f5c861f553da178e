#!/usr/bin/env node
// The `faro` command. Runs the built bundle (plain JavaScript: starts in a fraction of a second) when it is
// newer than every source file; otherwise — a checkout being edited — the TypeScript sources through tsx.
import { pathToFileURL } from "node:url";
import { bundle, bundleIsFresh } from "./fresh.js";

if (process.env.FARO_FROM_SOURCE !== "1" && bundleIsFresh()) {
  await import(pathToFileURL(bundle).href);
} else {
  const { register } = await import("tsx/esm/api");
  register();
  await import("../src/main.ts");
}
