// `faro tail`: a live view of the bus read like stern — time, pod (a stable colour each), container, the log
// line itself or one sentence per entry; `--output raw|wide|json`, `--json` the canonical JSON per message.
import { parseFlags, type Command } from "../command.js";
import { UsageError } from "../errors.js";
import { follow, TAIL_STAGES, type TailStage } from "../follow.js";
import { createTailRenderer, jsonRecord, TAIL_OUTPUTS, type TailOutput } from "../tail-format.js";
import { parseSince, useColour } from "../terminal.js";

const FLAGS = {
  stage: "string",
  namespace: "string",
  cluster: "string",
  all: "boolean",
  since: "string",
  "no-follow": "boolean",
  output: "string",
  json: "boolean",
  "no-color": "boolean",
  nats: "string",
  help: "boolean",
} as const;

export const tailCommand: Command = {
  name: "tail",
  summary: "follow what flows on the bus like stern: time, pod, container, the log line or one sentence per entry",
  usage: `faro tail [--stage ${TAIL_STAGES.join("|")}[,…]] [-n NS] [--cluster NAME] [--since 10m | --all] [--no-follow] [-o ${TAIL_OUTPUTS.join("|")}] [--json] [--no-color] [--nats URL]`,
  async run(args, io) {
    const mapped = args.flatMap((a, i) => (a === "-n" ? ["--namespace"] : a === "-o" ? ["--output"] : a === "-h" ? ["--help"] : [args[i]!]));
    const f = parseFlags(mapped, FLAGS, "tail");
    if (f.help) {
      io.out(
        [
          `usage: ${tailCommand.usage}`,
          "Default stages: story,incident. New messages only, unless --since (a duration back from now, or a time) or --all (everything the streams hold).",
          "  --no-follow  with --since or --all: print what the streams hold, then exit 0",
          "Lines: TIME POD CONTAINER TEXT — a log line as the container wrote it, or [kind] and one sentence (event, change, lifecycle, incident).",
          "  A CLUSTER column appears once a second cluster shows up (not with --cluster). On a terminal lines are cut to its width and pods coloured.",
          "  -o raw    the text only (log lines as written)",
          "  -o wide   date and time, cluster, namespace, pod, container, stage and kind; never cut",
          "  -o json   one JSON object per message: the proto3 canonical JSON (same as --json)",
          "  --no-color (or NO_COLOR=1) no colours. NATS from --nats, else FARO_NATS_URL, else nats://127.0.0.1:4222.",
        ].join("\n"),
      );
      return 0;
    }
    const stages = String(f.stage ?? "story,incident").split(",").map((s) => s.trim()).filter(Boolean);
    for (const s of stages) if (!(TAIL_STAGES as readonly string[]).includes(s)) throw new UsageError(`--stage: unknown stage "${s}" (stages: ${TAIL_STAGES.join(", ")})`, "tail");
    const output = (f.json ? "json" : ((f.output as string | undefined) ?? "default")) as TailOutput;
    if (!(TAIL_OUTPUTS as readonly string[]).includes(output)) throw new UsageError(`--output: unknown output "${output}" (outputs: ${TAIL_OUTPUTS.join(", ")})`, "tail");
    if (f.json && f.output !== undefined && f.output !== "json") throw new UsageError(`--json and --output ${f.output} contradict each other; use one`, "tail");
    if (f.since !== undefined && f.all) throw new UsageError("--since and --all contradict each other; use one", "tail");
    if (f["no-follow"] && f.since === undefined && !f.all) throw new UsageError("--no-follow needs --since or --all (otherwise there is nothing to print)", "tail");
    const since = f.since !== undefined ? parseSince(String(f.since), "tail") : undefined;
    const servers = (f.nats as string | undefined) ?? process.env.FARO_NATS_URL ?? "nats://127.0.0.1:4222";
    const render =
      output === "json"
        ? undefined
        : createTailRenderer({
            output,
            colour: output !== "raw" && useColour(process.stdout, f["no-color"] === true),
            width: output === "default" && process.stdout.isTTY ? process.stdout.columns : undefined,
            cluster: f.cluster ? "never" : "auto",
            skipStoryIncidents: stages.includes("incident"),
          });
    const follower = await follow({
      servers,
      stages: stages as TailStage[],
      namespace: f.namespace as string | undefined,
      cluster: f.cluster as string | undefined,
      all: f.all === true,
      since,
      onRecord: (r) => {
        if (render === undefined) io.out(JSON.stringify(jsonRecord(r)));
        else for (const line of render(r)) io.out(line);
      },
    });
    if (process.stderr.isTTY && !f["no-follow"]) io.err(`following ${stages.join(", ")}${f.namespace ? ` in ${f.namespace}` : ""}${f.cluster ? ` of ${f.cluster}` : ""} on ${servers} (Ctrl-C to stop)`);
    const ended = await Promise.race([
      follower.done.then(() => "ended" as const),
      ...(f["no-follow"] ? [follower.caughtUp().then(() => "caught-up" as const)] : []),
      new Promise<"signal">((resolve) => (io.signal.aborted ? resolve("signal") : io.signal.addEventListener("abort", () => resolve("signal"), { once: true }))),
    ]);
    await follower.stop();
    return ended === "ended" ? 1 : 0;
  },
};
