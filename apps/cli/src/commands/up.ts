// `faro up`: every service in one process for local use, each still its own durable consumer on the bus.
import { parseFlags, type Command } from "../command.js";
import { loadPipelineConfig } from "../pipeline-config.js";
import { startPipeline } from "../runner.js";
import { createLogger } from "@faro/observability";
import { startupGate } from "../quiet-log.js";

export const upCommand: Command = {
  name: "up",
  summary: "run every service in one process (local use); Ctrl-C stops them in reverse order",
  usage: "faro up [--kubeconfig PATH] [--context NAME] [--cluster NAME] [--nats URL] [--redis URL] [--config FILE] [--no-http] [--verbose]",
  async run(args, io) {
    const f = parseFlags(
      args,
      { kubeconfig: "string", context: "string", cluster: "string", nats: "string", redis: "string", config: "string", "no-http": "boolean", verbose: "boolean", help: "boolean" },
      "up",
    );
    if (f.help) {
      io.out(`usage: ${upCommand.usage}\nThe --config file holds common keys at the top and each service's own keys under its name (watcher:, correlator:, …); see docs/configuration.md.`);
      return 0;
    }
    const overrides: Record<string, string> = {};
    if (f.kubeconfig) overrides["kube.kubeconfig"] = f.kubeconfig as string;
    if (f.context) overrides["kube.context"] = f.context as string;
    if (f.cluster) overrides.cluster = f.cluster as string;
    if (f.nats) overrides["nats.url"] = f.nats as string;
    if (f.redis) overrides["redis.url"] = f.redis as string;
    const loaded = await loadPipelineConfig({ configFile: f.config as string | undefined, env: process.env, overrides });
    // Quiet by default: services log warnings and errors (to stderr); --verbose gives their configured level.
    const levels = new Map(loaded.map((l) => [l.name as string, l.config.log.level]));
    // Quiet start-up: the services' lines are held until all are ready (dropped on failure: one line says why).
    const gate = f.verbose ? undefined : startupGate(process.stderr);
    const pipeline = await startPipeline(loaded, {
      http: !f["no-http"],
      logger: (name) => createLogger({ service: name, level: f.verbose ? (levels.get(name) ?? "info") : "warn", pretty: false, destination: gate ?? process.stderr }),
      onStarted: (name) => io.err(`faro up: ${name} ready`),
    }).catch((err: unknown) => {
      gate?.discard();
      throw err;
    });
    gate?.open();
    io.err(`faro up: ${pipeline.services.map((s) => s.name).join(", ")} running (cluster ${loaded[0]!.config.cluster}); Ctrl-C to stop`);
    // A service that stops on its own (e.g. forced by a fatal error) takes the others down too.
    const firstStopped = Promise.race(pipeline.services.map((s) => s.handle.stopped.then(() => s.name)));
    const why = await Promise.race([
      new Promise<string>((resolve) => (io.signal.aborted ? resolve("signal") : io.signal.addEventListener("abort", () => resolve("signal"), { once: true }))),
      firstStopped.then((n) => `${n} stopped`),
    ]);
    io.err(`faro up: stopping (${why})`);
    const code = await pipeline.stop(why);
    return why === "signal" ? code : 1;
  },
};
