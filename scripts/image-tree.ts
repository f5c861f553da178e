// Assembles the file tree the production image copies (deploy/docker/Dockerfile), into OUT: the `faro` bundle,
// the data files it reads beside the sources (.proto, JSON schemas, built-in scenarios), and only the
// node_modules the bundle imports with their production dependencies — no devDependencies, no TypeScript
// sources, no tests. test/deploy/image.test.ts runs every service from such a tree.
// Usage: tsx scripts/image-tree.ts OUT [--link]   (build the bundle first: scripts/image-tree.sh does both)
import fs from "node:fs";
import path from "node:path";

const root = path.resolve(import.meta.dirname, "..");
const WORKSPACE_DIRS = ["packages", "services", "apps"] as const;
/** Directories never copied from a workspace package: tests, dependencies, the TypeScript-only launcher. */
const SKIP_DIRS = new Set(["node_modules", "test", "tests", "fixtures", "bench", "dist", "bin", "__tests__"]);

function workspacePackages(): string[] {
  const out: string[] = [];
  for (const dir of WORKSPACE_DIRS) {
    for (const name of fs.readdirSync(path.join(root, dir))) {
      if (fs.existsSync(path.join(root, dir, name, "package.json"))) out.push(path.join(root, dir, name));
    }
  }
  return out;
}

/** Every non-TypeScript file of a package (data the bundle reads at its source location), and its package.json. */
function copyDataFiles(pkg: string, out: string): void {
  const walk = (dir: string) => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) {
        if (!SKIP_DIRS.has(e.name)) walk(p);
      } else if (e.isFile() && !/\.(ts|tsx|md)$/.test(e.name) && !/\.test\./.test(e.name) && !e.name.startsWith("tsconfig")) {
        const dest = path.join(out, path.relative(root, p));
        fs.mkdirSync(path.dirname(dest), { recursive: true });
        fs.copyFileSync(p, dest);
      }
    }
  };
  walk(pkg);
}

function bundleText(): string {
  const dist = path.join(root, "apps", "cli", "dist");
  let text = "";
  const walk = (dir: string) => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name.endsWith(".mjs")) text += fs.readFileSync(p, "utf8");
    }
  };
  walk(dist);
  return text;
}

/** The `.pnpm/<entry>` directory a resolved package lives in. */
function pnpmEntry(realDir: string): string {
  const rel = path.relative(path.join(root, "node_modules", ".pnpm"), realDir);
  if (rel.startsWith("..")) throw new Error(`image-tree: ${realDir} is not in node_modules/.pnpm (dependencies not installed with pnpm?)`);
  return rel.split(path.sep)[0]!;
}

/** The packages linked in an entry's node_modules (its dependencies and itself), as real directories. */
function linked(entry: string): string[] {
  const nm = path.join(root, "node_modules", ".pnpm", entry, "node_modules");
  const names: string[] = [];
  for (const n of fs.readdirSync(nm)) {
    if (n.startsWith("@")) for (const s of fs.readdirSync(path.join(nm, n))) names.push(path.join(nm, n, s));
    else if (n !== ".bin") names.push(path.join(nm, n));
  }
  return names.map((p) => fs.realpathSync(p));
}

/** Copies a directory, symlinks kept as they are; `link` hard-links the files instead (same tree, faster, for tests). */
function copyTree(src: string, dest: string, link: boolean): void {
  if (!link) return fs.cpSync(src, dest, { recursive: true, verbatimSymlinks: true });
  fs.mkdirSync(dest, { recursive: true });
  for (const e of fs.readdirSync(src, { withFileTypes: true })) {
    const from = path.join(src, e.name);
    const to = path.join(dest, e.name);
    if (e.isSymbolicLink()) fs.symlinkSync(fs.readlinkSync(from), to);
    else if (e.isDirectory()) copyTree(from, to, link);
    else {
      try {
        fs.linkSync(from, to);
      } catch {
        fs.copyFileSync(from, to); // another filesystem
      }
    }
  }
}

export function assembleImageTree(out: string, options: { link?: boolean } = {}): { packages: string[]; entries: string[] } {
  // Freshness is image-tree.sh's job (it rebuilds the bundle when a source is newer); here it must exist.
  if (!fs.existsSync(path.join(root, "apps", "cli", "dist", "faro.mjs"))) throw new Error("image-tree: apps/cli/dist/faro.mjs is missing — run scripts/image-tree.sh (it builds first)");
  fs.rmSync(out, { recursive: true, force: true });
  fs.mkdirSync(out, { recursive: true });
  fs.cpSync(path.join(root, "apps", "cli", "dist"), path.join(out, "apps", "cli", "dist"), { recursive: true });
  fs.copyFileSync(path.join(root, "package.json"), path.join(out, "package.json"));
  const pkgs = workspacePackages();
  for (const pkg of pkgs) copyDataFiles(pkg, out);

  // The third-party packages the bundle imports (esbuild leaves them external): production dependencies of a
  // workspace package whose name the bundle quotes as a specifier. Test tooling (tsx, testcontainers) is not.
  const text = bundleText();
  const declared = new Map<string, string>();
  for (const pkg of pkgs) {
    const deps = (JSON.parse(fs.readFileSync(path.join(pkg, "package.json"), "utf8")) as { dependencies?: Record<string, string> }).dependencies ?? {};
    for (const name of Object.keys(deps)) if (!name.startsWith("@faro/") && !declared.has(name)) declared.set(name, pkg);
  }
  const imported = [...declared.keys()].filter((n) => text.includes(`"${n}"`) || text.includes(`"${n}/`)).sort();

  const entries = new Set<string>();
  const queue: string[] = [];
  const top = path.join(out, "node_modules");
  for (const name of imported) {
    const real = fs.realpathSync(path.join(declared.get(name)!, "node_modules", name));
    const entry = pnpmEntry(real);
    const link = path.join(top, name);
    fs.mkdirSync(path.dirname(link), { recursive: true });
    fs.symlinkSync(path.relative(path.dirname(link), path.join(top, ".pnpm", entry, "node_modules", name)), link);
    if (!entries.has(entry)) (entries.add(entry), queue.push(entry));
  }
  // The closure of their dependencies, in pnpm's own layout (relative symlinks between `.pnpm` entries).
  while (queue.length) {
    for (const dep of linked(queue.pop()!)) {
      const entry = pnpmEntry(dep);
      if (!entries.has(entry)) (entries.add(entry), queue.push(entry));
    }
  }
  for (const entry of entries) {
    copyTree(path.join(root, "node_modules", ".pnpm", entry), path.join(top, ".pnpm", entry), options.link ?? false);
  }
  return { packages: imported, entries: [...entries].sort() };
}

if (process.argv[1] && path.resolve(process.argv[1]) === path.resolve(import.meta.filename)) {
  const out = process.argv[2];
  const flags = process.argv.slice(3);
  if (!out || flags.some((f) => f !== "--link")) {
    console.error("usage: tsx scripts/image-tree.ts OUT [--link]   (--link: hard links instead of copies)");
    process.exit(2);
  }
  const { packages, entries } = assembleImageTree(path.resolve(out), { link: flags.includes("--link") });
  console.log(`image tree in ${out}: ${packages.length} packages imported by the bundle, ${entries.length} in node_modules`);
}
