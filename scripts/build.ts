// Bundles the `faro` CLI (every service, the simulator and the tools) into one ESM file, dist/faro.mjs,
// so production processes run plain JavaScript without the tsx loader (whose loader thread costs memory).
// Third-party packages stay external (resolved from node_modules); only the workspace's own code is
// bundled. Files that locate data next to their source (the .proto, the story schema, built-in
// scenarios) keep working because `import.meta.dirname`/`import.meta.url` are rewritten to the
// source file's location relative to the bundle.
import fs from "node:fs";
import path from "node:path";
import { build, type Plugin } from "esbuild";

const root = path.resolve(import.meta.dirname, "..");
const outdir = path.join(root, "apps", "cli", "dist");
const outfile = path.join(outdir, "faro.mjs");

function externals(): string[] {
  const names = new Set<string>();
  for (const dir of ["packages", "services", "apps"]) {
    for (const pkg of fs.readdirSync(path.join(root, dir))) {
      const pj = path.join(root, dir, pkg, "package.json");
      if (!fs.existsSync(pj)) continue;
      const deps = (JSON.parse(fs.readFileSync(pj, "utf8")) as { dependencies?: Record<string, string> }).dependencies ?? {};
      for (const name of Object.keys(deps)) if (!name.startsWith("@faro/")) names.add(name);
    }
  }
  return [...names];
}

const sourceLocation: Plugin = {
  name: "faro-source-location",
  setup(b) {
    b.onLoad({ filter: /\.ts$/ }, (args) => {
      let text = fs.readFileSync(args.path, "utf8");
      if (text.includes("import.meta.")) {
        const rel = path.relative(root, args.path).split(path.sep).join("/");
        const relDir = path.posix.dirname(rel);
        text = text
          .replaceAll("import.meta.dirname", `__faroSource(${JSON.stringify(relDir)})`)
          .replaceAll("import.meta.url", `__faroSourceUrl(${JSON.stringify(rel)})`);
      }
      return { contents: text, loader: "ts" };
    });
  },
};

const banner = [
  'import { fileURLToPath as __faroFileURLToPath, pathToFileURL as __faroPathToFileURL } from "node:url";',
  'import { join as __faroJoin } from "node:path";',
  // The entry and its chunks live under apps/cli/dist/; the workspace root is above that.
  "const __faroSelf = __faroFileURLToPath(import.meta.url);",
  "const __faroRoot = __faroSelf.slice(0, __faroSelf.lastIndexOf(__faroJoin('apps', 'cli', 'dist')));",
  "const __faroSource = (p) => __faroJoin(__faroRoot, p);",
  "const __faroSourceUrl = (p) => __faroPathToFileURL(__faroJoin(__faroRoot, p)).href;",
].join("\n");

// Built beside dist/ and swapped in with renames, so a `faro` started meanwhile (tests run several at once)
// finds either the old bundle or the new one, never half of one. The temporary name keeps "apps/cli/dist"
// in its path, which the banner uses to find the workspace root.
const started = Date.now();
const tmpdir = `${outdir}.tmp-${process.pid}`;
fs.rmSync(tmpdir, { recursive: true, force: true });
await build({
  entryPoints: [path.join(root, "apps", "cli", "src", "main.ts")],
  outdir: tmpdir,
  entryNames: "faro",
  chunkNames: "chunks/[name]-[hash]",
  outExtension: { ".js": ".mjs" },
  // Services are imported lazily by the CLI; splitting keeps each in its own chunk, so `faro run filter`
  // never loads the Kubernetes client or the simulator.
  splitting: true,
  bundle: true,
  platform: "node",
  format: "esm",
  target: "node20",
  sourcemap: "linked",
  external: externals(),
  plugins: [sourceLocation],
  banner: { js: banner },
  logLevel: "warning",
});
const old = `${outdir}.old-${process.pid}`;
if (fs.existsSync(outdir)) fs.renameSync(outdir, old);
fs.renameSync(tmpdir, outdir);
fs.rmSync(old, { recursive: true, force: true });
console.log(`built ${path.relative(root, outfile)} (${(fs.statSync(outfile).size / 1024).toFixed(0)} KiB) in ${Date.now() - started} ms`);
