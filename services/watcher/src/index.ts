// @faro/watcher: the universal watcher — every resource change and Kubernetes Event, published to FARO_RAW.
export { configSchema, DEFAULT_EXCLUDED_RESOURCES } from "./config.js";
export type { WatcherConfig } from "./config.js";
export { watcherService } from "./definition.js";
export { createWatcher, PUBLISHER_NAME } from "./service.js";
export type { Watcher, WatcherOptions, WatcherStatus, WatchedResource } from "./service.js";
export { Selection, isCoreEvents, isEventType, isCrdType } from "./selection.js";
export type { PlannedWatch, SelectionPlan, WatchRole } from "./selection.js";
export { encodeChange, encodeEvent, changeMsgId, eventMsgId, involvedOf, involvedUid, unencodableDeadLetter } from "./encode.js";
export { LabelMemory, labelsJson } from "./labels.js";
export type { Outgoing, InvolvedIdentity } from "./encode.js";
export { StateStore, CommitLog, encodeRemembered, decodeRemembered } from "./state.js";
export type { RememberedObject, StateUpdate } from "./state.js";
export { watcherMetrics } from "./metrics.js";
export type { WatcherMetrics } from "./metrics.js";
export { WatcherError, StateStoreError, EncodeError } from "./errors.js";
