// @faro/bus: NATS JetStream plumbing shared by every Faro service (connect, provision, publish, consume).
export { connectBus } from "./connect.js";
export type { Bus, ConnectBusOptions } from "./connect.js";
export {
  ensureStream,
  ensureConsumer,
  ensureDlqStream,
  validateStreamSpec,
  validateConsumerSpec,
} from "./provision.js";
export type { StreamSpec, ConsumerSpec, DlqStreamOptions } from "./provision.js";
export { Publisher, isTransientPublishError } from "./publisher.js";
export type { PublisherOptions, PublishOptions } from "./publisher.js";
export { ConsumerGroup } from "./consumer-group.js";
export type { BusMessage, BusHandler, ConsumerGroupOptions } from "./consumer-group.js";
export { DLQ_HEADERS } from "./dead-letter.js";
export type { DeadLetterKind, DeadLetterSource } from "./dead-letter.js";
export { busMetrics } from "./metrics.js";
export type { BusMetrics } from "./metrics.js";
export {
  BusError,
  BusConnectionError,
  InvalidSpecError,
  ProvisioningError,
  PublishError,
  StoppedError,
  RetryableError,
  PoisonError,
  DeadLetterError,
} from "./errors.js";
