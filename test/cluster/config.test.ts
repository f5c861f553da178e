// The clustered-bus settings as every service loads them: several NATS URLs, stream replicas, Sentinel addresses.
import { describe, expect, it } from "vitest";
import { loadPipelineConfig } from "@faro/cli";

const load = (env: Record<string, string>) => loadPipelineConfig({ services: ["correlator"], env });

describe("clustered bus configuration", () => {
  it("takes several NATS URLs, a replica count and Sentinel addresses", async () => {
    const [svc] = await load({
      FARO_NATS_URL: "nats://n1:4222, nats://n2:4222,nats://n3:4222",
      FARO_NATS_REPLICAS: "3",
      FARO_REDIS_SENTINELS: "s1:26379,10.0.0.2:26379",
      FARO_REDIS_NAME: "faro",
    });
    const c = svc!.config as unknown as { nats: { url: string; replicas: number }; redis: { sentinels: string[]; name: string } };
    expect(c.nats.replicas).toBe(3);
    expect(c.redis.sentinels).toEqual(["s1:26379", "10.0.0.2:26379"]);
    expect(c.redis.name).toBe("faro");
  });

  it("defaults to R1 streams and no Sentinel", async () => {
    const [svc] = await load({});
    const c = svc!.config as unknown as { nats: { replicas: number }; redis: { sentinels: string[] } };
    expect(c.nats.replicas).toBe(1);
    expect(c.redis.sentinels).toEqual([]);
  });

  it("names the field of a bad server URL, a bad replica count and a sentinel address without a port", async () => {
    await expect(load({ FARO_NATS_URL: "nats://n1:4222,http://n2:4222" })).rejects.toThrow(/nats\.url.*unsupported scheme http:/s);
    await expect(load({ FARO_NATS_REPLICAS: "7" })).rejects.toThrow(/nats\.replicas.*at most 5/s);
    await expect(load({ FARO_REDIS_SENTINELS: "127.0.0.1:26379,sentinel-without-port" })).rejects.toThrow(/redis\.sentinels\W+1\W.*does not match the required format.*sentinel-without-port/s);
  });
});
