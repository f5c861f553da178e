// Test harness: real nats-server and redis-server processes (or containers) for integration tests.
export { HarnessError, ServerUnavailableError } from "./errors.js";
export { freePort, canConnect, waitForPort } from "./ports.js";
export { until } from "./until.js";
export type { ManagedServer } from "./process-server.js";
export { ProcessServer } from "./process-server.js";
export { startNats, startRedis, findBinary, dockerEngineReachable } from "./servers.js";
export type { NatsOptions } from "./servers.js";
export { beginTestRun, registerProcess, testRunEnv, findLeakedProcesses, reapLeakedProcesses, killProcesses, listProcesses, describeLeaks, RUN_DIR_ENV } from "./processes.js";
export type { TestRun, LeakedProcess, LeakReason, ProcessInfo, FindOptions, ReapOptions } from "./processes.js";
