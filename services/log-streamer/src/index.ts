// @faro/log-streamer: follows every container's log and publishes batches to FARO_RAW (see service.ts).
export { configSchema } from "./config.js";
export type { LogStreamerConfig } from "./config.js";
export { logStreamerService } from "./definition.js";
export { createLogStreamer, replicaIdOf, SERVICE_NAME, CONSUMER_NAME } from "./service.js";
export type { LogStreamer, LogStreamerOptions, LogStreamerStats } from "./service.js";
export { LogStreamerError, LeaseLostError, StateError, PodChangeError, RecoveryError } from "./errors.js";
export { podInstances, planRead, instanceKey, parseInstanceKey } from "./instances.js";
export type { InstanceRef, WantedInstance, PodLike, ReadPlan } from "./instances.js";
export { limitLine, truncationMarker, normalizeTimestamp, ResumeFilter, advance } from "./lines.js";
export type { Position } from "./lines.js";
export { StreamState, epochInfo } from "./state.js";
export type { Checkpoint, PendingBatch, ScanResult, RenewResult } from "./state.js";
export { positionOnBus, lastPodChanges } from "./recovery.js";
export type { BusPosition } from "./recovery.js";
