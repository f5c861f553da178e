// The import check on fixture trees: each broken rule makes it fail, naming file and line; a clean tree passes.
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { checkImports, formatViolation, type Violation } from "./check-imports.js";

const ROOT = path.resolve(import.meta.dirname, "..");
const dirs: string[] = [];

type Tree = Record<string, string>;

const pkgJson = (name: string, deps: string[] = [], devDeps: string[] = []) =>
  JSON.stringify({
    name,
    type: "module",
    exports: { ".": "./src/index.ts" },
    dependencies: Object.fromEntries(deps.map((d) => [d, "workspace:*"])),
    devDependencies: Object.fromEntries(devDeps.map((d) => [d, "workspace:*"])),
  });

/** A small, clean workspace: two libraries, two services, one app, and root scripts/tests. */
function cleanTree(): Tree {
  return {
    "package.json": JSON.stringify({ name: "root", devDependencies: { "@faro/lib": "workspace:*", "@faro/base": "workspace:*", "@faro/alpha": "workspace:*", "@faro/beta": "workspace:*", "@faro/app": "workspace:*" } }),
    "packages/base/package.json": pkgJson("@faro/base"),
    "packages/base/src/index.ts": `export const base = 1;\n`,
    "packages/lib/package.json": pkgJson("@faro/lib", ["@faro/base"]),
    "packages/lib/src/index.ts": `import { base } from "@faro/base";\nexport { helper } from "./helper.js";\nexport const lib = base + 1;\n`,
    "packages/lib/src/helper.ts": `export const helper = () => 2;\n`,
    "packages/lib/test/lib.test.ts": `import { lib } from "../src/index.js";\nexport const x = lib;\n`,
    "services/alpha/package.json": pkgJson("@faro/alpha", ["@faro/lib"]),
    "services/alpha/src/index.ts": `import { lib } from "@faro/lib";\nexport { configSchema } from "./config.js";\nexport const alpha = lib;\n`,
    "services/alpha/src/config.ts": `export const configSchema = { name: "alpha" };\n`,
    "services/beta/package.json": pkgJson("@faro/beta", ["@faro/lib"]),
    "services/beta/src/index.ts": `import type { lib } from "@faro/lib";\nexport const beta: typeof lib = 3;\n`,
    "apps/app/package.json": pkgJson("@faro/app", ["@faro/alpha", "@faro/beta", "@faro/lib"]),
    "apps/app/src/index.ts": `import { alpha } from "@faro/alpha";\nexport const load = () => import("@faro/beta");\nexport const a = alpha;\n`,
    "scripts/docs.ts": `import { configSchema } from "@faro/alpha";\nimport { helper } from "./util.js";\nexport const s = [configSchema, helper];\n`,
    "scripts/util.ts": `export const helper = 1;\n`,
    "test/e2e/all.test.ts": `import { alpha } from "@faro/alpha";\nimport { beta } from "@faro/beta";\nimport { a } from "@faro/app";\nexport const all = [alpha, beta, a];\n`,
    // Never looked at.
    "packages/lib/node_modules/@faro/beta/src/index.ts": `import x from "../../../../../services/beta/src/index.js";\n`,
    "packages/lib/dist/bundle.ts": `import x from "@faro/alpha/src/config.js";\n`,
  };
}

function writeTree(tree: Tree): string {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), "faro-check-imports-"));
  dirs.push(root);
  for (const [rel, text] of Object.entries(tree)) {
    fs.mkdirSync(path.dirname(path.join(root, rel)), { recursive: true });
    fs.writeFileSync(path.join(root, rel), text);
  }
  return root;
}

function check(extra: Tree): Violation[] {
  return checkImports(writeTree({ ...cleanTree(), ...extra })).violations;
}

afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

