// The production image's file tree (scripts/image-tree.sh, what deploy/docker/Dockerfile copies) holds only
// production dependencies, and every service runs from it with the workspace's devDependencies out of reach:
// the tree is assembled outside the repository, so Node cannot fall back on its node_modules. No container
// engine runs here; this is the part of the image a test can check.
import { execFile, spawn } from "node:child_process";
import { once } from "node:events";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { OPTIONAL_SERVICE_NAMES, SERVICE_NAMES } from "@faro/cli";
import { freePort, registerProcess, startNats, startRedis, until, type ManagedServer } from "@faro/test-harness";

const run = promisify(execFile);
const root = path.resolve(import.meta.dirname, "../..");
let tree: string;
let faro: string;

beforeAll(async () => {
  tree = fs.mkdtempSync(path.join(os.tmpdir(), "faro-image-"));
  // Hard links: the same tree as the Dockerfile's copy, assembled in a fraction of the time.
  await run(path.join(root, "scripts", "image-tree.sh"), [tree, "--link"], { cwd: root, timeout: 120_000 });
  faro = path.join(tree, "apps", "cli", "dist", "faro.mjs");
}, 150_000);

afterAll(() => {
  if (tree) fs.rmSync(tree, { recursive: true, force: true });
});

/** Runs `node faro.mjs …` from the tree's root (as the image's WORKDIR), outside the repository. */
async function faroRun(args: string[]): Promise<{ code: number; out: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [faro, ...args], { cwd: tree, timeout: 60_000, env: { ...process.env, NODE_ENV: "production" } });
    return { code: 0, out: stdout + stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, out: e.stdout + e.stderr };
  }
}

