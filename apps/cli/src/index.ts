// cli: public surface — the command router, the command contract, and the in-process pipeline pieces that
// tests, benchmarks and tools embedding faro use.
export { main, helpText } from "./main.js";
export { commands } from "./commands/index.js";
export { parseFlags } from "./command.js";
export type { Command, CommandIO, FlagSpec } from "./command.js";
export { CommandError, UsageError } from "./errors.js";
export { SERVICE_NAMES, definitionOf, isServiceName, loadService } from "./services.js";
export type { ServiceName, LoadedService, Flushable } from "./services.js";
export { startService, startPipeline } from "./runner.js";
export type { Pipeline, RunningService } from "./runner.js";
export { loadPipelineConfig, overrideFlags } from "./pipeline-config.js";
export type { PipelineConfigOptions } from "./pipeline-config.js";
export { startSession } from "./session.js";
export type { Session, SessionOptions } from "./session.js";
export { waitDrained, drainState, pipelineConsumers } from "./drain.js";
export type { DrainOptions, DrainState, DrainTarget } from "./drain.js";
export { follow, TAIL_STAGES } from "./follow.js";
export type { Follower, FollowOptions, TailStage } from "./follow.js";
export { decodeRecord, jsonRecord, summarize } from "./tail-format.js";
export type { TailRecord } from "./tail-format.js";
export { readStoryFiles, incidentsByReason } from "./story-files.js";
export type { ReadStory } from "./story-files.js";
export { parseTarget, findStory } from "./commands/capture.js";
