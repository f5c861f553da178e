// Starts loaded services through the kernel: one (faro run) or several in one process (faro up, demo, capture).
import { startPipeline as startKernelPipeline, startService as startKernelService, type Pipeline, type RunningService } from "@faro/kernel";
import type { Logger } from "@faro/observability";
import { CommandError, explainStartFailure } from "./errors.js";
import type { LoadedService } from "./services.js";

export type { Pipeline, RunningService };

/** Starts one service with signal handling (faro run); resolves once it is ready. */
export function startService(loaded: LoadedService, options: { handleSignals: boolean; http?: boolean; logger?: Logger }): Promise<RunningService> {
  return startKernelService(loaded.definition, loaded.config as never, {
    handleSignals: options.handleSignals,
    http: options.http,
    ...(options.logger ? { logger: options.logger } : {}),
  });
}

/**
 * Starts services in the given order, each its own durable consumer, none handling signals. When one fails
 * to start, the ones already running are stopped and a CommandError names the failure.
 */
export async function startPipeline(
  loaded: readonly LoadedService[],
  options: { http?: boolean; logger?: (name: string) => Logger | undefined; onStarted?: (name: string) => void } = {},
): Promise<Pipeline> {
  const entries = loaded.map((l) => ({ definition: l.definition, config: l.config }));
  let current = loaded[0]?.name ?? "pipeline";
  try {
    return await startKernelPipeline(entries, {
      http: options.http,
      logger: (name) => {
        current = name as typeof current;
        return options.logger?.(name);
      },
      onStarted: options.onStarted,
    });
  } catch (err) {
    const cause = (err as Error).cause as Error | undefined;
    const message = cause?.message ?? (err as Error).message;
    // One line naming the address or file and what to do (errors.ts); the stack only in --verbose logs.
    throw new CommandError(`${current} failed to start: ${explainStartFailure(message)}`, "pipeline", { cause: err });
  }
}
