// Loads a kubeconfig (explicit file, $KUBECONFIG, the in-cluster service account or ~/.kube/config) without
// the Kubernetes client library, and fails with a KubeConfigError that says which source was tried.
//
// Why not @kubernetes/client-node's KubeConfig: importing that library costs ~75–135 MiB of RSS per
// process (its generated API models, auth plugins and their dependencies) while Faro's services talk to
// the API over raw HTTP and only need the server URL, TLS material and a token. The library is still
// loaded — lazily, on the first request — for what this loader does not implement itself: exec
// credential plugins, `auth-provider` (OIDC, cloud plugins) and `proxy-url`.
import fs from "node:fs";
import https from "node:https";
import os from "node:os";
import path from "node:path";
import { parse as parseYaml } from "yaml";
import { KubeConfigError } from "./errors.js";

export interface LoadKubeConfigOptions {
  /** Path to a kubeconfig file; wins over $KUBECONFIG and the defaults. */
  kubeconfig?: string;
  /** Context to use instead of the file's current-context. */
  context?: string;
  /** Set to "in-cluster" to force the service-account config even when files exist. */
  mode?: "auto" | "in-cluster";
}

/**
 * What @faro/kube needs from a Kubernetes configuration: the server URL and the credentials applied to
 * a request. Both the loader's KubeConfigLite and @kubernetes/client-node's KubeConfig satisfy it, so
 * tests and callers may pass either.
 */
export interface KubeAccess {
  getCurrentCluster(): { readonly server: string } | null;
  /** Sets headers (Authorization), `auth` (basic) and `agent` (TLS material) on request options. */
  applyToHTTPSOptions(opts: https.RequestOptions): Promise<void>;
}

export interface KubeCluster {
  name: string;
  server: string;
  caData?: string;
  caFile?: string;
  skipTLSVerify: boolean;
  tlsServerName?: string;
  proxyUrl?: string;
}

export interface KubeUser {
  name: string;
  token?: string;
  tokenFile?: string;
  certData?: string;
  certFile?: string;
  keyData?: string;
  keyFile?: string;
  username?: string;
  password?: string;
  /** Present when the user authenticates through an exec credential plugin (handled by client-node). */
  exec?: unknown;
  /** Present when the user authenticates through an auth-provider (handled by client-node). */
  authProvider?: unknown;
}

export interface KubeContext {
  name: string;
  cluster: string;
  user: string;
  namespace?: string;
}

const SA_DIR = "/var/run/secrets/kubernetes.io/serviceaccount";
const SA_TOKEN = `${SA_DIR}/token`;
// Projected service-account tokens rotate; a token read from a file is re-read after this long.
const TOKEN_FILE_REFRESH_MS = 60_000;

/** Where a configuration came from, so client-node can load the same thing when it is needed. */
type Origin = { kind: "in-cluster" } | { kind: "file"; file: string } | { kind: "default" };

/** A kubeconfig read without @kubernetes/client-node (see the file comment for what is delegated to it). */
export class KubeConfigLite implements KubeAccess {
  private current: string;
  private agent: { key: string; agent: https.Agent } | undefined;
  private token: { file: string; value: string; readAt: number } | undefined;
  private full: Promise<KubeAccess & { setCurrentContext(name: string): void }> | undefined;

  constructor(
    private readonly clusters: readonly KubeCluster[],
    private readonly users: readonly KubeUser[],
    private readonly contexts: readonly KubeContext[],
    currentContext: string,
    private readonly origin: Origin,
    /** Human-readable source for error messages. */
    readonly source: string,
  ) {
    this.current = currentContext;
  }

  getContexts(): KubeContext[] {
    return [...this.contexts];
  }
  getClusters(): KubeCluster[] {
    return [...this.clusters];
  }
  getUsers(): KubeUser[] {
    return [...this.users];
  }
  getCurrentContext(): string {
    return this.current;
  }
  setCurrentContext(name: string): void {
    this.current = name;
    this.agent = undefined;
    this.token = undefined;
  }
  getContextObject(name: string): KubeContext | null {
    return this.contexts.find((c) => c.name === name) ?? null;
  }
  getCurrentCluster(): KubeCluster | null {
    const ctx = this.getContextObject(this.current);
    return ctx ? (this.clusters.find((c) => c.name === ctx.cluster) ?? null) : null;
  }
  getCurrentUser(): KubeUser | null {
    const ctx = this.getContextObject(this.current);
    return ctx ? (this.users.find((u) => u.name === ctx.user) ?? null) : null;
  }

