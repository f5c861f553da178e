// Lints the import graph of every TypeScript file of the repository (packages, services, apps — src and
// tests — and scripts, bench, examples, test/), skipping node_modules and dist. Rules (docs/decisions/0005):
//
//   layers        packages < services < apps. A package never imports a service or an app; a service never
//                 imports an app or another service; an app never imports another app. Everything outside
//                 the workspace packages (scripts/, bench/, test/, examples/) may use every layer.
//   internals     across workspace packages only the package name is imported (`@faro/x`): no
//                 `@faro/x/src/…` (unless x's package.json `exports` declares that subpath), no relative path
//                 into another package's folder, no relative path out of a package into the rest of the repo,
//                 no `import()` of a computed path (it cannot be checked: import the package by name).
//   declared      a workspace package imports only the `@faro/*` packages its package.json declares
//                 (`dependencies`/`peerDependencies`/`optionalDependencies`; `devDependencies` too for tests
//                 and benchmarks); the root package.json likewise for scripts/, bench/, test/, examples/.
//   cycles        no import cycle between source files (tests excluded) or between packages.
//
// `tsx scripts/check-imports.ts [root]` prints one line per violation — `file:line: what [rule]` — and exits 1;
// exits 0 when clean. `checkImports(root)` does the same work and returns the violations (for tests).
import fs from "node:fs";
import path from "node:path";
import { pathToFileURL } from "node:url";
import ts from "typescript";

export type Layer = "package" | "service" | "app" | "root";
export type Rule = "layers" | "internals" | "declared" | "cycles";

export interface Violation {
  /** Path relative to the root, with `/` separators. */
  file: string;
  line: number;
  /** The module specifier, when the violation is about one import. */
  specifier?: string;
  what: string;
  rule: Rule;
}

export interface CheckResult {
  files: number;
  violations: Violation[];
}

interface WorkspacePackage {
  name: string;
  dir: string;
  layer: Exclude<Layer, "root">;
  /** `@faro/*` names usable from any file of the package. */
  deps: Set<string>;
  /** Names usable only from tests and benchmarks. */
  devDeps: Set<string>;
  /** Subpaths declared in `exports` (".", "./x", …). */
  exports: Set<string>;
}

const LAYER_DIRS: Record<string, Exclude<Layer, "root">> = { packages: "package", services: "service", apps: "app" };
const SKIP_DIRS = new Set(["node_modules", "dist"]);
const TS_FILE = /\.(?:ts|mts|cts|tsx)$/;
const RULE_TEXT: Record<Rule, string> = {
  layers: "packages < services < apps; no service imports another service",
  internals: "across packages import only @faro/<name>, never its files",
  declared: "import only the @faro packages package.json declares",
  cycles: "no import cycles",
};

function readJson(file: string): Record<string, unknown> {
  return JSON.parse(fs.readFileSync(file, "utf8")) as Record<string, unknown>;
}

function depNames(pj: Record<string, unknown>, ...fields: string[]): Set<string> {
  const out = new Set<string>();
  for (const f of fields) for (const n of Object.keys((pj[f] as Record<string, string> | undefined) ?? {})) out.add(n);
  return out;
}

function exportSubpaths(pj: Record<string, unknown>): Set<string> {
  const ex = pj["exports"];
  if (ex === undefined) return new Set(["."]);
  if (typeof ex === "string" || Array.isArray(ex)) return new Set(["."]);
  const keys = Object.keys(ex as object);
  // A conditions object ({ import, require, … }) describes "." only.
  return new Set(keys.every((k) => k.startsWith(".")) ? keys : ["."]);
}

function findWorkspacePackages(root: string): WorkspacePackage[] {
  const out: WorkspacePackage[] = [];
  for (const [top, layer] of Object.entries(LAYER_DIRS)) {
    const base = path.join(root, top);
    if (!fs.existsSync(base)) continue;
    for (const e of fs.readdirSync(base, { withFileTypes: true })) {
      const pjFile = path.join(base, e.name, "package.json");
      if (!e.isDirectory() || !fs.existsSync(pjFile)) continue;
      const pj = readJson(pjFile);
      out.push({
        name: String(pj["name"]),
        dir: path.join(base, e.name),
        layer,
        deps: depNames(pj, "dependencies", "peerDependencies", "optionalDependencies"),
        devDeps: depNames(pj, "devDependencies"),
        exports: exportSubpaths(pj),
      });
    }
  }
  return out;
}

function walk(dir: string, out: string[] = []): string[] {
  const entries = fs.readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const e of entries) {
    if (SKIP_DIRS.has(e.name) || e.name.startsWith(".")) continue;
    const p = path.join(dir, e.name);
    if (e.isDirectory()) walk(p, out);
    else if (e.isFile() && TS_FILE.test(e.name)) out.push(p);
  }
  return out;
}

