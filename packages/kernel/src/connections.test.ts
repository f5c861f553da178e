import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { CredentialFileError } from "./errors.js";
import { natsClientOptions, redactUrl, redisClientOptions } from "./connections.js";

const none = { tls: {} };

describe("natsClientOptions", () => {
  it("splits user:password out of the URL (the client ignores userinfo) and keeps the servers", () => {
    const o = natsClientOptions({ url: "nats://faro:p%40ss@a:4222,nats://faro:p%40ss@b:4222", ...none });
    expect(o.servers).toEqual(["nats://a:4222", "nats://b:4222"]);
    expect(o.authenticator).toHaveLength(1);
    expect(o.tls).toBeUndefined();
  });

  it("treats a bare userinfo as a token, and config fields win over the URL", () => {
    expect(natsClientOptions({ url: "nats://s3cr3t@h:4222", ...none }).authenticator).toHaveLength(1);
    const o = natsClientOptions({ url: "nats://x:y@h:4222", user: "faro", password: "pw", ...none });
    expect(o.servers).toEqual(["nats://h:4222"]);
    expect(o.authenticator).toHaveLength(1);
  });

  it("turns TLS on for tls:// URLs and for any tls.* field, and names a missing file by its field", () => {
    expect(natsClientOptions({ url: "tls://h:4222", ...none }).tls).toEqual({});
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "faro-kernel-"));
    try {
      const ca = path.join(dir, "ca.pem");
      fs.writeFileSync(ca, "x");
      expect(natsClientOptions({ url: "nats://h:4222", tls: { ca } }).tls).toEqual({ caFile: ca });
      expect(() => natsClientOptions({ url: "nats://h:4222", tls: { cert: path.join(dir, "nope.pem") } })).toThrow(CredentialFileError);
      expect(() => natsClientOptions({ url: "nats://h:4222", tls: { cert: path.join(dir, "nope.pem") } })).toThrow(/nats\.tls\.cert: cannot read/);
      expect(() => natsClientOptions({ url: "nats://h:4222", credsFile: path.join(dir, "none.creds"), ...none })).toThrow(/nats\.credsFile/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("redisClientOptions", () => {
  it("passes username and password, and TLS for rediss://", () => {
    expect(redisClientOptions({ url: "redis://h:6379", username: "faro", password: "pw", tls: {} })).toEqual({ username: "faro", password: "pw" });
    expect(redisClientOptions({ url: "rediss://h:6380", tls: {} })).toEqual({ tls: {} });
  });
});

describe("redisClientOptions with Sentinel", () => {
  it("asks the sentinels for the primary of redis.name and follows failovers; TLS reaches the data nodes", () => {
    const o = redisClientOptions({ url: "rediss://ignored:6379/2", sentinels: ["10.0.0.1:26379", "s-2.faro.svc:26380"], name: "faro", password: "pw", tls: {} });
    expect(o.sentinels).toEqual([
      { host: "10.0.0.1", port: 26379 },
      { host: "s-2.faro.svc", port: 26380 },
    ]);
    expect(o.name).toBe("faro");
    expect(o.password).toBe("pw");
    expect(o.failoverDetector).toBe(true);
    expect(o.enableTLSForSentinelMode).toBe(true);
  });

  it("leaves sentinel mode off without sentinels", () => {
    const o = redisClientOptions({ url: "redis://h:6379", sentinels: [], name: "faro", tls: {} });
    expect(o.sentinels).toBeUndefined();
    expect(o.name).toBeUndefined();
  });
});

describe("redactUrl", () => {
  it("hides passwords and tokens in URLs for logs and errors", () => {
    expect(redactUrl("nats://faro:secret@h:4222")).toBe("nats://faro:***@h:4222");
    expect(redactUrl("nats://tok3n@h:4222")).toBe("nats://***@h:4222");
    expect(redactUrl("redis://h:6379")).toBe("redis://h:6379");
  });
});
