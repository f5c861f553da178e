// Test fixture: a fake discovery result shaped like a small real cluster plus one CRD.
import type { ResourceInfo } from "./discovery.js";

const RW = ["create", "delete", "get", "list", "patch", "update", "watch"];

function r(group: string, version: string, resource: string, kind: string, namespaced: boolean, shortNames: string[] = [], verbs = RW): ResourceInfo {
  return {
    group,
    version,
    resource,
    kind,
    namespaced,
    verbs,
    apiVersion: group ? `${group}/${version}` : version,
    singular: kind.toLowerCase(),
    shortNames,
  };
}

export function fakeResources(): ResourceInfo[] {
  return [
    r("", "v1", "pods", "Pod", true, ["po"]),
    r("", "v1", "events", "Event", true, ["ev"]),
    r("", "v1", "configmaps", "ConfigMap", true, ["cm"]),
    r("", "v1", "nodes", "Node", false, ["no"]),
    r("", "v1", "namespaces", "Namespace", false, ["ns"]),
    r("", "v1", "bindings", "Binding", true, [], ["create"]),
    r("apps", "v1", "deployments", "Deployment", true, ["deploy"]),
    r("apps", "v1", "replicasets", "ReplicaSet", true, ["rs"]),
    r("events.k8s.io", "v1", "events", "Event", true, ["ev"]),
    r("example.com", "v1", "widgets", "Widget", true, ["wd"]),
  ];
}
