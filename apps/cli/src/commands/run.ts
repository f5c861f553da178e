// `faro run <service>`: one service in this process, the container entrypoint (exit codes per docs/spec/service.md).
import { ServiceStartError } from "@faro/observability";
import type { Command } from "../command.js";
import { CommandError, UsageError } from "../errors.js";
import { startService } from "../runner.js";
import { isServiceName, loadService, SERVICE_NAMES } from "../services.js";

export const runCommand: Command = {
  name: "run",
  summary: "run one service (the container entrypoint): ingester, watcher, log-streamer, filter, correlator, analyzer, writer, forwarder or remediator (opt-in)",
  usage: `faro run <${SERVICE_NAMES.join("|")}> [--config FILE] [--<setting>=VALUE ...]   (settings: docs/configuration.md; FARO_* env works too)`,
  async run(args, io) {
    const [name, ...rest] = args;
    if (name === undefined || name === "--help" || name === "-h") {
      io.out(`usage: ${runCommand.usage}`);
      return name === undefined ? 2 : 0;
    }
    if (!isServiceName(name)) throw new UsageError(`unknown service "${name}" (services: ${SERVICE_NAMES.join(", ")})`, "run");
    if (rest.includes("--help") || rest.includes("-h")) {
      io.out(`usage: faro run ${name} [--config FILE] [--<setting>=VALUE ...]\nSettings of ${name}: docs/configuration.md (flags --a.b=v, env FARO_A_B, YAML via --config or FARO_CONFIG).`);
      return 0;
    }
    // ConfigError propagates: main prints every problem and exits 2.
    const loaded = await loadService(name, { argv: rest, env: process.env });
    let running;
    try {
      running = await startService(loaded, { handleSignals: true });
    } catch (err) {
      // runService logged the cause and released what start acquired; one line on stderr, exit 1.
      if (err instanceof ServiceStartError) throw new CommandError(err.message, "run", { cause: err });
      throw err;
    }
    const result = await running.handle.stopped;
    return result.code;
  },
};
