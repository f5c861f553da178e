// html.enabled: the writer writes one self-contained HTML page beside each story file, and retention removes it.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connectBus, ensureStream, type Bus } from "@faro/bus";
import { loadServiceConfig, startService, type RunningService } from "@faro/kernel";
import { createLogger } from "@faro/observability";
import { startNats, type ManagedServer } from "@faro/test-harness";
import { writerService } from "../src/definition.js";
import { storyFilePath } from "../src/paths.js";
import { scanRetention } from "../src/retention.js";
import type { Writer } from "../src/service.js";
import { CLUSTER, publishEntries, publishIncident, story, until } from "./helpers.js";

let nats: ManagedServer;
let bus: Bus;
let dir: string;
let writer: RunningService<Writer> | undefined;

beforeAll(async () => {
  nats = await startNats();
  bus = await connectBus({ servers: nats.url, name: "test" });
  for (const spec of writerService.streams) await ensureStream(bus.jsm, spec);
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "faro-writer-html-"));
});

afterAll(async () => {
  await writer?.stop();
  await bus?.close();
  await nats?.stop();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

async function pagesWritten(w: RunningService<Writer>): Promise<number> {
  const m = w.handle.metrics.registry.getSingleMetric("faro_writer_html_pages_written_total");
  return m ? (await m.get()).values.reduce((n, v) => n + v.value, 0) : 0;
}

describe("writer html.enabled", () => {
  it("writes the story's page beside its file, with the pod lanes and the incident", async () => {
    const argv = ["--nats.url", nats.url, "--cluster", CLUSTER, "--dir", dir, "--log.level", "warn", "--snapshot.interval", "0", "--http.port", "0", "--html.enabled", "true"];
    writer = await startService(writerService, loadServiceConfig(writerService, { argv, env: {} }), { logger: createLogger({ service: "writer", level: "warn" }), http: false });
    const s = story("web");
    await publishIncident(bus.js, s.incident);
    await publishEntries(bus.js, s.sc, [...s.entries, s.close]);
    const file = storyFilePath(dir, "shop", s.sc.storyId, 0);
    const page = file.replace(/\.json$/, ".html");
    const html = await until(() => (fs.existsSync(page) ? fs.readFileSync(page, "utf8") : undefined), 60_000, "story page");
    expect(fs.existsSync(file)).toBe(true);
    expect(html).toMatch(/^<!doctype html>/);
    const f = JSON.parse(fs.readFileSync(file, "utf8")) as { pods: Array<{ name: string }>; incidents: Array<{ reason: string }> };
    for (const p of f.pods) expect(html).toContain(`<div class="lane pod" data-pod="${p.name}">`);
    expect(html).toContain(`data-reason="${f.incidents[0]!.reason}"`);
    await until(async () => (await pagesWritten(writer!)) >= 1, 30_000, "pages metric");
    // No temp file left beside them.
    expect(fs.readdirSync(path.dirname(file)).sort()).toEqual([path.basename(file), path.basename(page)].sort());
  });

  it("retention removes old pages like old story files", async () => {
    const old = path.join(dir, "shop", "s-old-w0.html");
    fs.writeFileSync(old, "<!doctype html>");
    const past = new Date(Date.now() - 10 * 86_400_000);
    fs.utimesSync(old, past, past);
    const r = await scanRetention(dir, 7 * 86_400_000);
    expect(r.deleted).toEqual([old]);
    expect(fs.existsSync(old)).toBe(false);
  });
});
