// The former pattern engines now agree: namespace patterns as the watcher reads them (@faro/kube's
// namespace selector, once JS RegExp) and as the filter reads them (tenant namespaces, once @faro/redact's
// RE2 matchers), and label selectors as the simulator's API server and the filter's rules read them (two
// parsers before). One syntax, one meaning: docs/patterns.md.
import { compileTenants } from "@faro/filter";
import { SelectorError, compileNamespaceSelector } from "@faro/kube";
import { ApiError, parseLabelSelector } from "@faro/kube-sim";
import { RuleError } from "@faro/redact";
import { describe, expect, it } from "vitest";

/** The watcher's reading: does a namespace selector with this one include pattern select `ns`? */
const watcherSelects = (pattern: string, ns: string) => compileNamespaceSelector({ include: [pattern] })(ns);
/** The filter's reading: does a tenant with these namespaces receive an object of `ns`? */
const filterSelects = (pattern: string, ns: string) =>
  compileTenants({ tenants: [{ name: "t", namespaces: [pattern] }] }).tenantsForObject({ kind: "ConfigMap", namespace: ns, name: "x" }).length === 1;

/** The simulator's reading of a labelSelector= query. */
const simMatches = (selector: string, labels: Record<string, string>) =>
  (parseLabelSelector(selector) ?? (() => true))({ apiVersion: "v1", kind: "Pod", metadata: { name: "p", uid: "u", resourceVersion: "1", labels } } as never);
/** The filter's reading of a rule's `labels`. */
const filterMatches = (selector: string, labels: Record<string, string>) =>
  compileTenants({ tenants: [{ name: "t", namespaces: ["*"], include: [{ labels: selector }] }] }).tenantsForObject({
    kind: "Pod",
    namespace: "default",
    name: "p",
    labels,
  }).length === 1;

describe("namespace patterns: the watcher and the filter agree", () => {
  const names = ["default", "prod-eu", "prod-", "prod", "team-12", "team-x", "TEAM-1", "all", "", "a.b-1", "axb-1", "eu-prod-1", "//"];
  // pattern → the names it selects (the rest it does not).
  const cases: Record<string, string[]> = {
    default: ["default"],
    "  default ": ["default"],
    "prod-*": ["prod-eu", "prod-"],
    "team-?": ["team-x"],
    "team-??": ["team-12"],
    "a.b-?": ["a.b-1"],
    "/^team-\\d+$/": ["team-12"],
    "/^team-\\d+$/i": ["team-12", "TEAM-1"],
    "/prod/": ["prod-eu", "prod-", "prod", "eu-prod-1"],
    all: names,
    "*": names,
  };
  for (const [pattern, selected] of Object.entries(cases)) {
    it(`${JSON.stringify(pattern)} selects ${JSON.stringify(selected)}`, () => {
      for (const ns of names) {
        const want = selected.includes(ns);
        expect({ ns, watcher: watcherSelects(pattern, ns), filter: filterSelects(pattern, ns) }).toEqual({ ns, watcher: want, filter: want });
      }
    });
  }

  it.each(["", "   ", "//", "/([/", "/(a)\\1/", "/^team-(?=a)/", "/(?<!x)y/"])("both reject %j", (pattern) => {
    expect(() => compileNamespaceSelector({ include: [pattern] })).toThrow(SelectorError);
    expect(() => compileTenants({ tenants: [{ name: "t", namespaces: [pattern] }] })).toThrow(RuleError);
  });
});

describe("label selectors: the simulator and the filter agree", () => {
  const objects: Record<string, string>[] = [
    {},
    { app: "web" },
    { app: "web", tier: "frontend" },
    { app: "api", tier: "backend", canary: "true" },
    { "app.kubernetes.io/part-of": "shop", app: "web" },
    { app: "" },
  ];
  const selectors = [
    "app=web",
    "app==web",
    "app = web",
    "app!=web",
    "app=",
    "tier in (frontend, backend)",
    "tier in(frontend)",
    "tier notin (frontend)",
    "app",
    "!canary",
    "! canary",
    "app=web,!canary",
    "app.kubernetes.io/part-of=shop",
    "app in (web,api),tier",
    "app=web,",
  ];
  it.each(selectors)("%s", (selector) => {
    for (const labels of objects) {
      expect({ labels, filter: filterMatches(selector, labels) }).toEqual({ labels, filter: simMatches(selector, labels) });
    }
  });

  it.each(["app in (a", "a=b=c", "a b", "-bad=x", "app=-bad", "!a=b", "a in (x y)", `a=${"v".repeat(64)}`])("both reject %j", (selector) => {
    expect(() => parseLabelSelector(selector)).toThrow(ApiError);
    expect(() => parseLabelSelector(selector)).toThrow(/unable to parse requirement/);
    expect(() => compileTenants({ tenants: [{ name: "t", namespaces: ["*"], include: [{ labels: selector }] }] })).toThrow(RuleError);
  });
});
