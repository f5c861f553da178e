// Unit tests of story file paths: namespace folders, the cluster-scope folder, and names that cannot escape.
import path from "node:path";
import { describe, expect, it } from "vitest";
import { isTempFile } from "./atomic.js";
import { namespaceDir, storyFileName, storyFilePath } from "./paths.js";

describe("story file paths", () => {
  it("puts a window in its namespace folder, cluster-scoped roots in _cluster", () => {
    expect(storyFilePath("/d", "shop", "s-0123456789abcdef", 2)).toBe(path.join("/d", "shop", "s-0123456789abcdef-w2.json"));
    expect(storyFilePath("/d", "", "s-1", 0)).toBe(path.join("/d", "_cluster", "s-1-w0.json"));
  });

  it("never lets a name leave the directory or look like a temp or hidden file", () => {
    for (const bad of ["..", ".", "../etc", "a/b", ".hidden", "with space"]) {
      const seg = namespaceDir(bad);
      expect(seg).not.toContain("/");
      expect(seg.startsWith(".")).toBe(false);
    }
    expect(storyFileName("../x", 1)).toBe("%2E.%2Fx-w1.json");
    expect(isTempFile(".s-1-w0.json.42-abcdef.tmp")).toBe(true);
    expect(isTempFile("s-1-w0.json")).toBe(false);
  });
});