describe("check-imports", () => {
  it("passes a clean tree", () => {
    const { files, violations } = checkImports(writeTree(cleanTree()));
    expect(violations).toEqual([]);
    expect(files).toBe(11);
  });

  it("fails when a package imports a service (or an app)", () => {
    const v = check({
      "packages/lib/package.json": pkgJson("@faro/lib", ["@faro/base", "@faro/alpha", "@faro/app"]),
      "packages/lib/src/helper.ts": `export const helper = () => 2;\nimport { alpha } from "@faro/alpha";\nexport const h = async () => (await import("@faro/app")).a;\n`,
    });
    expect(v).toEqual([
      expect.objectContaining({ file: "packages/lib/src/helper.ts", line: 2, specifier: "@faro/alpha", rule: "layers", what: "package @faro/lib imports service @faro/alpha" }),
      expect.objectContaining({ file: "packages/lib/src/helper.ts", line: 3, specifier: "@faro/app", rule: "layers", what: "package @faro/lib imports app @faro/app" }),
    ]);
  });

  it("fails when a service imports another service or an app, tests included", () => {
    const v = check({
      "services/beta/test/e2e.test.ts": `import { alpha } from "@faro/alpha";\nexport const x = alpha;\n`,
      "services/alpha/src/cli.ts": `export type { a } from "@faro/app";\n`,
    });
    expect(v.map((x) => [x.file, x.line, x.rule, x.what])).toEqual([
      ["services/alpha/src/cli.ts", 1, "layers", "service @faro/alpha imports app @faro/app"],
      ["services/beta/test/e2e.test.ts", 1, "layers", "service @faro/beta imports service @faro/alpha"],
    ]);
  });

  it("fails when a file imports another package's internals through a relative path", () => {
    const v = check({
      "scripts/docs.ts": `import { configSchema } from "../services/alpha/src/config.js";\nexport const s = configSchema;\n`,
      "test/e2e/all.test.ts": `\n\nimport type { helper } from "../../packages/lib/src/helper.ts";\nexport type H = typeof helper;\n`,
      "services/beta/src/index.ts": `export const beta = 3;\nexport { base } from "../../../packages/base/src/index.js";\n`,
    });
    expect(v.map((x) => [x.file, x.line, x.rule])).toEqual([
      ["scripts/docs.ts", 1, "internals"],
      ["services/beta/src/index.ts", 2, "internals"],
      ["test/e2e/all.test.ts", 3, "internals"],
    ]);
    expect(v[0]!.what).toBe(`relative import into service @faro/alpha's files (services/alpha/src/config.ts): import "@faro/alpha"`);
  });

  it("fails when a package's relative import leaves it for the rest of the repository", () => {
    const v = check({ "packages/lib/test/docs.test.ts": `import { helper } from "../../../scripts/util.js";\nexport const x = helper;\n` });
    expect(v).toEqual([expect.objectContaining({ file: "packages/lib/test/docs.test.ts", line: 1, rule: "internals", what: "relative import leaves @faro/lib (scripts/util.ts)" })]);
  });

  it("fails on @faro/x/src/... deep imports, from anywhere, in every import form", () => {
    const v = check({
      "scripts/docs.ts": `import { configSchema } from "@faro/alpha/src/config.js";\nexport const s = configSchema;\n`,
      "apps/app/src/index.ts": `export * from "@faro/lib/src/helper.js";\nexport const load = () => import("@faro/beta/src/index.js");\nexport type T = typeof import("@faro/lib/src/index.js");\n`,
      "test/e2e/all.test.ts": `import "@faro/base/src/index.js";\n`,
    });
    expect(v.map((x) => [x.file, x.line, x.specifier, x.rule])).toEqual([
      ["apps/app/src/index.ts", 1, "@faro/lib/src/helper.js", "internals"],
      ["apps/app/src/index.ts", 2, "@faro/beta/src/index.js", "internals"],
      ["apps/app/src/index.ts", 3, "@faro/lib/src/index.js", "internals"],
      ["scripts/docs.ts", 1, "@faro/alpha/src/config.js", "internals"],
      ["test/e2e/all.test.ts", 1, "@faro/base/src/index.js", "internals"],
    ]);
  });

  it("allows a subpath the target's package.json exports", () => {
    const v = check({
      "packages/base/package.json": JSON.stringify({ name: "@faro/base", exports: { ".": "./src/index.ts", "./testing": "./src/testing.ts" } }),
      "packages/base/src/testing.ts": `export const t = 1;\n`,
      "packages/lib/src/helper.ts": `import { t } from "@faro/base/testing";\nexport const helper = () => t;\n`,
    });
    expect(v).toEqual([]);
  });

  it("fails on an import() of a computed path (a service loaded by file name)", () => {
    const v = check({ "scripts/docs.ts": `import path from "node:path";\nexport const s = await import(path.join("services", "alpha", "src", "config.ts"));\n` });
    expect(v).toEqual([expect.objectContaining({ file: "scripts/docs.ts", line: 2, rule: "internals" })]);
  });

  it("fails when a package imports a @faro package its package.json does not declare", () => {
    const v = check({
      "services/beta/src/index.ts": `import { base } from "@faro/base";\nexport const beta = base;\n`,
      "packages/lib/test/lib.test.ts": `import { base } from "@faro/base";\nimport { nope } from "@faro/nope";\nexport const x = [base, nope];\n`,
    });
    expect(v.map((x) => [x.file, x.line, x.rule, x.what])).toEqual([
      ["packages/lib/test/lib.test.ts", 2, "declared", "no workspace package is named @faro/nope"],
      ["services/beta/src/index.ts", 1, "declared", "@faro/base is not declared in services/beta/package.json dependencies"],
    ]);
    const devOnly = check({
      "packages/lib/package.json": pkgJson("@faro/lib", [], ["@faro/base"]),
      "packages/lib/test/lib.test.ts": `import { base } from "@faro/base";\nexport const x = base;\n`,
    });
    // devDependencies count for tests only.
    expect(devOnly.map((x) => [x.file, x.line, x.what])).toEqual([
      ["packages/lib/src/index.ts", 1, "@faro/base is not declared in packages/lib/package.json dependencies"],
    ]);
  });

  it("fails on import cycles between files and between packages", () => {
    const v = check({
      "packages/lib/src/helper.ts": `import { lib } from "./index.js";\nexport const helper = () => lib;\n`,
      "packages/base/package.json": pkgJson("@faro/base", ["@faro/lib"]),
      "packages/base/src/index.ts": `import { lib } from "@faro/lib";\nexport const base = lib;\n`,
    });
    expect(v.map((x) => [x.rule, x.what])).toEqual([
      ["cycles", "import cycle: packages/lib/src/helper.ts → packages/lib/src/index.ts → packages/lib/src/helper.ts"],
      ["cycles", "package cycle: @faro/lib → @faro/base → @faro/lib"],
    ]);
  });

  it("as a command: one line per violation (file:line, what, rule) and exit 1; exit 0 when clean", () => {
    const tsx = path.join(ROOT, "node_modules", ".bin", "tsx");
    const script = path.join(ROOT, "scripts", "check-imports.ts");
    const bad = writeTree({ ...cleanTree(), "packages/base/src/index.ts": `export const base = 1;\nimport "@faro/alpha";\n` });
    const failed = spawnSync(tsx, [script, bad], { encoding: "utf8" });
    expect(failed.status).toBe(1);
    const [line] = failed.stderr.split("\n");
    expect(line).toBe(formatViolation({ file: "packages/base/src/index.ts", line: 2, what: "package @faro/base imports service @faro/alpha", rule: "layers" }));
    expect(line).toMatch(/^packages\/base\/src\/index\.ts:2: .* \[layers: /);
    const ok = spawnSync(tsx, [script, writeTree(cleanTree())], { encoding: "utf8" });
    expect(ok.stderr).toBe("");
    expect(ok.status).toBe(0);
  });
});
