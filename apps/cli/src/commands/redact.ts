// `faro redact`: reads stdin, writes it redacted to stdout (JSON, YAML or text), so users can try their rules.
import { RedactCliError, RuleError, redactCli, type RedactFormat } from "@faro/redact";
import { parseFlags, type Command } from "../command.js";
import { CommandError, UsageError } from "../errors.js";

const FORMATS: readonly RedactFormat[] = ["json", "yaml", "text"];

export interface RedactStreams {
  stdin: NodeJS.ReadableStream;
  stdout: NodeJS.WritableStream;
}

async function readAll(input: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of input) chunks.push(typeof c === "string" ? Buffer.from(c) : (c as Buffer));
  return Buffer.concat(chunks).toString("utf8");
}

/** Resolves once the text is handed to the OS: the CLI exits right after, and a pipe must get all of it. */
function writeAll(out: NodeJS.WritableStream, text: string): Promise<void> {
  return new Promise((resolve, reject) => {
    out.write(text, (err) => (err ? reject(err) : resolve()));
  });
}

export function createRedactCommand(streams: () => RedactStreams = () => ({ stdin: process.stdin, stdout: process.stdout })): Command {
  const cmd: Command = {
    name: "redact",
    summary: "redact stdin (JSON, YAML or text) to stdout with the built-in detectors and your rules",
    usage: "faro redact [--format json|yaml|text] [--rules FILE]   (default format: text; exit 2 on unparsable input or rules)",
    async run(args, io) {
      const f = parseFlags(args, { format: "string", rules: "string", help: "boolean" }, "redact");
      if (f.help) {
        io.out(`usage: ${cmd.usage}`);
        io.out("  --format  json (one document or JSON lines), yaml (several documents allowed) or text (log lines)");
        io.out("  --rules   YAML/JSON file: `rules: [{name, pattern?, keys?, ignoreCase?}]` (the filter's redaction.rules)");
        return 0;
      }
      const format = (f.format ?? "text") as RedactFormat;
      if (!FORMATS.includes(format)) throw new UsageError(`--format must be one of ${FORMATS.join(", ")}, got "${String(f.format)}"`, "redact");
      const { stdin, stdout } = streams();
      const input = await readAll(stdin);
      let output: string;
      try {
        output = redactCli(input, { format, rulesFile: f.rules as string | undefined });
      } catch (err) {
        // Unparsable input and invalid rules are the user's to fix: exit 2, like a bad configuration.
        if (err instanceof RedactCliError || err instanceof RuleError) {
          io.err(`faro redact: ${err.message}`);
          return 2;
        }
        // Anything else (a RedactionError) prints nothing of the input: never partial output.
        throw new CommandError(`redaction failed: ${(err as Error).name}`, "redact", { cause: err });
      }
      await writeAll(stdout, output);
      return 0;
    },
  };
  return cmd;
}

export const redactCommand: Command = createRedactCommand();
