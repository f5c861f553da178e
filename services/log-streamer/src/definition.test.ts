// The log-streamer's definition without I/O: its configuration (common publish/provision settings, the
// removed service keys rejected) and where the replica's name comes from.
import { describe, expect, it } from "vitest";
import { ConfigError } from "@faro/config";
import { FARO_DLQ, FARO_RAW } from "@faro/contracts";
import { loadServiceConfig } from "@faro/kernel";
import { logStreamerService } from "./definition.js";
import { replicaIdOf } from "./service.js";

describe("logStreamerService", () => {
  it("declares FARO_RAW, FARO_DLQ and Redis", () => {
    expect(logStreamerService.name).toBe("log-streamer");
    expect(logStreamerService.streams).toEqual([FARO_RAW, FARO_DLQ]);
    expect(logStreamerService.redis).toBe(true);
  });

  it("publishes with the common publish settings; provisioning is nats.provision", () => {
    const config = loadServiceConfig(logStreamerService, { env: { FARO_PUBLISH_WINDOW: "256", FARO_NATS_PROVISION: "false" } });
    expect(config.publish).toEqual({ window: 256, timeout: 5000, retryFor: 60_000 });
    expect(config.nats.provision).toBe(false);
    expect(config.http.port).toBe(9102);
  });

  it("rejects the removed publish.ensureStream", () => {
    expect(() => loadServiceConfig(logStreamerService, { env: { FARO_PUBLISH_ENSURE_STREAM: "false" } })).toThrow(ConfigError);
    expect(() => loadServiceConfig(logStreamerService, { argv: ["--publish.ensureStream=false"] })).toThrow(/publish\.ensureStream/);
  });
});

describe("replicaIdOf", () => {
  const config = (env: Record<string, string>) => loadServiceConfig(logStreamerService, { env });

  it("is `replica` (FARO_REPLICA) when set", () => {
    expect(replicaIdOf({ config: config({ FARO_REPLICA: "ls-0" }) })).toBe("ls-0");
  });

  it("makes up a fresh name per process otherwise", () => {
    const a = replicaIdOf({ config: config({}) });
    const b = replicaIdOf({ config: config({}) });
    expect(a).toMatch(new RegExp(`-${process.pid}-[0-9a-f]{6}$`));
    expect(a).not.toBe(b);
  });
});
