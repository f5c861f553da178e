// @faro/ingester: Falco's http_output and falcosidekick's webhook over authenticated, bounded HTTP, onto FARO_RAW as Events.
export { configSchema } from "./config.js";
export type { IngesterConfig } from "./config.js";
export { ingesterService } from "./definition.js";
export { createIngester, readToken, ENDPOINTS } from "./service.js";
export type { Ingester } from "./service.js";
export { mapAlert, alertUid, FALCO_SOURCE_COMPONENT, UNKNOWN_HOST, reportingController } from "./alert.js";
export type { AlertFormat, MappedAlert } from "./alert.js";
export { TokenBucket } from "./rate.js";
export { ingesterMetrics } from "./metrics.js";
export type { IngesterMetrics } from "./metrics.js";
export { IngesterError, RejectedRequestError, TokenFileError } from "./errors.js";