  /** True when requests need @kubernetes/client-node (exec plugin, auth-provider or a proxy). */
  needsClientLibrary(): boolean {
    const user = this.getCurrentUser();
    return Boolean(user?.exec || user?.authProvider || this.getCurrentCluster()?.proxyUrl);
  }

  async applyToHTTPSOptions(opts: https.RequestOptions): Promise<void> {
    if (this.needsClientLibrary()) {
      await (await this.clientLibraryConfig()).applyToHTTPSOptions(opts);
      return;
    }
    const cluster = this.getCurrentCluster();
    const user = this.getCurrentUser();
    const token = user ? this.bearerToken(user) : undefined;
    if (token) opts.headers = { ...(opts.headers ?? {}), Authorization: `Bearer ${token}` };
    if (user?.username && user.password !== undefined) opts.auth = `${user.username}:${user.password}`;
    if (cluster && /^https:/i.test(cluster.server)) opts.agent = this.httpsAgent(cluster, user);
  }

  private bearerToken(user: KubeUser): string | undefined {
    if (user.token) return user.token;
    if (!user.tokenFile) return undefined;
    const now = Date.now();
    if (this.token?.file !== user.tokenFile || now - this.token.readAt > TOKEN_FILE_REFRESH_MS) {
      this.token = { file: user.tokenFile, value: readText(user.tokenFile, "tokenFile").trim(), readAt: now };
    }
    return this.token.value;
  }

  // One keep-alive agent per cluster/user pair: requests reuse connections and the TLS material is read once.
  private httpsAgent(cluster: KubeCluster, user: KubeUser | null): https.Agent {
    const key = `${cluster.name}\u0000${user?.name ?? ""}`;
    if (this.agent?.key === key) return this.agent.agent;
    const agent = new https.Agent({
      keepAlive: true,
      rejectUnauthorized: !cluster.skipTLSVerify,
      ...(cluster.tlsServerName ? { servername: cluster.tlsServerName } : {}),
      ...pem("ca", cluster.caData, cluster.caFile),
      ...pem("cert", user?.certData, user?.certFile),
      ...pem("key", user?.keyData, user?.keyFile),
    });
    this.agent = { key, agent };
    return agent;
  }

  // Loads the same configuration through @kubernetes/client-node, once, for the auth it implements.
  private clientLibraryConfig(): Promise<KubeAccess & { setCurrentContext(name: string): void }> {
    this.full ??= (async () => {
      try {
        const k8s = await import("@kubernetes/client-node");
        const kc = new k8s.KubeConfig();
        if (this.origin.kind === "in-cluster") kc.loadFromCluster();
        else if (this.origin.kind === "file") kc.loadFromFile(this.origin.file);
        else kc.loadFromDefault();
        kc.setCurrentContext(this.current);
        return kc;
      } catch (err) {
        throw new KubeConfigError(`cannot load the Kubernetes client for exec/auth-provider/proxy credentials: ${(err as Error).message}`, {
          source: this.source,
          context: this.current,
          cause: err,
        });
      }
    })();
    const p = this.full;
    // A failed load is retried at the next request rather than cached forever.
    p.catch(() => {
      if (this.full === p) this.full = undefined;
    });
    return p;
  }
}

function readText(file: string, what: string): string {
  try {
    return fs.readFileSync(file, "utf8");
  } catch (err) {
    throw new KubeConfigError(`cannot read ${what} "${file}": ${(err as Error).message}`, { source: file, cause: err });
  }
}