/** Tests, test utilities and benchmarks: may use devDependencies, are left out of cycle detection. */
function isTestFile(rel: string): boolean {
  return /(^|\/)(test|tests|__tests__|bench|fixtures)\//.test(rel) || /\.(test|spec|test-util)\.[cm]?tsx?$/.test(rel);
}

interface Import {
  /** undefined: a dynamic import of a computed expression. */
  spec: string | undefined;
  line: number;
  typeOnly: boolean;
}

const MODULE_CALLS = new Set(["require", "require.resolve", "import.meta.resolve", "vi.mock", "vi.doMock", "vi.unmock", "vi.doUnmock", "vi.importActual", "vi.importMock"]);

/** Every module specifier a file names: import/export … from, import "x", import x = require("x"), import(),
 * `typeof import("x")`, require()/vi.mock()/vi.importActual() with a literal. */
export function importsOf(fileName: string, text: string): Import[] {
  const sf = ts.createSourceFile(fileName, text, ts.ScriptTarget.Latest, false, fileName.endsWith("x") ? ts.ScriptKind.TSX : ts.ScriptKind.TS);
  const out: Import[] = [];
  const lineOf = (n: ts.Node) => sf.getLineAndCharacterOfPosition(n.getStart(sf)).line + 1;
  const literal = (n: ts.Node | undefined) => (n && (ts.isStringLiteral(n) || ts.isNoSubstitutionTemplateLiteral(n)) ? n.text : undefined);
  const visit = (n: ts.Node): void => {
    if (ts.isImportDeclaration(n)) {
      const typeOnly = !!n.importClause?.isTypeOnly;
      out.push({ spec: literal(n.moduleSpecifier), line: lineOf(n), typeOnly });
    } else if (ts.isExportDeclaration(n) && n.moduleSpecifier) {
      out.push({ spec: literal(n.moduleSpecifier), line: lineOf(n), typeOnly: n.isTypeOnly });
    } else if (ts.isImportEqualsDeclaration(n) && ts.isExternalModuleReference(n.moduleReference)) {
      out.push({ spec: literal(n.moduleReference.expression), line: lineOf(n), typeOnly: n.isTypeOnly });
    } else if (ts.isImportTypeNode(n) && ts.isLiteralTypeNode(n.argument)) {
      const spec = literal(n.argument.literal);
      if (spec !== undefined) out.push({ spec, line: lineOf(n), typeOnly: true });
    } else if (ts.isCallExpression(n)) {
      if (n.expression.kind === ts.SyntaxKind.ImportKeyword) {
        out.push({ spec: literal(n.arguments[0]), line: lineOf(n), typeOnly: false });
      } else if (MODULE_CALLS.has(n.expression.getText(sf))) {
        const spec = literal(n.arguments[0]);
        if (spec !== undefined) out.push({ spec, line: lineOf(n), typeOnly: false });
      }
    }
    ts.forEachChild(n, visit);
  };
  visit(sf);
  return out;
}

function findCycles<T>(nodes: Iterable<T>, next: (n: T) => Iterable<T>): T[][] {
  const state = new Map<T, 1 | 2>();
  const stack: T[] = [];
  const found: T[][] = [];
  const visit = (n: T) => {
    state.set(n, 1);
    stack.push(n);
    for (const m of next(n)) {
      if (state.get(m) === 1) found.push([...stack.slice(stack.indexOf(m)), m]);
      else if (!state.has(m)) visit(m);
    }
    stack.pop();
    state.set(n, 2);
  };
  for (const n of nodes) if (!state.has(n)) visit(n);
  return found;
}

/** Resolves a relative specifier to the file it names (`.js` → `.ts`, directory → index). */
function resolveRelative(from: string, spec: string): string {
  const base = path.resolve(path.dirname(from), spec);
  const candidates = [base, base.replace(/\.([cm]?)js$/, ".$1ts"), base.replace(/\.jsx$/, ".tsx"), `${base}.ts`, path.join(base, "index.ts")];
  return candidates.find((c) => fs.existsSync(c) && fs.statSync(c).isFile()) ?? base.replace(/\.([cm]?)js$/, ".$1ts");
}

