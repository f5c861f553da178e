// The alerts (deploy/prometheus/faro-rules.yaml) and the Grafana dashboard (deploy/grafana/faro-dashboard.json)
// shipped with the chart: every query names only metrics the services register (collected from their metric
// registrations in the sources, and checked against a running service's /metrics), the alerts cover consumer lag,
// dead letters, readiness and capture, and `promtool check rules` accepts the file. promtool is optional
// (`go install github.com/prometheus/prometheus/cmd/promtool@v0.316.0`, done by scripts/setup.sh when Go is present):
// without it that test is skipped and says so.
import { execFile, execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { startNats, startRedis, type ManagedServer } from "@faro/test-harness";
import { SERVICE_NAMES, loadService, startService } from "@faro/cli";
import { startCluster, type Cluster } from "@faro/kube-sim";

const run = promisify(execFile);
const root = path.resolve(import.meta.dirname, "../..");
const RULES = path.join(root, "deploy", "prometheus", "faro-rules.yaml");
const DASHBOARD = path.join(root, "deploy", "grafana", "faro-dashboard.json");

function findPromtool(): string | undefined {
  const candidates = [process.env.FARO_PROMTOOL_BIN, path.join(os.homedir(), "go", "bin", "promtool")];
  try {
    candidates.push(path.join(execFileSync("go", ["env", "GOPATH"], { encoding: "utf8" }).trim(), "bin", "promtool"));
  } catch {
    // no Go toolchain: only PATH is left
  }
  for (const c of candidates) if (c && fs.existsSync(c)) return c;
  try {
    return execFileSync("sh", ["-c", "command -v promtool"], { encoding: "utf8" }).trim() || undefined;
  } catch {
    return undefined;
  }
}

/** Every metric name registered in the sources of packages, services and apps (tests excluded). */
function registeredMetrics(): Set<string> {
  const names = new Set<string>();
  const walk = (dir: string) => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      if (e.name === "node_modules" || e.name === "dist" || e.name === "test") continue;
      const p = path.join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name.endsWith(".ts") && !/\.test(-util)?\.ts$/.test(e.name)) {
        for (const m of fs.readFileSync(p, "utf8").matchAll(/["'`](faro_[a-z0-9_]+)["'`]/g)) names.add(m[1]!);
      }
    }
  };
  for (const d of ["packages", "services", "apps"]) walk(path.join(root, d));
  return names;
}

/** The metric names a PromQL expression reads (faro_*, with a histogram's _bucket/_sum/_count suffix removed). */
function metricsIn(expr: string, known: Set<string>): string[] {
  return [...expr.matchAll(/\b(faro_[a-z0-9_]+)\b/g)].map((m) => {
    const name = m[1]!;
    const base = name.replace(/_(bucket|sum|count)$/, "");
    return known.has(name) ? name : base;
  });
}

type Rule = { alert: string; expr: string; for?: string; labels: { severity: string }; annotations: { summary: string; description: string } };
const rules = (parse(fs.readFileSync(RULES, "utf8")) as { groups: { name: string; rules: Rule[] }[] }).groups.flatMap((g) => g.rules);
const dashboard = JSON.parse(fs.readFileSync(DASHBOARD, "utf8")) as { uid: string; panels: { title: string; targets: { expr: string }[] }[]; templating: { list: { name: string; query: unknown }[] } };
const known = registeredMetrics();

const promtool = findPromtool();
if (!promtool) console.warn("SKIPPED promtool check rules: no promtool binary (go install github.com/prometheus/prometheus/cmd/promtool@v0.316.0)");

describe("alerts and dashboard", () => {
  it("collects the registered metrics, the standard ones of docs/spec/service.md among them", () => {
    const spec = fs.readFileSync(path.join(root, "docs", "spec", "service.md"), "utf8");
    const standard = [...spec.matchAll(/^\| `(faro_[a-z_]+)` \|/gm)].map((m) => m[1]!);
    expect(standard.length).toBeGreaterThan(5);
    for (const n of standard) expect(known.has(n), n).toBe(true);
  });

  it("alerts on consumer lag, dead letters, readiness and stopped capture, each query naming only registered metrics", () => {
    const byName = new Map(rules.map((r) => [r.alert, r]));
    expect(byName.get("FaroConsumerLag")?.expr).toMatch(/faro_bus_consumer_pending/);
    expect(byName.get("FaroDeadLetters")?.expr).toMatch(/faro_dead_letters_total/);
    expect(byName.get("FaroServiceNotReady")?.expr).toMatch(/faro_service_ready/);
    expect(byName.get("FaroCaptureStopped")?.expr).toMatch(/faro_watcher_resources_watched/);
    expect(byName.get("FaroLogCaptureStopped")?.expr).toMatch(/faro_log_streamer_lines_total/);
    for (const r of rules) {
      const used = metricsIn(r.expr, known);
      expect(used.length, `${r.alert} reads a Faro metric`).toBeGreaterThan(0);
      for (const m of used) expect(known.has(m), `${r.alert}: ${m}`).toBe(true);
      expect(["warning", "critical"]).toContain(r.labels.severity);
      expect(r.annotations.summary.length).toBeGreaterThan(0);
    }
  });

  it("the dashboard's panels and variables query only registered metrics", () => {
    const exprs = [...dashboard.panels.flatMap((p) => p.targets.map((t) => ({ where: p.title, expr: t.expr }))), ...dashboard.templating.list.filter((v) => typeof v.query === "string" && v.name !== "datasource").map((v) => ({ where: `$${v.name}`, expr: v.query as string }))];
    expect(exprs.length).toBeGreaterThan(10);
    for (const { where, expr } of exprs) {
      const used = metricsIn(expr, known);
      expect(used.length, `${where} reads a Faro metric`).toBeGreaterThan(0);
      for (const m of used) expect(known.has(m), `${where}: ${m}`).toBe(true);
    }
  });

  describe("the running services", () => {
    let nats: ManagedServer;
    let redis: ManagedServer;
    let cluster: Cluster;
    let dir: string;
    beforeAll(async () => {
      [nats, redis, cluster] = await Promise.all([startNats(), startRedis(), startCluster({ speed: 20 })]);
      dir = fs.mkdtempSync(path.join(os.tmpdir(), "faro-monitoring-"));
      cluster.writeKubeconfig(path.join(dir, "kubeconfig"));
    });
    afterAll(async () => {
      await cluster?.stop();
      await nats?.stop();
      await redis?.stop();
      if (dir) fs.rmSync(dir, { recursive: true, force: true });
    });

    it("expose on /metrics only names the collection found; together every metric the alerts and panels read", async () => {
      const env = {
        FARO_AUTH_TOKEN: "monitoring-test-token",
        FARO_LISTEN_HOST: "127.0.0.1",
        FARO_LISTEN_PORT: "0",
        FARO_SINKS: JSON.stringify([{ name: "files", type: "directory", directory: { path: path.join(dir, "incidents") } }]),
      };
      const exposed = new Set<string>();
      for (const name of SERVICE_NAMES) {
        const argv = [`--nats.url=${nats.url}`, `--redis.url=${redis.url}`, "--http.host=127.0.0.1", "--http.port=0", "--cluster=monitoring-test", "--log.level=warn", `--kube.kubeconfig=${path.join(dir, "kubeconfig")}`];
        if (name === "writer") argv.push(`--dir=${path.join(dir, "stories")}`);
        const loaded = await loadService(name, { argv: argv.filter((a) => a.startsWith("--kube.") === false || ["watcher", "log-streamer", "correlator"].includes(name)), env });
        const running = await startService(loaded, { handleSignals: false, http: true });
        try {
          const text = await (await fetch(`${running.handle.http!.url}/metrics`)).text();
          const own = [...text.matchAll(/^# TYPE (faro_[a-z0-9_]+) /gm)].map((m) => m[1]!);
          expect(own, name).toContain("faro_service_ready");
          for (const n of own) (expect(known.has(n), `${name} exposes ${n}`).toBe(true), exposed.add(n));
        } finally {
          await running.stop("test");
        }
      }
      // Histograms appear as their base name in # TYPE; counters of a registry that has not counted yet too.
      const read = new Set([...rules.map((r) => r.expr), ...dashboard.panels.flatMap((p) => p.targets.map((t) => t.expr))].flatMap((e) => metricsIn(e, known)));
      for (const m of read) expect(exposed.has(m), `${m} is exposed by a running service`).toBe(true);
    }, 120_000);
  });

  it.skipIf(!promtool)("passes `promtool check rules`", async () => {
    const { stdout } = await run(promtool!, ["check", "rules", RULES], { timeout: 60_000 });
    expect(stdout).toMatch(new RegExp(`SUCCESS: ${rules.length} rules found`));
  });
});
