// `faro tail`: a live view of the bus — coloured one-line summaries on a terminal, `--json` one object per line.
import { parseFlags, type Command } from "../command.js";
import { UsageError } from "../errors.js";
import { follow, TAIL_STAGES, type TailStage } from "../follow.js";
import { jsonRecord, summarize } from "../tail-format.js";

export const tailCommand: Command = {
  name: "tail",
  summary: "follow what flows on the bus (raw, clean, story, incident, dlq), coloured or as JSON lines",
  usage: `faro tail [--stage ${TAIL_STAGES.join("|")}[,…]] [--namespace NS] [--cluster NAME] [--all] [--json] [--nats URL]   (default --stage story,incident)`,
  async run(args, io) {
    const f = parseFlags(args, { stage: "string", namespace: "string", cluster: "string", all: "boolean", json: "boolean", nats: "string", help: "boolean" }, "tail");
    if (f.help) {
      io.out(`usage: ${tailCommand.usage}\nNew messages only unless --all (replays what the streams hold). NATS from --nats, else FARO_NATS_URL, else nats://127.0.0.1:4222.`);
      return 0;
    }
    const stages = String(f.stage ?? "story,incident").split(",").map((s) => s.trim()).filter(Boolean);
    for (const s of stages) if (!(TAIL_STAGES as readonly string[]).includes(s)) throw new UsageError(`unknown stage "${s}" (stages: ${TAIL_STAGES.join(", ")})`, "tail");
    const servers = (f.nats as string | undefined) ?? process.env.FARO_NATS_URL ?? "nats://127.0.0.1:4222";
    const colour = !f.json && process.stdout.isTTY === true && !process.env.NO_COLOR;
    const follower = await follow({
      servers,
      stages: stages as TailStage[],
      namespace: f.namespace as string | undefined,
      cluster: f.cluster as string | undefined,
      all: f.all === true,
      onRecord: (r) => io.out(f.json ? JSON.stringify(jsonRecord(r)) : summarize(r, colour)),
    });
    if (!f.json) io.err(`following ${stages.join(", ")}${f.namespace ? ` in ${f.namespace}` : ""} on ${servers} (Ctrl-C to stop)`);
    const ended = await Promise.race([
      follower.done.then(() => "ended" as const),
      new Promise<"signal">((resolve) => (io.signal.aborted ? resolve("signal") : io.signal.addEventListener("abort", () => resolve("signal"), { once: true }))),
    ]);
    await follower.stop();
    return ended === "signal" ? 0 : 1;
  },
};
