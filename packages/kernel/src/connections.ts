// Turns the common `nats` and `redis` configuration into client options: every credential form, TLS, and
// credentials carried in URLs (the NATS client ignores userinfo in server URLs, so it is split out here).
import fs from "node:fs";
import {
  credsAuthenticator,
  nkeyAuthenticator,
  tokenAuthenticator,
  usernamePasswordAuthenticator,
  type Authenticator,
  type TlsOptions,
} from "@nats-io/transport-node";
import type { RedisOptions } from "ioredis";
import { CredentialFileError } from "./errors.js";

/** The common `nats` section (packages/config, common fields). */
export interface NatsSettings {
  readonly url: string;
  readonly user?: string | undefined;
  readonly password?: string | undefined;
  readonly token?: string | undefined;
  readonly nkeySeedFile?: string | undefined;
  readonly credsFile?: string | undefined;
  readonly tls: { readonly ca?: string | undefined; readonly cert?: string | undefined; readonly key?: string | undefined };
}

/** The common `redis` section. */
export interface RedisSettings {
  readonly url: string;
  /** Sentinel `host:port` addresses; empty or absent: `url` names the server itself. */
  readonly sentinels?: readonly string[] | undefined;
  /** Master name the sentinels monitor. */
  readonly name?: string | undefined;
  readonly username?: string | undefined;
  readonly password?: string | undefined;
  readonly tls: { readonly ca?: string | undefined };
}

export interface NatsClientOptions {
  servers: string[];
  authenticator?: Authenticator[];
  tls?: TlsOptions;
}

function readFile(field: string, file: string): Uint8Array {
  try {
    return fs.readFileSync(file);
  } catch (err) {
    throw new CredentialFileError(field, file, { cause: err });
  }
}

function checkFile(field: string, file: string): string {
  try {
    fs.accessSync(file, fs.constants.R_OK);
  } catch (err) {
    throw new CredentialFileError(field, file, { cause: err });
  }
  return file;
}

/**
 * Server list and authenticators for the NATS client. Config fields win over URL userinfo; a URL's
 * `user:password@` is user/password auth, a bare `token@` is token auth. `tls://` URLs or any `tls.*`
 * field turn TLS on.
 */
export function natsClientOptions(nats: NatsSettings): NatsClientOptions {
  let user: string | undefined;
  let pass: string | undefined;
  let token: string | undefined;
  let tlsScheme = false;
  const servers = nats.url
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s !== "")
    .map((server) => {
      let u: URL;
      try {
        u = new URL(server);
      } catch {
        return server; // host:port without a scheme: the client accepts it and reports anything else
      }
      if (u.protocol === "tls:") tlsScheme = true;
      if (u.username !== "") {
        const name = decodeURIComponent(u.username);
        if (u.password !== "") {
          user ??= name;
          pass ??= decodeURIComponent(u.password);
        } else token ??= name;
        u.username = "";
        u.password = "";
      }
      return u.toString().replace(/\/$/, "");
    });
  const auth: Authenticator[] = [];
  const finalUser = nats.user ?? user;
  const finalPass = nats.password ?? pass;
  if (finalUser !== undefined) auth.push(usernamePasswordAuthenticator(finalUser, finalPass ?? ""));
  const finalToken = nats.token ?? token;
  if (finalToken !== undefined) auth.push(tokenAuthenticator(finalToken));
  if (nats.nkeySeedFile !== undefined) {
    const seed = new TextDecoder().decode(readFile("nats.nkeySeedFile", nats.nkeySeedFile)).trim();
    auth.push(nkeyAuthenticator(new TextEncoder().encode(seed)));
  }
  if (nats.credsFile !== undefined) auth.push(credsAuthenticator(readFile("nats.credsFile", nats.credsFile)));
  const out: NatsClientOptions = { servers };
  if (auth.length > 0) out.authenticator = auth;
  const { ca, cert, key } = nats.tls;
  if (ca !== undefined || cert !== undefined || key !== undefined || tlsScheme) {
    const tls: TlsOptions = {};
    if (ca !== undefined) tls.caFile = checkFile("nats.tls.ca", ca);
    if (cert !== undefined) tls.certFile = checkFile("nats.tls.cert", cert);
    if (key !== undefined) tls.keyFile = checkFile("nats.tls.key", key);
    out.tls = tls;
  }
  return out;
}

/**
 * ioredis options: URL userinfo is kept by ioredis; config fields override it; `tls.ca` adds a CA. With
 * `sentinels`, ioredis asks them for the primary of `name` (and again after every disconnect, so a failover is
 * followed); the URL's host is then unused, its database, user and password apply to the primary, and TLS
 * (`rediss://` or `tls.ca`) applies to the primary and replicas, not to the sentinels.
 */
export function redisClientOptions(redis: RedisSettings): RedisOptions {
  const opts: RedisOptions = {};
  if (redis.username !== undefined) opts.username = redis.username;
  if (redis.password !== undefined) opts.password = redis.password;
  if (redis.tls.ca !== undefined || redis.url.startsWith("rediss:")) {
    opts.tls = redis.tls.ca === undefined ? {} : { ca: Buffer.from(readFile("redis.tls.ca", redis.tls.ca)) };
  }
  const sentinels = redis.sentinels ?? [];
  if (sentinels.length > 0) {
    opts.sentinels = sentinels.map((s) => {
      const i = s.lastIndexOf(":");
      return { host: s.slice(0, i), port: Number(s.slice(i + 1)) };
    });
    opts.name = redis.name ?? "mymaster";
    // ioredis drops `tls` towards the data nodes in sentinel mode unless told otherwise.
    if (opts.tls) opts.enableTLSForSentinelMode = true;
    // Subscribe to +switch-master so a failover is followed at once, not on the next failed command.
    opts.failoverDetector = true;
  }
  return opts;
}

/** The URL without its password, for logs and error messages. */
export function redactUrl(url: string): string {
  return url.replace(/\/\/([^@/]*)@/g, (_m, userinfo: string) => `//${userinfo.includes(":") ? `${userinfo.split(":")[0]}:***` : "***"}@`);
}
