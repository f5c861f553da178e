// Unit tests for tenant routing, include/exclude rules, log-line filtering and rule stats.
import { RuleError } from "@faro/redact";
import { describe, expect, it } from "vitest";
import { GLOBAL_NAMESPACES, NO_INCLUDE_MATCH, compileTenants } from "./tenants.js";
import type { FilterRulesConfig } from "./types.js";

const cfg: FilterRulesConfig = {
  global: {
    excludeNamespaces: ["kube-system", "kube-*"],
    exclude: [{ name: "no-probes", log: "GET /(healthz|readyz)" }, { name: "no-pulled", reasons: ["Pulled"] }],
  },
  tenants: [
    { name: "payments", namespaces: ["prod-payments", "/^pay-[a-z]+$/"] },
    {
      // Shares namespace "shared" with search, told apart by pod name and labels.
      name: "checkout",
      namespaces: ["shared", "prod-*"],
      include: [{ name: "checkout-pods", pods: ["checkout-*"] }, { name: "checkout-apps", labels: "app in (checkout, cart)" }],
      exclude: [{ name: "no-sidecar", containers: ["istio-proxy"] }, { name: "no-debug", log: "^DEBUG", ignoreCase: true }],
    },
    {
      name: "search",
      namespaces: ["shared"],
      include: [{ names: ["search-*"] }, { kinds: ["Event"], types: ["Warning"] }],
      exclude: [{ kinds: ["ConfigMap"] }],
    },
    { name: "errors-only", namespaces: ["shared"], include: [{ name: "errors", log: "\\b(ERROR|FATAL)\\b" }] },
  ],
};

describe("compileTenants: objects and events", () => {
  const m = compileTenants(cfg);

  it("routes by namespace name, glob and regex; an object may belong to several tenants", () => {
    expect(m.tenantsForObject({ kind: "Deployment", namespace: "prod-payments", name: "api" })).toEqual(["payments"]);
    expect(m.tenantsForObject({ kind: "Deployment", namespace: "pay-eu", name: "api" })).toEqual(["payments"]);
    expect(m.tenantsForObject({ kind: "Pod", namespace: "prod-shop", name: "checkout-1" })).toEqual(["checkout"]);
    expect(m.tenantsForObject({ kind: "Pod", namespace: "staging", name: "checkout-1" })).toEqual([]);
  });

  it("tells tenants sharing a namespace apart by pod name, object name and labels", () => {
    expect(m.tenantsForObject({ kind: "Pod", namespace: "shared", name: "checkout-7f9" })).toEqual(["checkout", "errors-only"]);
    expect(m.tenantsForObject({ kind: "Deployment", namespace: "shared", name: "search-api" })).toEqual(["search", "errors-only"]);
    expect(m.tenantsForObject({ kind: "Deployment", namespace: "shared", name: "web", labels: { app: "cart" } })).toEqual([
      "checkout",
      "errors-only",
    ]);
    expect(m.tenantsForObject({ kind: "ConfigMap", namespace: "shared", name: "search-config" })).toEqual(["errors-only"]);
  });

  it("applies global namespace exclusions before any tenant", () => {
    expect(m.tenantsForObject({ kind: "Pod", namespace: "kube-system", name: "coredns" })).toEqual([]);
    expect(m.tenantsForObject({ kind: "Pod", namespace: "kube-public", name: "x" })).toEqual([]);
  });

  it("matches Events on reason, type and involved object", () => {
    const base = { namespace: "shared", source: "kubelet" };
    expect(m.tenantsForEvent({ ...base, reason: "BackOff", type: "Warning", involvedKind: "Pod", involvedName: "other" })).toEqual([
      "search",
      "errors-only",
    ]);
    expect(m.tenantsForEvent({ ...base, reason: "Started", type: "Normal", involvedKind: "Pod", involvedName: "checkout-1" })).toEqual([
      "checkout",
      "errors-only",
    ]);
    expect(m.tenantsForEvent({ ...base, reason: "Pulled", type: "Normal", involvedKind: "Pod", involvedName: "checkout-1" })).toEqual([]);
  });

  it("counts per tenant and per rule", () => {
    const s = m.stats();
    const search = s.tenants.find((t) => t.tenant === "search" && t.class === "object")!;
    expect(search.in).toBeGreaterThan(0);
    expect(search.in).toBe(search.out + search.dropped);
    const cm = s.rules.find((r) => r.tenant === "search" && r.rule === "exclude[0]")!;
    expect(cm.dropped).toBe(1);
    const pulled = s.rules.find((r) => r.rule === "no-pulled")!;
    expect(pulled.dropped).toBe(1);
    expect(pulled.evalSeconds).toBeGreaterThanOrEqual(0);
    expect(s.globalNamespaceDrops.object).toBe(2);
  });
});

