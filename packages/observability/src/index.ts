// @faro/observability: logging, metrics, health/readiness endpoints and the service lifecycle every Faro service shares.
export { ObservabilityError, MetricConflictError, LifecycleError, ContractError, ServiceStartError } from "./errors.js";
export { createLogger } from "./logger.js";
export type { Logger, LoggerOptions } from "./logger.js";
export { createMetrics, counter, gauge, histogram, REQUIRED_METRICS, Registry } from "./metrics.js";
export type { ServiceMetrics, Counter, Gauge, Histogram } from "./metrics.js";
export { Lifecycle, LIFECYCLE_STATES } from "./lifecycle.js";
export type { LifecycleState, ReadinessCheck, ReadinessResult, ReadinessReport } from "./lifecycle.js";
export { startHttpServer } from "./http.js";
export type { HttpServerOptions, HttpServerHandle } from "./http.js";
export { runService, EXIT_CODES } from "./service.js";
export type { RunServiceOptions, ServiceContext, ServiceHandle, StopResult } from "./service.js";
export { checkServiceContract } from "./contract.js";
export type { ContractReport } from "./contract.js";
