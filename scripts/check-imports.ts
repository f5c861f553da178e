// Lints the workspace import graph: no import cycles between files or packages, and no deep imports
// into another package (only `@faro/<pkg>` itself, never `@faro/<pkg>/src/...` or a relative path
// that leaves the importing package).
import fs from "node:fs";
import path from "node:path";

const root = path.resolve(import.meta.dirname, "..");
const pkgRoots = ["packages", "services"].flatMap((d) =>
  fs.existsSync(path.join(root, d)) ? fs.readdirSync(path.join(root, d)).map((n) => path.join(root, d, n)) : [],
);
const pkgNameByDir = new Map<string, string>();
for (const dir of pkgRoots) {
  const pj = path.join(dir, "package.json");
  if (fs.existsSync(pj)) pkgNameByDir.set(dir, JSON.parse(fs.readFileSync(pj, "utf8")).name as string);
}
const dirByPkgName = new Map([...pkgNameByDir].map(([d, n]) => [n, d]));

function walk(dir: string, out: string[] = []): string[] {
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    if (e.name === "node_modules" || e.name.startsWith(".")) continue;
    const p = path.join(dir, e.name);
    if (e.isDirectory()) walk(p, out);
    else if (p.endsWith(".ts")) out.push(p);
  }
  return out;
}
const pkgOf = (file: string) => pkgRoots.find((d) => file.startsWith(d + path.sep));
const importRe = /(?:^|\n)\s*(?:import|export)\s[^;]*?from\s+["']([^"']+)["']|import\(\s*["']([^"']+)["']\s*\)/g;

const problems: string[] = [];
const fileEdges = new Map<string, string[]>();
const pkgEdges = new Map<string, Set<string>>();
for (const dir of pkgRoots) {
  const src = path.join(dir, "src");
  if (!fs.existsSync(src)) continue;
  for (const file of walk(src)) {
    const text = fs.readFileSync(file, "utf8");
    const edges: string[] = [];
    for (const m of text.matchAll(importRe)) {
      const spec = m[1] ?? m[2];
      if (!spec) continue;
      const rel = path.relative(root, file);
      if (spec.startsWith("@faro/")) {
        const parts = spec.split("/");
        if (parts.length > 2) problems.push(`${rel}: deep import "${spec}" — import "@faro/${parts[1]}" instead`);
        const target = dirByPkgName.get(`@faro/${parts[1]}`);
        if (target && target !== dir && !file.endsWith(".test.ts")) {
          if (!pkgEdges.has(dir)) pkgEdges.set(dir, new Set());
          pkgEdges.get(dir)!.add(target);
        }
      } else if (spec.startsWith(".")) {
        const resolved = path.resolve(path.dirname(file), spec).replace(/\.js$/, ".ts");
        if (pkgOf(resolved) !== dir) problems.push(`${rel}: relative import "${spec}" leaves its package — import the package by name`);
        if (!file.endsWith(".test.ts") && !resolved.endsWith(".test.ts")) edges.push(resolved);
      }
    }
    fileEdges.set(file, edges);
  }
}

function findCycles<T>(nodes: Iterable<T>, next: (n: T) => Iterable<T>, show: (n: T) => string): string[] {
  const state = new Map<T, 1 | 2>();
  const stack: T[] = [];
  const found: string[] = [];
  const visit = (n: T) => {
    state.set(n, 1);
    stack.push(n);
    for (const m of next(n)) {
      if (state.get(m) === 1) found.push([...stack.slice(stack.indexOf(m)), m].map(show).join(" → "));
      else if (!state.has(m)) visit(m);
    }
    stack.pop();
    state.set(n, 2);
  };
  for (const n of nodes) if (!state.has(n)) visit(n);
  return found;
}
for (const c of findCycles(fileEdges.keys(), (f) => fileEdges.get(f) ?? [], (f) => path.relative(root, f)))
  problems.push(`import cycle: ${c}`);
for (const c of findCycles(pkgEdges.keys(), (d) => pkgEdges.get(d) ?? [], (d) => pkgNameByDir.get(d) ?? d))
  problems.push(`package cycle: ${c}`);

if (problems.length > 0) {
  console.error(`check-imports: ${problems.length} problem(s)\n  ` + problems.join("\n  "));
  process.exit(1);
}
console.log(`check-imports: ${fileEdges.size} files, no cycles, no deep imports`);
