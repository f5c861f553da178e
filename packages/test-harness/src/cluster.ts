// Clustered servers for fault tests: a 3-node JetStream cluster (nats-server processes joined by routes, each
// with its own store directory) and Redis with Sentinel (a primary, a replica and three sentinels). Every
// process is a ProcessServer, so it is registered with the run's process registry and nothing outlives the suite.
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { HarnessError, ServerUnavailableError } from "./errors.js";
import { freePort } from "./ports.js";
import { ProcessServer, type ManagedServer } from "./process-server.js";
import { findBinary, natsServerBinary } from "./servers.js";

const INSTALL_HINT = "install it with `sudo apt-get install -y nats-server redis-server` or run `npm run setup` (clusters need local binaries, no containers)";

function tempDir(prefix: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), `faro-${prefix}-`));
}

/** A ManagedServer whose stop() leaves the directory to the set that owns it. */
function node(proc: ProcessServer, url: string, port: number, dataDir: string): ManagedServer {
  return {
    url,
    port,
    dataDir,
    running: () => proc.running(),
    stop: () => proc.signal("SIGTERM"),
    kill: () => proc.signal("SIGKILL"),
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

async function poll<T>(what: string, timeoutMs: number, check: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check().catch(() => undefined);
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new HarnessError(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export interface NatsClusterNode extends ManagedServer {
  /** server_name in the cluster (n1, n2, n3). */
  readonly name: string;
  /** HTTP monitoring endpoint (/jsz, /healthz). */
  readonly monitorUrl: string;
}

export interface NatsCluster {
  readonly nodes: readonly NatsClusterNode[];
  /** Every node's client URL, comma-separated: the form `nats.url` takes. */
  readonly url: string;
  readonly urls: readonly string[];
  /** Resolves once every running node reports a JetStream meta leader (the cluster accepts API requests). */
  ready(timeoutMs?: number): Promise<void>;
  /**
   * The node that leads `stream`'s replica group, as a running node reports it; with `not`, waits for a leader
   * other than that node (the survivors elect one after it was killed).
   */
  streamLeader(stream: string, opts?: { not?: string; timeoutMs?: number }): Promise<NatsClusterNode>;
  /** Stops every node and removes their store directories. Idempotent. */
  stop(): Promise<void>;
}

export interface NatsClusterOptions {
  /** Number of nodes (default 3). */
  size?: number;
  /** nats-server binary; default natsServerBinary(). */
  bin?: string;
}

interface Jsz {
  meta_cluster?: { leader?: string; cluster_size?: number };
  account_details?: { stream_detail?: { name: string; cluster?: { leader?: string } }[] }[];
}

async function jsz(monitorUrl: string, query = ""): Promise<Jsz> {
  const res = await fetch(`${monitorUrl}/jsz${query}`, { signal: AbortSignal.timeout(1000) });
  return (await res.json()) as Jsz;
}

/** Starts a JetStream cluster of `size` nats-server processes with full-mesh routes on free ports. */
export async function startNatsCluster(opts: NatsClusterOptions = {}): Promise<NatsCluster> {
  const bin = opts.bin ?? natsServerBinary();
  if (!bin) throw new ServerUnavailableError("nats-server", INSTALL_HINT);
  const size = opts.size ?? 3;
  const ports = await Promise.all(Array.from({ length: size }, async () => ({ client: await freePort(), route: await freePort(), http: await freePort() })));
  const routes = ports.map((p) => `nats-route://127.0.0.1:${p.route}`);
  const nodes: NatsClusterNode[] = [];
  const procs: ProcessServer[] = [];
  const dirs: string[] = [];
  for (const [i, p] of ports.entries()) {
    const name = `n${i + 1}`;
    const dir = tempDir(`nats-${name}`);
    dirs.push(dir);
    const conf = path.join(dir, "server.conf");
    fs.writeFileSync(
      conf,
      [
        `server_name: ${name}`,
        `listen: "127.0.0.1:${p.client}"`,
        `http: "127.0.0.1:${p.http}"`,
        `jetstream { store_dir: ${JSON.stringify(path.join(dir, "js"))} }`,
        `cluster {`,
        `  name: faro`,
        `  listen: "127.0.0.1:${p.route}"`,
        `  routes: [${routes.filter((_r, j) => j !== i).map((r) => JSON.stringify(r)).join(", ")}]`,
        `}`,
        "",
      ].join("\n"),
    );
    const proc = new ProcessServer(bin, ["-c", conf], p.client);
    procs.push(proc);
    nodes.push({ ...node(proc, `nats://127.0.0.1:${p.client}`, p.client, dir), name, monitorUrl: `http://127.0.0.1:${p.http}` });
  }
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    await Promise.all(procs.map((p) => p.signal("SIGTERM")));
    for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
  };
  const urls = nodes.map((n) => n.url);
  const cluster: NatsCluster = {
    nodes,
    urls,
    url: urls.join(","),
    async ready(timeoutMs = 20_000) {
      await poll("a JetStream meta leader on every running node", timeoutMs, async () => {
        for (const n of nodes) {
          if (!n.running()) continue;
          const j = await jsz(n.monitorUrl);
          if (!j.meta_cluster?.leader) return undefined;
        }
        return true;
      });
    },
    async streamLeader(stream: string, o: { not?: string; timeoutMs?: number } = {}) {
      return await poll(`a leader for stream ${stream}${o.not ? ` other than ${o.not}` : ""}`, o.timeoutMs ?? 15_000, async () => {
        for (const n of nodes) {
          if (!n.running()) continue;
          const j = await jsz(n.monitorUrl, "?streams=true");
          for (const acc of j.account_details ?? []) {
            const leader = acc.stream_detail?.find((s) => s.name === stream)?.cluster?.leader;
            const found = leader && leader !== o.not ? nodes.find((x) => x.name === leader) : undefined;
            if (found) return found;
          }
        }
        return undefined;
      });
    },
    stop,
  };
  try {
    await Promise.all(procs.map((p) => p.start()));
    await cluster.ready();
  } catch (err) {
    await stop();
    throw err;
  }
  return cluster;
}

/** One RESP request (inline command) to 127.0.0.1:port; resolves with the raw reply. */
export function redisCommand(port: number, command: string, timeoutMs = 1000): Promise<string> {
  return new Promise((resolve, reject) => {
    let buf = "";
    const s = net.connect(port, "127.0.0.1", () => s.write(`${command}\r\n`));
    s.setTimeout(timeoutMs, () => {
      s.destroy();
      reject(new HarnessError(`no answer from port ${port} to ${command}`));
    });
    s.on("data", (d) => {
      buf += d.toString("utf8");
      // A bulk or array reply may come in pieces; wait for the socket to be idle briefly after a complete line.
      if (buf.endsWith("\r\n") && completeReply(buf)) {
        s.destroy();
        resolve(buf);
      }
    });
    s.once("error", reject);
  });
}

/** True when `buf` holds one whole RESP reply (simple, error, integer, bulk, or array of those). */
function completeReply(buf: string): boolean {
  let pos = 0;
  const line = (): string | undefined => {
    const end = buf.indexOf("\r\n", pos);
    if (end < 0) return undefined;
    const l = buf.slice(pos, end);
    pos = end + 2;
    return l;
  };
  const one = (): boolean => {
    const l = line();
    if (l === undefined) return false;
    const t = l[0];
    if (t === "+" || t === "-" || t === ":") return true;
    const n = Number(l.slice(1));
    if (t === "$") {
      if (n < 0) return true;
      // Bulk lengths count bytes; the replies read here are ASCII.
      if (buf.length < pos + n + 2) return false;
      pos += n + 2;
      return true;
    }
    if (t === "*") {
      for (let i = 0; i < n; i++) if (!one()) return false;
      return true;
    }
    return true;
  };
  return one();
}

export interface RedisSentinelSet {
  /** The master name the sentinels monitor (`redis.name`). */
  readonly name: string;
  /** The processes started as primary and as replica (roles change after a failover). */
  readonly primary: ManagedServer;
  readonly replica: ManagedServer;
  readonly sentinels: readonly ManagedServer[];
  /** `host:port` of every sentinel, comma-separated: the form `redis.sentinels` takes. */
  readonly sentinelList: string;
  /** The primary's port as the sentinels report it (a majority agreeing). */
  currentPrimaryPort(): Promise<number>;
  /** Resolves once every sentinel sees the primary, its replica and the two other sentinels. */
  ready(timeoutMs?: number): Promise<void>;
  /** Resolves with the new primary's port once a majority of sentinels names a primary other than `oldPort`. */
  waitForFailover(oldPort: number, timeoutMs?: number): Promise<number>;
  /** Stops every process and removes the directories. Idempotent. */
  stop(): Promise<void>;
}

export interface RedisSentinelOptions {
  /** Master name (default "faro"). */
  name?: string;
  /** Milliseconds without an answer before a sentinel calls the primary down (default 1000). */
  downAfterMs?: number;
}

/**
 * Starts Redis with Sentinel: one primary, one replica (`--replicaof`) and three sentinels
 * (`redis-server <conf> --sentinel`; redis-sentinel is the same binary), quorum 2, persistence off.
 */
export async function startRedisSentinel(opts: RedisSentinelOptions = {}): Promise<RedisSentinelSet> {
  const bin = findBinary("redis-server");
  if (!bin) throw new ServerUnavailableError("redis-server", INSTALL_HINT);
  const name = opts.name ?? "faro";
  const downAfter = opts.downAfterMs ?? 1000;
  const [pPort, rPort, ...sPorts] = await Promise.all(Array.from({ length: 5 }, () => freePort()));
  const procs: ProcessServer[] = [];
  const dirs: string[] = [];
  const dataArgs = (dir: string, port: number) => ["--port", String(port), "--bind", "127.0.0.1", "--dir", dir, "--save", "", "--appendonly", "no"];
  const pDir = tempDir("redis-primary");
  const rDir = tempDir("redis-replica");
  dirs.push(pDir, rDir);
  const pProc = new ProcessServer(bin, dataArgs(pDir, pPort!), pPort!);
  const rProc = new ProcessServer(bin, [...dataArgs(rDir, rPort!), "--replicaof", "127.0.0.1", String(pPort)], rPort!);
  procs.push(pProc, rProc);
  const sentinels: ManagedServer[] = [];
  for (const sp of sPorts) {
    const dir = tempDir("redis-sentinel");
    dirs.push(dir);
    const conf = path.join(dir, "sentinel.conf");
    // Sentinel rewrites its config file (known replicas, sentinels, epochs): it must be writable.
    fs.writeFileSync(
      conf,
      [
        `port ${sp}`,
        `bind 127.0.0.1`,
        `dir ${JSON.stringify(dir)}`,
        `sentinel monitor ${name} 127.0.0.1 ${pPort} 2`,
        `sentinel down-after-milliseconds ${name} ${downAfter}`,
        `sentinel failover-timeout ${name} 10000`,
        `sentinel parallel-syncs ${name} 1`,
        "",
      ].join("\n"),
    );
    const proc = new ProcessServer(bin, [conf, "--sentinel"], sp);
    procs.push(proc);
    sentinels.push(node(proc, `redis://127.0.0.1:${sp}`, sp, dir));
  }
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    await Promise.all(procs.map((p) => p.signal("SIGTERM")));
    for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
  };
  const primaryPorts = async (): Promise<number[]> => {
    const out: number[] = [];
    for (const s of sentinels) {
      if (!s.running()) continue;
      const reply = await redisCommand(s.port, `SENTINEL get-master-addr-by-name ${name}`).catch(() => "");
      const m = /\$\d+\r\n[^\r]+\r\n\$\d+\r\n(\d+)\r\n/.exec(reply);
      if (m) out.push(Number(m[1]));
    }
    return out;
  };
  const majority = (ports: number[]): number | undefined => {
    for (const p of ports) if (ports.filter((x) => x === p).length >= 2) return p;
    return undefined;
  };
  const set: RedisSentinelSet = {
    name,
    primary: node(pProc, `redis://127.0.0.1:${pPort}`, pPort!, pDir),
    replica: node(rProc, `redis://127.0.0.1:${rPort}`, rPort!, rDir),
    sentinels,
    sentinelList: sPorts.map((p) => `127.0.0.1:${p}`).join(","),
    async currentPrimaryPort() {
      return await poll("a primary a majority of sentinels agrees on", 10_000, async () => majority(await primaryPorts()));
    },
    async ready(timeoutMs = 20_000) {
      await poll("every sentinel seeing the primary, one replica and three sentinels", timeoutMs, async () => {
        for (const s of sentinels) {
          const info = await redisCommand(s.port, "INFO sentinel");
          if (!new RegExp(`name=${name},status=ok,address=127\\.0\\.0\\.1:\\d+,slaves=1,sentinels=3`).test(info)) return undefined;
        }
        const repl = await redisCommand(rPort!, "INFO replication");
        return /master_link_status:up/.test(repl) ? true : undefined;
      });
    },
    async waitForFailover(oldPort: number, timeoutMs = 30_000) {
      return await poll(`a failover away from port ${oldPort}`, timeoutMs, async () => {
        const p = majority(await primaryPorts());
        if (p === undefined || p === oldPort) return undefined;
        const role = await redisCommand(p, "ROLE");
        return role.includes("master") ? p : undefined;
      });
    },
    stop,
  };
  try {
    await pProc.start();
    await rProc.start();
    await Promise.all(procs.slice(2).map((p) => p.start()));
    await set.ready();
  } catch (err) {
    await stop();
    throw err;
  }
  return set;
}
