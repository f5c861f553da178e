// Example custom consumer: follows Faro's incident subjects on JetStream and prints each incident.
//
//   npx tsx examples/incident-consumer.ts [--namespace shop] [--nats URL (else $FARO_NATS_URL or nats://127.0.0.1:4222)] [--all]
//
// It uses an ordered (ephemeral) consumer, so it needs no provisioning; by default it starts with
// new incidents, `--all` replays every incident the FARO_INCIDENT stream still holds.
import { connect } from "@nats-io/transport-node";
import { DeliverPolicy, jetstream } from "@nats-io/jetstream";
import { FARO_INCIDENT, decodeIncidentContext, incidentFilter } from "@faro/contracts";

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

const servers = arg("nats") ?? process.env.FARO_NATS_URL ?? "nats://127.0.0.1:4222";
const namespace = arg("namespace");
const nc = await connect({ servers, name: "faro-example-incident-consumer" });
const js = jetstream(nc);
const consumer = await js.consumers.get(FARO_INCIDENT.name, {
  filter_subjects: incidentFilter({ namespace }),
  deliver_policy: process.argv.includes("--all") ? DeliverPolicy.All : DeliverPolicy.New,
});
const messages = await consumer.consume();
process.once("SIGINT", () => void messages.close().then(() => nc.close()));
console.error(`following ${incidentFilter({ namespace })} on ${servers} (Ctrl-C to stop)`);

for await (const m of messages) {
  const inc = decodeIncidentContext(m.data);
  const where = `${inc.namespace}/${inc.pod?.name ?? inc.ownerChain.at(-1)?.name ?? "?"}${inc.container ? `/${inc.container}` : ""}`;
  const repeat = inc.repeatCount > 1 ? ` ×${inc.repeatCount}` : "";
  console.log(`${inc.detectedAt} ${inc.severity.toUpperCase()} ${inc.reason}${repeat} ${where}${inc.exitCode !== undefined ? ` exit=${inc.exitCode}` : ""}`);
  if (inc.message) console.log(`  ${inc.message}`);
  for (const l of inc.logTail.slice(-5)) console.log(`  │ ${l.line}`);
}
