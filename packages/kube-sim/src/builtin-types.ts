// The built-in resource types the simulated API serves (core, apps, batch, events, apiextensions, coordination, autoscaling).
import type { ResourceType } from "./types.js";

const RW = ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"];

function t(
  group: string,
  version: string,
  resource: string,
  kind: string,
  namespaced: boolean,
  extra: Partial<ResourceType> = {},
): ResourceType {
  return {
    group,
    version,
    resource,
    singular: kind.toLowerCase(),
    kind,
    listKind: `${kind}List`,
    namespaced,
    verbs: RW,
    subresources: [],
    ...extra,
  };
}

/** Every built-in type; `categories: ["all"]` where `kubectl get all` lists the type. */
export const builtinTypes: readonly ResourceType[] = Object.freeze([
  t("", "v1", "namespaces", "Namespace", false, {
    shortNames: ["ns"],
    subresources: ["status", "finalize"],
    verbs: ["create", "delete", "get", "list", "patch", "update", "watch"],
  }),
  t("", "v1", "nodes", "Node", false, { shortNames: ["no"], subresources: ["status"] }),
  t("", "v1", "pods", "Pod", true, { shortNames: ["po"], subresources: ["log", "status"], categories: ["all"] }),
  t("", "v1", "services", "Service", true, {
    shortNames: ["svc"],
    subresources: ["status"],
    categories: ["all"],
    verbs: ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"],
  }),
  t("", "v1", "configmaps", "ConfigMap", true, { shortNames: ["cm"] }),
  t("", "v1", "secrets", "Secret", true),
  t("", "v1", "events", "Event", true, { shortNames: ["ev"] }),
  t("", "v1", "serviceaccounts", "ServiceAccount", true, { shortNames: ["sa"], subresources: ["token"] }),
  t("", "v1", "endpoints", "Endpoints", true, { shortNames: ["ep"], singular: "endpoints" }),
  t("", "v1", "persistentvolumeclaims", "PersistentVolumeClaim", true, {
    shortNames: ["pvc"],
    subresources: ["status"],
  }),
  t("apps", "v1", "deployments", "Deployment", true, {
    shortNames: ["deploy"],
    subresources: ["scale", "status"],
    categories: ["all"],
  }),
  t("apps", "v1", "replicasets", "ReplicaSet", true, {
    shortNames: ["rs"],
    subresources: ["scale", "status"],
    categories: ["all"],
  }),
  t("apps", "v1", "statefulsets", "StatefulSet", true, {
    shortNames: ["sts"],
    subresources: ["scale", "status"],
    categories: ["all"],
  }),
  t("apps", "v1", "daemonsets", "DaemonSet", true, { shortNames: ["ds"], subresources: ["status"], categories: ["all"] }),
  t("apps", "v1", "controllerrevisions", "ControllerRevision", true),
  t("batch", "v1", "jobs", "Job", true, { subresources: ["status"], categories: ["all"] }),
  t("batch", "v1", "cronjobs", "CronJob", true, { shortNames: ["cj"], subresources: ["status"], categories: ["all"] }),
  t("events.k8s.io", "v1", "events", "Event", true, { shortNames: ["ev"] }),
  t("apiextensions.k8s.io", "v1", "customresourcedefinitions", "CustomResourceDefinition", false, {
    shortNames: ["crd", "crds"],
    subresources: ["status"],
    categories: ["api-extensions"],
  }),
  t("coordination.k8s.io", "v1", "leases", "Lease", true),
  t("rbac.authorization.k8s.io", "v1", "roles", "Role", true),
  t("rbac.authorization.k8s.io", "v1", "rolebindings", "RoleBinding", true),
  t("rbac.authorization.k8s.io", "v1", "clusterroles", "ClusterRole", false),
  t("rbac.authorization.k8s.io", "v1", "clusterrolebindings", "ClusterRoleBinding", false),
  // Virtual: answered by the authorizer (server/http.ts), never stored.
  t("authorization.k8s.io", "v1", "selfsubjectaccessreviews", "SelfSubjectAccessReview", false, { verbs: ["create"] }),
  t("authorization.k8s.io", "v1", "selfsubjectrulesreviews", "SelfSubjectRulesReview", false, { verbs: ["create"] }),
  t("autoscaling", "v2", "horizontalpodautoscalers", "HorizontalPodAutoscaler", true, { shortNames: ["hpa"], subresources: ["status"], categories: ["all"] }),
]);

/** Which subresources return which kind (discovery needs the responseKind). */
export function subresourceKind(type: ResourceType, sub: string): { group: string; version: string; kind: string } {
  if (sub === "scale") return { group: "autoscaling", version: "v1", kind: "Scale" };
  if (sub === "log") return { group: "", version: "v1", kind: "Pod" };
  if (sub === "token") return { group: "authentication.k8s.io", version: "v1", kind: "TokenRequest" };
  return { group: type.group, version: type.version, kind: type.kind };
}
