// Unit tests of namespace selectors and per-namespace resource plans.
import { describe, expect, it } from "vitest";
import { compileNamespaceSelector, compileWatchPlan } from "./namespaces.js";
import { SelectorError } from "./errors.js";
import { fakeResources } from "./fixtures.test-util.js";

describe("compileNamespaceSelector", () => {
  it("matches names, globs, regexes and all, with exclusions winning", () => {
    const sel = compileNamespaceSelector({ include: ["default", "prod-*", "/^team-\\d+$/"], exclude: ["prod-secret"] });
    expect(sel("default")).toBe(true);
    expect(sel("prod-eu")).toBe(true);
    expect(sel("prod-secret")).toBe(false);
    expect(sel("team-12")).toBe(true);
    expect(sel("team-x")).toBe(false);
    expect(sel("kube-system")).toBe(false);
    expect(sel("defaults")).toBe(false);
    expect(sel.matchesAll).toBe(false);
  });

  it("treats all/* and an absent include as everything", () => {
    expect(compileNamespaceSelector({ include: ["all"] }).matchesAll).toBe(true);
    expect(compileNamespaceSelector().matchesAll).toBe(true);
    const sel = compileNamespaceSelector({ include: ["*"], exclude: ["kube-*"] });
    expect(sel.matchesAll).toBe(false);
    expect(sel("a")).toBe(true);
    expect(sel("kube-system")).toBe(false);
  });

  it("escapes regex characters inside globs", () => {
    const sel = compileNamespaceSelector({ include: ["a.b-?"] });
    expect(sel("a.b-1")).toBe(true);
    expect(sel("axb-1")).toBe(false);
  });

  it("rejects an invalid regex naming the pattern", () => {
    expect(() => compileNamespaceSelector({ include: ["/([/"] })).toThrow(SelectorError);
    expect(() => compileNamespaceSelector({ include: ["/([/"] })).toThrow(/\/\(\[\//);
  });
});

describe("compileWatchPlan", () => {
  const resources = fakeResources();
  const plan = compileWatchPlan(
    [
      { namespaces: ["prod-*"], resources: ["deployments.apps", "pods", "nodes"] },
      { namespaces: ["b"], resources: ["widgets.example.com", "gadgets.example.com"] },
    ],
    { excludeNamespaces: ["prod-hidden"] },
  );

  it("gives each namespace the union of the sets that apply to it", () => {
    expect(plan.resourcesFor("prod-a", resources).resources.map((r) => r.resource).sort()).toEqual(["deployments", "pods"]);
    const b = plan.resourcesFor("b", resources);
    expect(b.resources.map((r) => `${r.resource}.${r.group}`)).toEqual(["widgets.example.com"]);
    expect(b.unresolved).toEqual(["gadgets.example.com"]);
    expect(plan.resourcesFor("c", resources).resources).toEqual([]);
    expect(plan.resourcesFor("prod-hidden", resources).resources).toEqual([]);
    expect(plan.watchesNamespace("prod-hidden")).toBe(false);
    expect(plan.watchesNamespace("prod-x")).toBe(true);
    expect(plan.watchesNamespace("c")).toBe(false);
  });

  it("puts cluster-scoped resources in clusterResources only", () => {
    expect(plan.clusterResources(resources).resources.map((r) => r.resource)).toEqual(["nodes"]);
    expect(plan.resourcesFor("prod-a", resources).resources.some((r) => r.resource === "nodes")).toBe(false);
  });

  it("offers all-namespace watches only for sets matching every namespace", () => {
    const p = compileWatchPlan([{ namespaces: ["all"], resources: ["pods"] }, { namespaces: ["x"], resources: ["configmaps"] }]);
    expect(p.allNamespaceResources(resources).resources.map((r) => r.resource)).toEqual(["pods"]);
    const q = compileWatchPlan([{ namespaces: ["all"], resources: ["pods"] }], { excludeNamespaces: ["kube-system"] });
    expect(q.allNamespaceResources(resources).resources).toEqual([]);
  });

  it("expands * to every watchable resource of the right scope", () => {
    const p = compileWatchPlan([{ namespaces: ["all"], resources: ["*"] }]);
    const ns = p.resourcesFor("a", resources).resources.map((r) => r.resource);
    expect(ns).toContain("pods");
    expect(ns).toContain("widgets");
    expect(ns).not.toContain("bindings"); // create-only
    expect(ns).not.toContain("nodes");
    expect(p.clusterResources(resources).resources.map((r) => r.resource)).toContain("nodes");
  });
});