describe("compileTenants: log lines", () => {
  const lines = [
    "INFO GET /healthz 200",
    "INFO order 42 placed",
    "debug: cache warm",
    "ERROR payment declined",
    "INFO GET /readyz 200",
    "FATAL out of memory",
  ];

  it("drops globally excluded noise and tenant excludes, counting per rule", () => {
    const m = compileTenants(cfg);
    const stream = { namespace: "shared", pod: "checkout-1", container: "app" };
    expect(m.tenantsForLogStream(stream)).toEqual(["checkout", "errors-only"]);
    const r = m.filterLogLines("checkout", stream, lines);
    expect(r.kept).toEqual(["INFO order 42 placed", "ERROR payment declined", "FATAL out of memory"]);
    expect(r.dropped).toEqual({ "no-probes": 2, "no-debug": 1 });
    const st = m.stats().tenants.find((t) => t.tenant === "checkout" && t.class === "log")!;
    expect([st.in, st.out, st.dropped]).toEqual([6, 3, 3]);
    expect(m.stats().rules.find((x) => x.rule === "no-debug")!.dropped).toBe(1);
  });

  it("keeps only lines matching a log include rule", () => {
    const m = compileTenants(cfg);
    const r = m.filterLogLines("errors-only", { namespace: "shared", pod: "search-1", container: "app" }, lines);
    expect(r.kept).toEqual(["ERROR payment declined", "FATAL out of memory"]);
    expect(r.dropped).toEqual({ "no-probes": 2, [NO_INCLUDE_MATCH]: 2 });
  });

  it("drops whole streams by container and by missing include match", () => {
    const m = compileTenants(cfg);
    const sidecar = { namespace: "shared", pod: "checkout-1", container: "istio-proxy" };
    expect(m.tenantsForLogStream(sidecar)).toEqual(["errors-only"]);
    expect(m.filterLogLines("checkout", sidecar, lines)).toEqual({ kept: [], dropped: { "no-sidecar": 6 } });
    const other = { namespace: "shared", pod: "web-1", container: "app" };
    expect(m.filterLogLines("checkout", other, lines)).toEqual({ kept: [], dropped: { [NO_INCLUDE_MATCH]: 6 } });
    expect(m.filterLogLines("payments", { namespace: "kube-system", pod: "x", container: "y" }, lines).dropped).toEqual({
      [GLOBAL_NAMESPACES]: 6,
    });
  });

  it("agrees with line-by-line filtering on large batches", () => {
    const m = compileTenants(cfg);
    const stream = { namespace: "shared", pod: "checkout-1", container: "app" };
    const big = Array.from({ length: 500 }, (_, i) => lines[(i * 7) % lines.length]! + ` #${i}`);
    const batch = m.filterLogLines("checkout", stream, big).kept;
    const single = big.filter((l) => m.filterLogLines("checkout", stream, [l]).kept.length === 1);
    expect(batch).toEqual(single);
  });

  it("filterLogBatch gives every tenant of the stream the same answer as filterLogLines", () => {
    const a = compileTenants(cfg);
    const b = compileTenants(cfg);
    const stream = { namespace: "shared", pod: "checkout-1", container: "app" };
    const batch = a.filterLogBatch(stream, lines);
    expect([...batch.keys()]).toEqual(["checkout", "search", "errors-only"]);
    for (const [tenant, result] of batch) expect(result).toEqual(b.filterLogLines(tenant, stream, lines));
    expect(batch.get("search")).toEqual({ kept: [], dropped: { [NO_INCLUDE_MATCH]: 6 } });
    expect(a.filterLogBatch({ namespace: "kube-system", pod: "x", container: "y" }, lines).size).toBe(0);
    // An empty batch (a stream's end marker) is an empty answer for every tenant, not no answer.
    const empty = a.filterLogBatch(stream, []);
    expect([...empty.keys()]).toEqual(["checkout", "search", "errors-only"]);
    for (const [tenant, result] of empty) expect(result).toEqual(b.filterLogLines(tenant, stream, []));
    // Global rules are counted once per batch by filterLogBatch.
    expect(a.stats().rules.find((r) => r.rule === "no-probes")!.dropped).toBe(2);
  });

  it("runs a catastrophic-backtracking log pattern in linear time", () => {
    const m = compileTenants({ tenants: [{ name: "t", namespaces: ["*"], exclude: [{ log: "(a+)+$" }] }] });
    const r = m.filterLogLines("t", { namespace: "ns", pod: "p", container: "c" }, ["a".repeat(100_000) + "b", "aaa"]);
    expect(r.kept).toHaveLength(1);
    expect(r.dropped).toEqual({ "exclude[0]": 1 });
  });
});

describe("compileTenants: configuration errors", () => {
  const bad = (c: unknown) => () => compileTenants(c as FilterRulesConfig);

  it("names tenant and rule for a pattern RE2 cannot compile", () => {
    expect(bad({ tenants: [{ name: "a", namespaces: ["x"], exclude: [{ log: "ok" }, { name: "noise", log: "(?<=x)y" }] }] })).toThrow(
      /tenant a exclude\[1\] \(noise\)\.log/,
    );
    expect(bad({ tenants: [{ name: "a", namespaces: ["/(x)\\1/"] }] })).toThrow(RuleError);
    expect(bad({ tenants: [{ name: "a", namespaces: ["x"], include: [{ pods: ["/(?=a)/"] }] }] })).toThrow(/tenant a include\[0\]\.pods/);
  });

  it("rejects unknown fields, empty rules, bad selectors and duplicate names", () => {
    expect(bad({ tenants: [{ name: "a", namespaces: ["x"], include: [{ pod: ["x"] }] }] })).toThrow(/unknown field "pod"/);
    expect(bad({ tenants: [{ name: "a", namespaces: ["x"], include: [{}] }] })).toThrow(/matches nothing/);
    expect(bad({ tenants: [{ name: "a", namespaces: ["x"], include: [{ labels: "app in (" }] }] })).toThrow(/labels/);
    expect(bad({ tenants: [{ name: "a", namespaces: ["x"] }, { name: "a", namespaces: ["y"] }] })).toThrow(/duplicate/);
    expect(bad({ tenants: [{ name: "a b", namespaces: ["x"] }] })).toThrow(RuleError);
    expect(bad({ tenants: [{ name: "a", namespaces: [] }] })).toThrow(/namespaces/);
    expect(bad({})).toThrow(/tenants/);
  });
});
