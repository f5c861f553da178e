// kube-sim: a Kubernetes API simulator that client-node and kubectl use unchanged — API server
// (store, discovery, list/watch, CRUD, logs) and cluster behaviour (controllers, kubelet, scenarios).
export { createApiServer, createStore, ApiError, builtinTypes, parseFieldSelector, parseLabelSelector } from "./api.js";
export type { ApiServer, ApiServerOptions, SimStore, StoreOptions, StatusObject } from "./api.js";
export type {
  DeleteOptions,
  KubeObject,
  LogProvider,
  LogQuery,
  LogRecord,
  NewObject,
  ObjectMeta,
  OwnerReference,
  ResourceType,
  SimClock,
  Store,
  StoreEvent,
  WatchEventType,
} from "./types.js";
export { createClock, goDuration, parseDuration } from "./clock.js";
export type { ClockOptions } from "./clock.js";
export { startCluster } from "./cluster.js";
export { ADMIN_TOKEN } from "./rbac.js";
export type { Decision, RequestAttributes, Subject } from "./rbac.js";
export type { Cluster, ClusterOptions } from "./cluster.js";
export { createGroundTruth } from "./ground-truth.js";
export type { ChangeFilter, EventChange, GroundTruth, LineFilter, ObjectChange, TruthOptions } from "./ground-truth.js";
export { createLogStore } from "./logs/log-store.js";
export type { LogStore, LogStoreOptions } from "./logs/log-store.js";
export { formatMs as formatLogTimestamp } from "./logs/timestamp.js";
export { createBehaviorRegistry, ANNOTATION_PREFIX } from "./kubelet/behavior.js";
export type { BehaviorRegistry, BehaviorRule, ContainerBehavior, LogScript } from "./kubelet/behavior.js";
export { createKubelet } from "./kubelet/kubelet.js";
export type { Kubelet, KubeletOptions } from "./kubelet/kubelet.js";
export { startControllers } from "./controllers/index.js";
export { createEventRecorder } from "./controllers/events.js";
export type { EventRecorder, EventSpec } from "./controllers/events.js";
export { createNodes } from "./controllers/nodes.js";
export type { NodeSpec } from "./controllers/nodes.js";
export { builtinScenarioNames, loadScenario, loadTestScenario, parseScenario, toScenario, STEP_ACTIONS } from "./scenario/format.js";
export type { LoadParams, Scenario, ScenarioStep, StepAction } from "./scenario/format.js";
export { runScenario, applyObject } from "./scenario/runner.js";
export type { ScenarioContext, ScenarioRun } from "./scenario/runner.js";
export { ScenarioError } from "./scenario/errors.js";
