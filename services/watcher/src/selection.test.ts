import { describe, expect, it } from "vitest";
import type { ResourceInfo } from "@faro/kube";
import { loadConfig } from "@faro/config";
import { configSchema } from "./config.js";
import { Selection } from "./selection.js";

const R = (group: string, resource: string, kind: string, namespaced: boolean, verbs = ["list", "watch", "get"]): ResourceInfo => ({
  group,
  version: "v1",
  resource,
  kind,
  namespaced,
  verbs,
  apiVersion: group ? `${group}/v1` : "v1",
  singular: kind.toLowerCase(),
  shortNames: [],
});
const pods = R("", "pods", "Pod", true);
const cms = R("", "configmaps", "ConfigMap", true);
const nodes = R("", "nodes", "Node", false);
const events = R("", "events", "Event", true);
const newEvents = R("events.k8s.io", "events", "Event", true);
const deploys = R("apps", "deployments", "Deployment", true);
const leases = R("coordination.k8s.io", "leases", "Lease", true);
const crds = R("apiextensions.k8s.io", "customresourcedefinitions", "CustomResourceDefinition", false);
const widgets = R("example.com", "widgets", "Widget", true);
const reviews = R("authentication.k8s.io", "tokenreviews", "TokenReview", false, ["create"]);
const discovered = [pods, cms, nodes, events, newEvents, deploys, leases, crds, reviews];

const cfg = (env: Record<string, string>) => loadConfig(configSchema, { env });
const names = (plan: ReturnType<Selection["update"]>) => [...plan.watches.values()].map((w) => `${w.info.resource}${w.info.group ? "." + w.info.group : ""}:${w.role}`).sort();

describe("Selection", () => {
  it("watches everything listable with `*`, minus noisy defaults, with Events once (core/v1) and CRDs", () => {
    const sel = new Selection(cfg({}));
    expect(names(sel.update(discovered))).toEqual([
      "configmaps:objects",
      "customresourcedefinitions.apiextensions.k8s.io:objects",
      "deployments.apps:objects",
      "events:events",
      "nodes:objects",
      "pods:objects",
    ]);
  });

  it("watches an explicitly named default-excluded type, and CRDs even when not selected (to notice new types)", () => {
    const sel = new Selection(cfg({ FARO_RESOURCES: "pods,leases.coordination.k8s.io,widgets.example.com", FARO_EVENTS_ENABLED: "false" }));
    const plan = sel.update(discovered);
    expect(names(plan)).toEqual(["customresourcedefinitions.apiextensions.k8s.io:objects", "leases.coordination.k8s.io:objects", "pods:objects"]);
    expect(plan.unresolved).toEqual(["widgets.example.com"]);
    // CRDs are watched for discovery only: their objects are not published unless selected.
    expect(sel.accepts(crds, "")).toBe(false);
    expect(names(sel.update([...discovered, widgets]))).toContain("widgets.example.com:objects");
    expect(sel.accepts(widgets, "any")).toBe(true);
  });

  it("filters namespaces client-side: globs, exclusions, and namespaces that appear later", () => {
    const sel = new Selection(cfg({ FARO_NAMESPACES_INCLUDE: "prod-*,payments", FARO_NAMESPACES_EXCLUDE: "prod-tmp-*" }));
    sel.update(discovered);
    expect(sel.accepts(pods, "prod-eu")).toBe(true);
    expect(sel.accepts(pods, "prod-created-later")).toBe(true);
    expect(sel.accepts(pods, "payments")).toBe(true);
    expect(sel.accepts(pods, "dev")).toBe(false);
    expect(sel.accepts(pods, "prod-tmp-1")).toBe(false);
    expect(sel.acceptsEvent("prod-eu")).toBe(true);
    expect(sel.acceptsEvent("prod-tmp-1")).toBe(false);
    expect(sel.acceptsEvent("dev")).toBe(false);
    // Cluster-scoped objects are not subject to namespace selection.
    expect(sel.accepts(nodes, "")).toBe(true);
  });

  it("applies per-namespace resource sets: A gets deployments and pods, B only a CRD", () => {
    const sel = new Selection(
      cfg({
        FARO_RESOURCES: "",
        FARO_SCOPES: JSON.stringify([
          { namespaces: ["team-a"], resources: ["deployments.apps", "pods"] },
          { namespaces: ["team-b-*"], excludeNamespaces: ["team-b-old"], resources: ["widgets.example.com"] },
        ]),
      }),
    );
    const plan = sel.update([...discovered, widgets]);
    expect(names(plan)).toEqual([
      "customresourcedefinitions.apiextensions.k8s.io:objects",
      "deployments.apps:objects",
      "events:events",
      "pods:objects",
      "widgets.example.com:objects",
    ]);
    expect(sel.resourcesIn("team-a").sort()).toEqual(["deployments.apps", "pods"]);
    expect(sel.resourcesIn("team-b-1")).toEqual(["widgets.example.com"]);
    expect(sel.accepts(pods, "team-b-1")).toBe(false);
    expect(sel.accepts(widgets, "team-a")).toBe(false);
    expect(sel.accepts(widgets, "team-b-old")).toBe(false);
    expect(sel.acceptsEvent("team-b-1")).toBe(true);
    expect(sel.acceptsEvent("elsewhere")).toBe(false);
    expect(sel.accepts(nodes, "")).toBe(false);
  });
});