function pem(key: "ca" | "cert" | "key", data: string | undefined, file: string | undefined): Record<string, Buffer> {
  if (data) return { [key]: Buffer.from(data, "base64") };
  if (file) {
    try {
      return { [key]: fs.readFileSync(file) };
    } catch (err) {
      throw new KubeConfigError(`cannot read ${key} file "${file}": ${(err as Error).message}`, { source: file, cause: err });
    }
  }
  return {};
}

type Raw = Record<string, unknown>;
const obj = (v: unknown): Raw => (v && typeof v === "object" && !Array.isArray(v) ? (v as Raw) : {});
const str = (v: unknown): string | undefined => (typeof v === "string" && v !== "" ? v : undefined);
const list = (v: unknown, what: string, source: string): Raw[] => {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) throw new KubeConfigError(`kubeconfig ${source}: "${what}" is not a list`, { source });
  return v.map(obj);
};

interface Parsed {
  clusters: KubeCluster[];
  users: KubeUser[];
  contexts: KubeContext[];
  current: string;
}

/** Parses one kubeconfig document; relative file paths are resolved against the file's directory. */
function parseKubeconfig(text: string, file: string): Parsed {
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (err) {
    throw new KubeConfigError(`cannot load kubeconfig: ${file} is not valid YAML: ${(err as Error).message}`, { source: file, cause: err });
  }
  if (doc !== null && doc !== undefined && (typeof doc !== "object" || Array.isArray(doc))) {
    throw new KubeConfigError(`cannot load kubeconfig: ${file} is not a mapping`, { source: file });
  }
  const root = obj(doc);
  const dir = path.dirname(path.resolve(file));
  const abs = (p: unknown): string | undefined => {
    const s = str(p);
    return s === undefined ? undefined : path.resolve(dir, s);
  };
  const named = (e: Raw, what: string, i: number): string => {
    const name = str(e.name);
    if (!name) throw new KubeConfigError(`kubeconfig ${file}: ${what}[${i}].name is missing`, { source: file });
    return name;
  };
  return {
    clusters: list(root.clusters, "clusters", file).map((e, i) => {
      const c = obj(e.cluster);
      return {
        name: named(e, "clusters", i),
        server: str(c.server) ?? "",
        caData: str(c["certificate-authority-data"]),
        caFile: abs(c["certificate-authority"]),
        skipTLSVerify: c["insecure-skip-tls-verify"] === true,
        tlsServerName: str(c["tls-server-name"]),
        proxyUrl: str(c["proxy-url"]),
      };
    }),
    users: list(root.users, "users", file).map((e, i) => {
      const u = obj(e.user);
      return {
        name: named(e, "users", i),
        token: str(u.token),
        tokenFile: abs(u.tokenFile ?? u["token-file"]),
        certData: str(u["client-certificate-data"]),
        certFile: abs(u["client-certificate"]),
        keyData: str(u["client-key-data"]),
        keyFile: abs(u["client-key"]),
        username: str(u.username),
        password: typeof u.password === "string" ? u.password : undefined,
        exec: u.exec ?? undefined,
        authProvider: u["auth-provider"] ?? undefined,
      };
    }),
    contexts: list(root.contexts, "contexts", file).map((e, i) => {
      const c = obj(e.context);
      return { name: named(e, "contexts", i), cluster: str(c.cluster) ?? "", user: str(c.user) ?? "", namespace: str(c.namespace) };
    }),
    current: str(root["current-context"]) ?? "",
  };
}

/** Reads and merges kubeconfig files the way kubectl does: the first file that names an entry or the current context wins. */
function fromFiles(files: readonly string[], origin: Origin, source: string): KubeConfigLite {
  const merged: Parsed = { clusters: [], users: [], contexts: [], current: "" };
  for (const file of files) {
    const p = parseKubeconfig(readText(file, "kubeconfig"), file);
    const add = <T extends { name: string }>(into: T[], from: T[]) => {
      for (const e of from) if (!into.some((x) => x.name === e.name)) into.push(e);
    };
    add(merged.clusters, p.clusters);
    add(merged.users, p.users);
    add(merged.contexts, p.contexts);
    merged.current ||= p.current;
  }
  return new KubeConfigLite(merged.clusters, merged.users, merged.contexts, merged.current, origin, source);
}

