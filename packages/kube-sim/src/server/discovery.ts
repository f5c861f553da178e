// API discovery documents: aggregated (apidiscovery.k8s.io v2/v2beta1) and legacy (APIVersions, APIGroupList, APIResourceList).
import { subresourceKind } from "../builtin-types.js";

const subresourceVerbs = (s: string) => (s === "log" ? ["get"] : s === "token" ? ["create"] : ["get", "patch", "update"]);
import type { ResourceType } from "../types.js";

interface GroupVersions {
  group: string;
  versions: string[]; // preferred first
  byVersion: Map<string, ResourceType[]>;
}

/** Groups in a stable order: core first, then built-in groups in registration order, then CRD groups. */
export function groupTypes(types: ResourceType[]): GroupVersions[] {
  const groups = new Map<string, GroupVersions>();
  for (const t of types) {
    let g = groups.get(t.group);
    if (!g) groups.set(t.group, (g = { group: t.group, versions: [], byVersion: new Map() }));
    let list = g.byVersion.get(t.version);
    if (!list) {
      g.byVersion.set(t.version, (list = []));
      g.versions.push(t.version);
    }
    list.push(t);
  }
  return [...groups.values()];
}

export function aggregatedDiscovery(types: ResourceType[], legacy: boolean, apiVersion: string): object {
  const items = groupTypes(types)
    .filter((g) => (g.group === "") === legacy)
    .map((g) => ({
      metadata: { name: g.group, creationTimestamp: null },
      versions: g.versions.map((v) => ({
        version: v,
        freshness: "Current",
        resources: g.byVersion.get(v)!.map((t) => ({
          resource: t.resource,
          responseKind: { group: t.group, version: t.version, kind: t.kind },
          scope: t.namespaced ? "Namespaced" : "Cluster",
          singularResource: t.singular,
          verbs: t.verbs,
          ...(t.shortNames?.length ? { shortNames: t.shortNames } : {}),
          ...(t.categories?.length ? { categories: t.categories } : {}),
          ...(t.subresources.length
            ? {
                subresources: t.subresources.map((s) => ({
                  subresource: s,
                  responseKind: subresourceKind(t, s),
                  verbs: subresourceVerbs(s),
                })),
              }
            : {}),
        })),
      })),
    }));
  return { kind: "APIGroupDiscoveryList", apiVersion, metadata: {}, items };
}

export function apiVersions(): object {
  return {
    kind: "APIVersions",
    versions: ["v1"],
    serverAddressByClientCIDRs: [{ clientCIDR: "0.0.0.0/0", serverAddress: "127.0.0.1" }],
  };
}

function groupDoc(g: GroupVersions): object {
  const versions = g.versions.map((v) => ({ groupVersion: `${g.group}/${v}`, version: v }));
  return { name: g.group, versions, preferredVersion: versions[0] };
}

export function apiGroupList(types: ResourceType[]): object {
  return {
    kind: "APIGroupList",
    apiVersion: "v1",
    groups: groupTypes(types)
      .filter((g) => g.group !== "")
      .map(groupDoc),
  };
}

export function apiGroup(types: ResourceType[], group: string): object | undefined {
  const g = groupTypes(types).find((x) => x.group === group);
  return g ? { kind: "APIGroup", apiVersion: "v1", ...groupDoc(g) } : undefined;
}

export function apiResourceList(types: ResourceType[], group: string, version: string): object | undefined {
  const list = types.filter((t) => t.group === group && t.version === version);
  if (list.length === 0) return undefined;
  const resources: object[] = [];
  for (const t of list) {
    resources.push({
      name: t.resource,
      singularName: t.singular,
      namespaced: t.namespaced,
      kind: t.kind,
      verbs: t.verbs,
      ...(t.shortNames?.length ? { shortNames: t.shortNames } : {}),
      ...(t.categories?.length ? { categories: t.categories } : {}),
    });
    for (const s of t.subresources) {
      const k = subresourceKind(t, s);
      resources.push({
        name: `${t.resource}/${s}`,
        singularName: "",
        namespaced: t.namespaced,
        ...(k.group !== t.group ? { group: k.group, version: k.version } : {}),
        kind: k.kind,
        verbs: subresourceVerbs(s),
      });
    }
  }
  return { kind: "APIResourceList", apiVersion: "v1", groupVersion: group ? `${group}/${version}` : version, resources };
}
