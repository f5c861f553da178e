// @faro/kube: the Kubernetes access layer — config, discovery, namespace/resource selection,
// resilient list+watch, object normalisation, pod logs and generic GET.
export {
  KubeConfigLite,
  loadKubeConfig,
  type KubeAccess,
  type KubeCluster,
  type KubeContext,
  type KubeUser,
  type LoadKubeConfigOptions,
} from "./config.js";
export {
  DiscoveryCache,
  discoverResources,
  findResource,
  matchResourceSpec,
  resolveResourceSpecs,
  resourceKey,
  resourceName,
  type DiscoverOptions,
  type DiscoveryChange,
  type ResolveOptions,
  type ResourceInfo,
} from "./discovery.js";
export {
  KubeApiError,
  KubeConfigError,
  KubeConnectionError,
  ResourceNotWatchableError,
  SelectorError,
  UnknownResourceError,
} from "./errors.js";
export { apiUrl, requestJson, type KubeRequest } from "./http.js";
export { LineSplitter, decodeLogLine, parseLogLine, textBytes, type LogLine, type LineOut } from "./lines.js";
export { followLogs, getLogs, getPreviousLogs, type LogOptions, type LogStreamResult } from "./logs.js";
export { kubeMetrics, type KubeMetrics } from "./metrics.js";
export {
  compileNamespaceSelector,
  compileWatchPlan,
  type NamespacePredicate,
  type NamespaceSelectorConfig,
  type ResolvedResources,
  type ResourceSetConfig,
  type WatchPlan,
} from "./namespaces.js";
export { LAST_APPLIED_ANNOTATION, formatTime, isSecret, normalizeObject, stripSecretValues } from "./normalize.js";
export { getObject, type GetObjectOptions } from "./object.js";
export {
  ResilientWatch,
  resourcePath,
  type KnownObject,
  type KubeObject,
  type ObjectMetaLike,
  type ResilientWatchOptions,
  type ResourceRef,
  type WatchEvent,
  type WatchEventType,
} from "./watch.js";
