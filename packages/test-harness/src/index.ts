// Test harness: real nats-server and redis-server processes (or containers) for integration tests.
export { HarnessError, ServerUnavailableError } from "./errors.js";
export { freePort, canConnect, waitForPort } from "./ports.js";
export { until } from "./until.js";
export { makeCerts } from "./certs.js";
export type { TestCerts } from "./certs.js";
export type { ManagedServer } from "./process-server.js";
export { ProcessServer } from "./process-server.js";
export { startNats, startRedis, findBinary, dockerEngineReachable, natsServerBinary, natsServerBinaries } from "./servers.js";
export type { NatsOptions, NatsServerBinary } from "./servers.js";
export { startNatsCluster, startRedisSentinel, redisCommand } from "./cluster.js";
export type { NatsCluster, NatsClusterNode, NatsClusterOptions, RedisSentinelSet, RedisSentinelOptions } from "./cluster.js";
export { beginTestRun, registerProcess, testRunEnv, findLeakedProcesses, reapLeakedProcesses, killProcesses, listProcesses, describeLeaks, RUN_DIR_ENV } from "./processes.js";
export type { TestRun, LeakedProcess, LeakReason, ProcessInfo, FindOptions, ReapOptions } from "./processes.js";
