// Unit tests of the names one pipeline owns on a shared bus: durables, Redis key prefixes, the cluster a filter pins.
import { describe, expect, it } from "vitest";
import { cleanFilter, dlqFilter, incidentFilter, rawFilter, storyFilter } from "@faro/contracts";
import { filterCluster, pipelineScope, scopedDurable, scopedKeyPrefix } from "./scope.js";

describe("pipeline scope", () => {
  it("names durables <cluster>_<name> and Redis prefixes faro:<cluster>:<suffix>", () => {
    expect(scopedDurable("prod-eu1", "filter")).toBe("prod-eu1_filter");
    expect(scopedDurable("demo-3f9a1c", "log-streamer")).toBe("demo-3f9a1c_log-streamer");
    expect(scopedKeyPrefix("prod-eu1")).toBe("faro:prod-eu1:");
    expect(scopedKeyPrefix("prod-eu1", "ls")).toBe("faro:prod-eu1:ls");
    const s = pipelineScope("a");
    expect(s.durable("writer")).toBe("a_writer");
    expect(s.keyPrefix(undefined, "ls")).toBe("faro:a:ls");
    expect(s.keyPrefix("custom:", "ls")).toBe("custom:");
  });

  it("finds the cluster a filter subject pins, at the cluster position of each stage", () => {
    expect(filterCluster(rawFilter({ cluster: "a" }))).toBe("a");
    expect(filterCluster("faro.v1.raw.a.>")).toBe("a");
    expect(filterCluster(rawFilter({ cluster: "a", category: "obj", a: "pods" }))).toBe("a");
    expect(filterCluster("faro.v1.clean.*.a.>")).toBe("a");
    expect(filterCluster(cleanFilter({ cluster: "a", tenant: "t" }))).toBe("a");
    expect(filterCluster(storyFilter({ cluster: "b" }))).toBe("b");
    expect(filterCluster(incidentFilter({ cluster: "b" }))).toBe("b");
  });

  it("finds no cluster in filters that let other clusters' subjects through", () => {
    for (const f of [
      "faro.v1.raw.>",
      "faro.v1.>",
      ">",
      rawFilter(),
      "faro.v1.clean.a.>", // the tenant token, not the cluster
      "faro.v1.clean.>",
      cleanFilter({ tenant: "a" }),
      storyFilter(),
      dlqFilter({ service: "a" }),
      "faro.v2.raw.a.>",
      "other.v1.raw.a.>",
      "faro.v1.raw",
      "",
    ]) {
      expect(filterCluster(f), f).toBeUndefined();
    }
  });
});