describe("production image tree", () => {
  it("is what the Dockerfile copies into a distroless, non-root Node 24 image, built with signature checks on", () => {
    const dockerfile = fs.readFileSync(path.join(root, "deploy", "docker", "Dockerfile"), "utf8");
    const stages = dockerfile.split(/^FROM /m).slice(1);
    const runtime = stages.at(-1)!;
    expect(runtime).toMatch(/^gcr\.io\/distroless\/nodejs24-debian12:nonroot/);
    expect(runtime).toMatch(/^COPY --from=build \/image \/app$/m);
    expect(runtime).toMatch(/^USER 65532:65532$/m);
    expect(runtime).toMatch(/^ENTRYPOINT \["\/nodejs\/bin\/node", "apps\/cli\/dist\/faro\.mjs"\]$/m);
    expect(stages[0]).toMatch(/scripts\/image-tree\.sh \/image/);
    expect(dockerfile).not.toMatch(/COREPACK_INTEGRITY_KEYS=0|--prod=false|verify-store-integrity=false/);
    // The compose file runs no service as root.
    expect(fs.readFileSync(path.join(root, "docker-compose.yml"), "utf8")).not.toMatch(/^\s*user:\s*["']?(root|0)(:|["']|\s*$)/m);
  });

  it("holds the bundle, its data files and production node_modules only: no devDependencies, no TypeScript sources, no tests", () => {
    expect(fs.existsSync(faro)).toBe(true);
    for (const data of ["packages/contracts/proto/faro.proto", "packages/contracts/schema/story.schema.json", "packages/kube-sim/src/scenarios/demo.yaml"]) {
      expect(fs.existsSync(path.join(tree, data)), data).toBe(true);
    }
    const dev = new Set<string>();
    for (const pj of [path.join(root, "package.json"), ...["packages", "services", "apps"].flatMap((d) => fs.readdirSync(path.join(root, d)).map((p) => path.join(root, d, p, "package.json")))]) {
      if (!fs.existsSync(pj)) continue;
      const json = JSON.parse(fs.readFileSync(pj, "utf8")) as { dependencies?: Record<string, string>; devDependencies?: Record<string, string> };
      for (const n of Object.keys(json.devDependencies ?? {})) if (!json.dependencies?.[n]) dev.add(n);
    }
    const entries = fs.readdirSync(path.join(tree, "node_modules", ".pnpm"));
    // Tools that only the build and the tests use, whoever declares them.
    for (const tool of ["vitest", "typescript", "tsx", "esbuild", "testcontainers", "protobufjs-cli", "puppeteer-core"]) {
      expect(entries.filter((e) => e.startsWith(`${tool}@`)), tool).toEqual([]);
    }
    const topLevel = fs.readdirSync(path.join(tree, "node_modules")).flatMap((n) => (n.startsWith("@") ? fs.readdirSync(path.join(tree, "node_modules", n)).map((s) => `${n}/${s}`) : n === ".pnpm" ? [] : [n]));
    for (const n of topLevel) expect(dev.has(n) && !["@kubernetes/client-node", "@nats-io/jetstream", "@nats-io/transport-node", "ajv", "ioredis", "yaml"].includes(n), `devDependency ${n} at the top level`).toBe(false);
    const sources: string[] = [];
    const walk = (dir: string) => {
      for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
        if (e.name === "node_modules") continue;
        const p = path.join(dir, e.name);
        if (e.isDirectory()) walk(p);
        else if (/\.ts$|\.test\./.test(e.name) || p.includes(`${path.sep}test${path.sep}`)) sources.push(path.relative(tree, p));
      }
    };
    walk(tree);
    expect(sources).toEqual([]);
  });

  it("loads every service from the tree: `faro run <name> --help` exits 0 and an invalid setting exits 2 naming it", async () => {
    const names = [...SERVICE_NAMES, ...OPTIONAL_SERVICE_NAMES];
    const results = await Promise.all(
      names.map(async (name) => ({ name, help: await faroRun(["run", name, "--help"]), invalid: await faroRun(["run", name, "--http.port=not-a-port"]) })),
    );
    for (const { name, help, invalid } of results) {
      expect(help.code, `${name} --help: ${help.out}`).toBe(0);
      expect(help.out).toContain(`usage: faro run ${name}`);
      // Exit 2 comes after the service's definition (and the modules it imports) loaded and its schema ran.
      expect(invalid.code, `${name} invalid: ${invalid.out}`).toBe(2);
      expect(invalid.out).toMatch(/http\.port/);
      expect(invalid.out).not.toMatch(/ERR_MODULE_NOT_FOUND|Cannot find (module|package)/);
    }
  }, 120_000);

  describe("a service against NATS and Redis", () => {
    let nats: ManagedServer;
    let redis: ManagedServer;
    beforeAll(async () => {
      [nats, redis] = await Promise.all([startNats(), startRedis()]);
    });
    afterAll(async () => {
      await nats?.stop();
      await redis?.stop();
    });

    it("the filter runs from the tree to ready, serves its metrics and stops cleanly on SIGTERM", async () => {
      const port = await freePort();
      const child = spawn(process.execPath, [faro, "run", "filter", `--nats.url=${nats.url}`, `--redis.url=${redis.url}`, "--http.host=127.0.0.1", `--http.port=${port}`, "--cluster=image-test"], {
        cwd: tree,
        stdio: ["ignore", "pipe", "pipe"],
        env: { ...process.env, NODE_ENV: "production" },
      });
      registerProcess(child);
      let output = "";
      child.stdout.on("data", (b: Buffer) => (output += b.toString()));
      child.stderr.on("data", (b: Buffer) => (output += b.toString()));
      const exited = once(child, "exit");
      try {
        await until(async () => (await fetch(`http://127.0.0.1:${port}/readyz`).catch(() => undefined))?.status === 200, "the filter is ready", 30_000);
        const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
        expect(metrics).toMatch(/^faro_service_ready\{[^}]*service="filter"[^}]*\} 1$/m);
      } finally {
        child.kill("SIGTERM");
      }
      const [code] = await exited;
      expect(code, output).toBe(0);
    }, 60_000);
  });
});
