// Loads the demo story files committed under test/fixtures/stories.
import fs from "node:fs";
import path from "node:path";
import type { StoryFile } from "@faro/contracts";

export const FIXTURES = path.join(import.meta.dirname, "fixtures", "stories");

export const PAYMENTS = "shop/s-c5a8ff62e036e89f-w0.json";
export const INVENTORY = "shop/s-e732f910458c9f31-w0.json";
export const CART = "shop/s-5638f5bb2225c2bb-w0.json";
export const NODE = "_cluster/s-2f1231324e79d667-w0.json";

export function loadFixture(name: string): StoryFile {
  return JSON.parse(fs.readFileSync(path.join(FIXTURES, name), "utf8")) as StoryFile;
}
