// Records real IncidentContext messages as the analyzer's test fixtures: runs the whole pipeline (faro's
// in-process session) against the simulator's crashloop, oomkill, imagepull and demo scenarios and the
// failure modes of test/analyzer/analysis-scenario.yaml, and writes the last revision of every incident to
// services/analyzer/test/fixtures/<scenario>-<workload>-<reason>.json (the decoded message, as JSON).
// Usage: `node_modules/.bin/tsx test/analyzer/record-fixtures.ts [scenario ...]` (re-run when the incident
// contract changes; the fixtures are committed).
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { startSession } from "@faro/cli";
import { decodeIncidentContext, incidentFilter, type IncidentContext } from "@faro/contracts";
import { startCluster } from "@faro/kube-sim";
import { startNats, startRedis } from "@faro/test-harness";

const ROOT = path.resolve(import.meta.dirname, "../..");
const OUT = path.join(ROOT, "services/analyzer/test/fixtures");

/** Scenario → namespace, simulated seconds to run, speed. */
const SCENARIOS: Record<string, { file: string; namespace: string; seconds: number }> = {
  crashloop: { file: "crashloop", namespace: "default", seconds: 60 },
  oomkill: { file: "oomkill", namespace: "default", seconds: 45 },
  imagepull: { file: "imagepull", namespace: "default", seconds: 90 },
  demo: { file: "demo", namespace: "shop", seconds: 100 },
  analysis: { file: path.join(import.meta.dirname, "analysis-scenario.yaml"), namespace: "lab", seconds: 90 },
};
const SPEED = 10;

async function record(name: string): Promise<string[]> {
  const sc = SCENARIOS[name];
  if (!sc) throw new Error(`unknown scenario ${name} (${Object.keys(SCENARIOS).join(", ")})`);
  const [nats, redis] = await Promise.all([startNats(), startRedis()]);
  const cluster = await startCluster({ speed: SPEED, scenario: sc.file });
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "faro-record-"));
  const written: string[] = [];
  try {
    const kubeconfig = path.join(dir, "kubeconfig");
    cluster.writeKubeconfig(kubeconfig);
    const session = await startSession({ tokenPrefix: "rec", kubeconfig, nats: nats.url, redis: redis.url, dir: path.join(dir, "stories"), namespaces: [sc.namespace], logLevel: "warn", env: {} });
    const last = new Map<string, IncidentContext>();
    const sub = session.nc.subscribe(incidentFilter({ cluster: session.cluster }).replace(/(\.\*)+$/, ".>"));
    void (async () => {
      for await (const m of sub) {
        const ic = decodeIncidentContext(m.data);
        const prev = last.get(ic.incidentId);
        if (!prev || prev.repeatCount <= ic.repeatCount) last.set(ic.incidentId, ic);
      }
    })();
    await new Promise((r) => setTimeout(r, (sc.seconds * 1000) / SPEED));
    await session.finish({ drainTimeoutMs: 60_000 });
    sub.unsubscribe();
    fs.mkdirSync(OUT, { recursive: true });
    for (const ic of last.values()) {
      const workload = ic.ownerChain.at(-1)?.name ?? ic.pod?.name ?? "unknown";
      // Fixtures do not depend on the run's random cluster token.
      const fixed = JSON.parse(JSON.stringify(ic).replaceAll(session.cluster, "rec")) as IncidentContext;
      const file = path.join(OUT, `${name}-${workload}-${ic.reason}.json`);
      fs.writeFileSync(file, JSON.stringify(fixed, null, 2) + "\n");
      written.push(path.relative(ROOT, file));
    }
  } finally {
    await cluster.stop();
    await Promise.all([nats.stop(), redis.stop()]);
    fs.rmSync(dir, { recursive: true, force: true });
  }
  return written;
}

const names = process.argv.slice(2);
for (const name of names.length ? names : Object.keys(SCENARIOS)) {
  const files = await record(name);
  console.log(`${name}: ${files.length} incident(s)\n  ${files.join("\n  ")}`);
}
