// @faro/kernel: a service is a definition; one runner owns connections, provisioning, publishers, consumer
// groups, dead letters, health and the lifecycle for every service (docs/architecture.md#the-service-kernel).
export { defineService } from "./definition.js";
export type {
  AnyServiceDefinition,
  ConsumerGroupRequest,
  DeadLetterRequest,
  KernelContext,
  PublisherRequest,
  ServiceConfig,
  ServiceDefinition,
  ServiceInstance,
} from "./definition.js";
export { FARO_VERSION, loadServiceConfig, startPipeline, startService } from "./runner.js";
export type { KernelConfig, Pipeline, PipelineEntry, RunningService, StartServiceOptions } from "./runner.js";
export { natsClientOptions, redactUrl, redisClientOptions } from "./connections.js";
export { filterCluster, pipelineScope, scopedDurable, scopedKeyPrefix, SCOPE_SEPARATOR } from "./scope.js";
export type { PipelineScope } from "./scope.js";
export type { NatsClientOptions, NatsSettings, RedisSettings } from "./connections.js";
export { CredentialFileError, DefinitionError, KernelError, ServiceStepError, UndeclaredResourceError } from "./errors.js";
