// `faro receive grpc`: the reference receiver of the forwarder's gRPC sink (faro.v1.IncidentService with the
// standard health check, optionally mTLS). Prints one JSON line per received incident (or appends them to a
// file) and acknowledges each; for users wiring up an orchestrator, and for tests.
import fs from "node:fs";
import { parseFlags, type Command } from "../command.js";
import { CommandError, UsageError } from "../errors.js";

const FLAGS = {
  listen: "string",
  "tls-ca": "string",
  "tls-cert": "string",
  "tls-key": "string",
  insecure: "boolean",
  out: "string",
  help: "boolean",
} as const;

export const receiveCommand: Command = {
  name: "receive",
  summary: "reference receiver of the forwarder's gRPC sink: prints or writes every incident it acknowledges",
  usage: "faro receive grpc --listen HOST:PORT (--tls-cert FILE --tls-key FILE [--tls-ca FILE] | --insecure) [--out FILE]",
  async run(args, io) {
    const [kind, ...rest] = args;
    if (kind === undefined || kind === "--help" || kind === "-h") {
      io.out(`usage: ${receiveCommand.usage}`);
      return kind === undefined ? 2 : 0;
    }
    if (kind !== "grpc") throw new UsageError(`unknown receiver "${kind}" (receivers: grpc)`, "receive");
    const f = parseFlags(rest.map((a) => (a === "-h" ? "--help" : a)), FLAGS, "receive");
    if (f.help) {
      io.out(
        [
          `usage: ${receiveCommand.usage}`,
          "Serves faro.v1.IncidentService and grpc.health.v1.Health. With --tls-ca, clients must present a certificate signed by that CA (mTLS).",
          "Every delivery is acknowledged (accepted); one already accepted (same idempotency key) is acknowledged again and marked duplicate.",
          "Output: one JSON object per line {receivedAt, key, sink, duplicate, incident} on stdout, or appended to --out.",
        ].join("\n"),
      );
      return 0;
    }
    const listen = f.listen as string | undefined;
    if (!listen) throw new UsageError("--listen HOST:PORT is required", "receive");
    const cert = f["tls-cert"] as string | undefined;
    const key = f["tls-key"] as string | undefined;
    const ca = f["tls-ca"] as string | undefined;
    if (f.insecure && (cert || key || ca)) throw new UsageError("--insecure excludes --tls-*", "receive");
    if (!f.insecure && (!cert || !key)) throw new UsageError("--tls-cert and --tls-key are required (or --insecure for plain text)", "receive");
    const out = f.out as string | undefined;
    const { startIncidentReceiver } = await import("@faro/forwarder");
    const write = out ? (line: string) => fs.appendFileSync(out, `${line}\n`) : io.out;
    let receiver;
    try {
      receiver = await startIncidentReceiver({
        listen,
        tls: f.insecure ? undefined : { cert: cert!, key: key!, ca, requireClientCert: ca !== undefined },
        onReceive: (r) => write(JSON.stringify({ receivedAt: new Date(r.receivedAtMs).toISOString(), key: r.key, sink: r.sink, duplicate: r.duplicate, incident: r.incident })),
      });
    } catch (err) {
      throw new CommandError((err as Error).message, "receive", { cause: err });
    }
    io.err(`faro receive: listening on ${receiver.address} (${f.insecure ? "plain text" : ca ? "mTLS" : "TLS"})`);
    if (!io.signal.aborted) await new Promise<void>((resolve) => io.signal.addEventListener("abort", () => resolve(), { once: true }));
    await receiver.stop();
    io.err(`faro receive: stopped after ${receiver.received.length} deliveries (${receiver.accepted.size} distinct)`);
    return 0;
  },
};
