// Starts nats-server (JetStream) and redis-server on free ports with temporary data directories, or
// containers through testcontainers when the binaries are missing and a Docker engine is reachable.
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { ServerUnavailableError } from "./errors.js";
import { freePort } from "./ports.js";
import { ProcessServer, type ManagedServer } from "./process-server.js";

const INSTALL_HINT =
  "install it with `sudo apt-get install -y nats-server redis-server` (Debian/Ubuntu), " +
  "run `npm run setup` in the Faro repository, or start a Docker engine so testcontainers can be used";

export function findBinary(name: string): string | undefined {
  const envName = `FARO_${name.toUpperCase().replace(/-/g, "_")}_BIN`;
  const fromEnv = process.env[envName];
  if (fromEnv && fs.existsSync(fromEnv)) return fromEnv;
  const dirs = (process.env.PATH ?? "").split(path.delimiter).concat(["/usr/sbin", "/usr/local/sbin", "/usr/local/bin", "/usr/bin"]);
  for (const dir of dirs) {
    const p = path.join(dir, name);
    try {
      fs.accessSync(p, fs.constants.X_OK);
      return p;
    } catch {
      // not in this directory; keep looking
    }
  }
  return undefined;
}

export function dockerEngineReachable(): boolean {
  try {
    execFileSync("docker", ["info", "--format", "{{.ServerVersion}}"], { stdio: "ignore", timeout: 3000 });
    return true;
  } catch {
    return false;
  }
}

function tempDir(prefix: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), `faro-${prefix}-`));
}

function managed(proc: ProcessServer, url: string, port: number, dataDir: string): ManagedServer {
  let stopped = false;
  return {
    url,
    port,
    dataDir,
    running: () => proc.running(),
    async stop() {
      if (stopped) return;
      stopped = true;
      await proc.signal("SIGTERM");
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
    async kill() {
      await proc.signal("SIGKILL");
    },
    async restart() {
      await proc.signal("SIGTERM");
      await proc.start();
    },
    async pause() {
      proc.send("SIGSTOP");
    },
    async resume() {
      proc.send("SIGCONT");
    },
  };
}

export interface NatsOptions {
  /** Extra nats-server config file contents (accounts, authorization). */
  config?: string;
  /** nats-server binary to run; default natsServerBinary(). */
  bin?: string;
}

/**
 * The nats-server the suite runs: FARO_NATS_SERVER_BIN when set, else the first on PATH (then /usr/sbin…).
 * A `go install`ed server in ~/go/bin is not picked up by itself: set FARO_NATS_SERVER_BIN=~/go/bin/nats-server
 * to run the suite against it (docs/reliability.md, "Clustered bus").
 */
export function natsServerBinary(): string | undefined {
  return findBinary("nats-server");
}

export interface NatsServerBinary {
  path: string;
  /** From `nats-server --version`, e.g. "2.9.10". */
  version: string;
}

/**
 * Every distinct nats-server binary on this machine (FARO_NATS_SERVER_BIN, PATH, ~/go/bin, $GOPATH/bin,
 * /usr/sbin), with its version, for tests that run against each of them.
 */
export function natsServerBinaries(): NatsServerBinary[] {
  const candidates = [
    natsServerBinary(),
    path.join(process.env.GOPATH ?? path.join(os.homedir(), "go"), "bin", "nats-server"),
    path.join(os.homedir(), "go", "bin", "nats-server"),
    "/usr/sbin/nats-server",
    "/usr/local/bin/nats-server",
  ];
  const seen = new Set<string>();
  const out: NatsServerBinary[] = [];
  for (const c of candidates) {
    if (!c) continue;
    let real: string;
    try {
      real = fs.realpathSync(c);
      fs.accessSync(real, fs.constants.X_OK);
    } catch {
      continue;
    }
    if (seen.has(real)) continue;
    seen.add(real);
    try {
      const text = execFileSync(real, ["--version"], { encoding: "utf8", timeout: 5000 });
      const m = /v?(\d+\.\d+\.\d+)/.exec(text);
      out.push({ path: real, version: m ? m[1]! : text.trim() });
    } catch {
      // not runnable here (wrong architecture, broken install): not a candidate
    }
  }
  return out;
}

/** Starts `nats-server -js` on a free port with a temporary store directory. */
export async function startNats(opts: NatsOptions = {}): Promise<ManagedServer> {
  const bin = opts.bin ?? natsServerBinary();
  if (!bin) return await startNatsContainer();
  const port = await freePort();
  const dataDir = tempDir("nats");
  const args = ["-a", "127.0.0.1", "-p", String(port), "-js", "-sd", dataDir];
  if (opts.config) {
    const conf = path.join(dataDir, "server.conf");
    fs.writeFileSync(conf, opts.config);
    args.push("-c", conf);
  }
  const proc = new ProcessServer(bin, args, port);
  await proc.start();
  return managed(proc, `nats://127.0.0.1:${port}`, port, dataDir);
}

/** Starts `redis-server` on a free port, persistence off unless `appendonly` is set. */
export async function startRedis(opts: { appendonly?: boolean; password?: string } = {}): Promise<ManagedServer> {
  const bin = findBinary("redis-server");
  if (!bin) return await startRedisContainer();
  const port = await freePort();
  const dataDir = tempDir("redis");
  const args = ["--port", String(port), "--bind", "127.0.0.1", "--dir", dataDir, "--save", "", "--appendonly", opts.appendonly ? "yes" : "no"];
  if (opts.password !== undefined) args.push("--requirepass", opts.password);
  const proc = new ProcessServer(bin, args, port);
  await proc.start();
  return managed(proc, `redis://127.0.0.1:${port}`, port, dataDir);
}

async function startNatsContainer(): Promise<ManagedServer> {
  if (!dockerEngineReachable()) throw new ServerUnavailableError("nats-server", INSTALL_HINT);
  const { GenericContainer } = await import("testcontainers");
  const container = await new GenericContainer("nats:2.10-alpine").withCommand(["-js"]).withExposedPorts(4222).start();
  return containerServer(container, "nats", 4222);
}

async function startRedisContainer(): Promise<ManagedServer> {
  if (!dockerEngineReachable()) throw new ServerUnavailableError("redis-server", INSTALL_HINT);
  const { GenericContainer } = await import("testcontainers");
  const container = await new GenericContainer("redis:7-alpine").withExposedPorts(6379).start();
  return containerServer(container, "redis", 6379);
}

interface StartedContainer {
  getHost(): string;
  getMappedPort(p: number): number;
  stop(opts?: { timeout?: number }): Promise<unknown>;
  restart(): Promise<void>;
  exec(cmd: string[]): Promise<unknown>;
}

function containerServer(c: StartedContainer, scheme: string, inner: number): ManagedServer {
  let up = true;
  return {
    get url() {
      return `${scheme}://${c.getHost()}:${c.getMappedPort(inner)}`;
    },
    get port() {
      return c.getMappedPort(inner);
    },
    dataDir: "",
    running: () => up,
    async stop() {
      if (!up) return;
      up = false;
      await c.stop();
    },
    async kill() {
      up = false;
      await c.exec(["kill", "-9", "1"]).catch(() => undefined);
    },
    async restart() {
      await c.restart();
      up = true;
    },
    async pause() {
      await c.exec(["kill", "-STOP", "1"]);
    },
    async resume() {
      await c.exec(["kill", "-CONT", "1"]);
    },
  };
}