export function checkImports(root: string): CheckResult {
  root = path.resolve(root);
  const pkgs = findWorkspacePackages(root);
  const byName = new Map(pkgs.map((p) => [p.name, p]));
  const rootPj = fs.existsSync(path.join(root, "package.json")) ? readJson(path.join(root, "package.json")) : {};
  const rootDeps = depNames(rootPj, "dependencies", "devDependencies", "peerDependencies", "optionalDependencies");
  const ownerOf = (file: string) => pkgs.find((p) => file === p.dir || file.startsWith(p.dir + path.sep));
  const rel = (file: string) => path.relative(root, file).split(path.sep).join("/");
  const describe = (p: WorkspacePackage | undefined) => (p ? `${p.layer} ${p.name}` : "the repository root");

  const violations: Violation[] = [];
  const fileEdges = new Map<string, Set<string>>();
  const pkgEdges = new Map<WorkspacePackage, Set<WorkspacePackage>>();
  const files = walk(root);

  for (const file of files) {
    const from = ownerOf(file);
    const relFile = rel(file);
    const test = isTestFile(from ? rel(file).slice(rel(from.dir).length + 1) : relFile);
    const report = (line: number, spec: string | undefined, what: string, rule: Rule) =>
      violations.push({ file: relFile, line, ...(spec === undefined ? {} : { specifier: spec }), what, rule });
    const edges = new Set<string>();
    fileEdges.set(file, edges);

    // Layering between two workspace packages (or the root, which may use everything).
    const checkLayer = (line: number, spec: string, to: WorkspacePackage): boolean => {
      if (!from || to === from) return true;
      const bad =
        (from.layer === "package" && (to.layer === "service" || to.layer === "app")) ||
        (from.layer === "service" && (to.layer === "service" || to.layer === "app")) ||
        (from.layer === "app" && to.layer === "app");
      if (bad) report(line, spec, `${describe(from)} imports ${describe(to)}`, "layers");
      return !bad;
    };

    for (const imp of importsOf(file, fs.readFileSync(file, "utf8"))) {
      const { spec, line } = imp;
      if (spec === undefined) {
        report(line, undefined, "import() of a computed path: import the package by name", "internals");
        continue;
      }
      if (spec.startsWith(".") || path.isAbsolute(spec)) {
        const target = resolveRelative(file, spec);
        const to = ownerOf(target);
        if (to && to !== from) {
          report(line, spec, `relative import into ${describe(to)}'s files (${rel(target)}): import "${to.name}"`, "internals");
          checkLayer(line, spec, to);
        } else if (!to && from) {
          report(line, spec, `relative import leaves ${from.name} (${rel(target)})`, "internals");
        } else if (!test && !isTestFile(rel(target)) && TS_FILE.test(target)) {
          edges.add(target);
        }
        continue;
      }
      if (!spec.startsWith("@faro/")) continue;
      const [scope, name, ...rest] = spec.split("/");
      const pkgName = `${scope}/${name}`;
      const to = byName.get(pkgName);
      if (!to) {
        report(line, spec, `no workspace package is named ${pkgName}`, "declared");
        continue;
      }
      if (rest.length > 0 && !to.exports.has(`./${rest.join("/")}`))
        report(line, spec, `deep import into ${to.name}'s internals: import "${to.name}"`, "internals");
      // An import the layers forbid is not reported again as undeclared: the fix is to remove it.
      if (!checkLayer(line, spec, to) || to === from) continue;
      const declared = from ? from.deps.has(pkgName) || (test && from.devDeps.has(pkgName)) : rootDeps.has(pkgName);
      if (!declared) {
        const where = from ? `${rel(from.dir)}/package.json ${test ? "dependencies or devDependencies" : "dependencies"}` : "the root package.json";
        report(line, spec, `${pkgName} is not declared in ${where}`, "declared");
      }
      if (from && !test) {
        if (!pkgEdges.has(from)) pkgEdges.set(from, new Set());
        pkgEdges.get(from)!.add(to);
      }
    }
  }

  violations.sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : a.line - b.line));
  for (const c of findCycles(fileEdges.keys(), (f) => fileEdges.get(f) ?? [])) {
    violations.push({ file: rel(c[0]!), line: 1, what: `import cycle: ${c.map(rel).join(" → ")}`, rule: "cycles" });
  }
  for (const c of findCycles(pkgEdges.keys(), (p) => pkgEdges.get(p) ?? [])) {
    violations.push({ file: `${rel(c[0]!.dir)}/package.json`, line: 1, what: `package cycle: ${c.map((p) => p.name).join(" → ")}`, rule: "cycles" });
  }
  return { files: files.length, violations };
}

export function formatViolation(v: Violation): string {
  return `${v.file}:${v.line}: ${v.what} [${v.rule}: ${RULE_TEXT[v.rule]}]`;
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  const root = path.resolve(process.argv[2] ?? path.join(import.meta.dirname, ".."));
  const { files, violations } = checkImports(root);
  for (const v of violations) console.error(formatViolation(v));
  if (violations.length > 0) {
    console.error(`check-imports: ${violations.length} violation(s) in ${files} files`);
    process.exit(1);
  }
  console.log(`check-imports: ${files} files, layers respected, no deep imports, dependencies declared, no cycles`);
}