function inCluster(): KubeConfigLite {
  const host = process.env.KUBERNETES_SERVICE_HOST ?? "";
  const port = process.env.KUBERNETES_SERVICE_PORT ?? "443";
  const server = `https://${host.includes(":") ? `[${host}]` : host}:${port}`;
  return new KubeConfigLite(
    [{ name: "inCluster", server, caFile: `${SA_DIR}/ca.crt`, skipTLSVerify: false }],
    [{ name: "inClusterUser", tokenFile: SA_TOKEN }],
    [{ name: "inClusterContext", cluster: "inCluster", user: "inClusterUser" }],
    "inClusterContext",
    { kind: "in-cluster" },
    "in-cluster",
  );
}

/**
 * Loads the Kubernetes configuration: `opts.kubeconfig`, else $KUBECONFIG (colon-separated files,
 * merged), else the in-cluster service account, else ~/.kube/config, else http://localhost:8080 (as
 * kubectl and client-node do). Throws KubeConfigError naming the source.
 */
export function loadKubeConfig(opts: LoadKubeConfigOptions = {}): KubeConfigLite {
  let kc: KubeConfigLite;
  let source: string;
  try {
    if (opts.mode === "in-cluster") {
      source = "in-cluster";
      if (!process.env.KUBERNETES_SERVICE_HOST) {
        throw new KubeConfigError("in-cluster config requested but KUBERNETES_SERVICE_HOST is not set", { source });
      }
      kc = inCluster();
    } else if (opts.kubeconfig) {
      source = opts.kubeconfig;
      if (!fs.existsSync(opts.kubeconfig)) {
        throw new KubeConfigError(`kubeconfig file "${opts.kubeconfig}" does not exist`, { source });
      }
      kc = fromFiles([opts.kubeconfig], { kind: "file", file: opts.kubeconfig }, source);
    } else if (process.env.KUBECONFIG) {
      source = `KUBECONFIG=${process.env.KUBECONFIG}`;
      const files = process.env.KUBECONFIG.split(path.delimiter).filter((f) => f);
      const missing = files.filter((f) => !fs.existsSync(f));
      if (missing.length > 0) {
        throw new KubeConfigError(`kubeconfig file(s) from $KUBECONFIG do not exist: ${missing.join(", ")}`, { source });
      }
      kc = fromFiles(files, { kind: "default" }, source);
    } else if (process.env.KUBERNETES_SERVICE_HOST && fs.existsSync(SA_TOKEN)) {
      source = "in-cluster";
      kc = inCluster();
    } else {
      source = "default (~/.kube/config)";
      const home = path.join(os.homedir(), ".kube", "config");
      kc = fs.existsSync(home)
        ? fromFiles([home], { kind: "default" }, source)
        : new KubeConfigLite(
            [{ name: "cluster", server: "http://localhost:8080", skipTLSVerify: false }],
            [{ name: "user" }],
            [{ name: "loaded-context", cluster: "cluster", user: "user" }],
            "loaded-context",
            { kind: "default" },
            source,
          );
    }
  } catch (err) {
    if (err instanceof KubeConfigError) throw err;
    throw new KubeConfigError(`cannot load kubeconfig: ${(err as Error).message}`, {
      source: opts.kubeconfig ?? process.env.KUBECONFIG ?? "default",
      cause: err,
    });
  }
  if (opts.context) {
    if (!kc.getContexts().some((c) => c.name === opts.context)) {
      throw new KubeConfigError(
        `context "${opts.context}" not found in ${source} (available: ${kc.getContexts().map((c) => c.name).join(", ") || "none"})`,
        { source, context: opts.context },
      );
    }
    kc.setCurrentContext(opts.context);
  }
  const cluster = kc.getCurrentCluster();
  if (!cluster || !cluster.server) {
    throw new KubeConfigError(`kubeconfig from ${source} has no current cluster (context "${kc.getCurrentContext()}")`, {
      source,
      context: kc.getCurrentContext(),
    });
  }
  return kc;
}
