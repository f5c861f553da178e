// Unit tests of resource spec resolution against a fake discovery result.
import { describe, expect, it } from "vitest";
import { matchResourceSpec, resolveResourceSpecs, resourceName } from "./discovery.js";
import { ResourceNotWatchableError, UnknownResourceError } from "./errors.js";
import { fakeResources } from "./fixtures.test-util.js";

const resources = fakeResources();
const names = (specs: string[]) => resolveResourceSpecs(specs, resources).map(resourceName);

describe("resolveResourceSpecs", () => {
  it("resolves plural, group-qualified, shortName, singular, kind and version-qualified specs", () => {
    expect(names(["pods"])).toEqual(["pods"]);
    expect(names(["deployments.apps"])).toEqual(["deployments.apps"]);
    expect(names(["widgets.example.com"])).toEqual(["widgets.example.com"]);
    expect(names(["deploy"])).toEqual(["deployments.apps"]);
    expect(names(["Deployment"])).toEqual(["deployments.apps"]);
    expect(names(["pod"])).toEqual(["pods"]);
    expect(names(["deployments.v1.apps"])).toEqual(["deployments.apps"]);
  });

  it("prefers the core group for ambiguous names and honours an explicit group", () => {
    expect(resolveResourceSpecs(["events"], resources)[0]!.group).toBe("");
    expect(resolveResourceSpecs(["events.events.k8s.io"], resources)[0]!.group).toBe("events.k8s.io");
  });

  it("expands * to everything with list and watch, deduplicating", () => {
    const all = names(["*", "pods"]);
    expect(all).toHaveLength(resources.length - 1); // bindings is create-only
    expect(all).not.toContain("bindings");
  });

  it("raises UnknownResourceError naming the spec", () => {
    expect(() => resolveResourceSpecs(["pods", "gizmos.example.com"], resources)).toThrow(UnknownResourceError);
    try {
      resolveResourceSpecs(["gizmos.example.com"], resources);
    } catch (err) {
      expect((err as UnknownResourceError).spec).toBe("gizmos.example.com");
      expect((err as Error).message).toContain("gizmos.example.com");
    }
    expect(() => resolveResourceSpecs(["pods.apps"], resources)).toThrow(/pods\.apps/);
  });

  it("refuses explicitly named resources that cannot be watched", () => {
    expect(() => resolveResourceSpecs(["bindings"], resources)).toThrow(ResourceNotWatchableError);
    expect(resolveResourceSpecs(["bindings"], resources, { requireVerbs: [] })).toHaveLength(1);
  });

  it("matchResourceSpec returns [] instead of throwing", () => {
    expect(matchResourceSpec("nope", resources)).toEqual([]);
  });
});
