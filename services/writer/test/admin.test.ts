// The writer's admin API over real NATS and real files: off by default, refuses unauthenticated calls, lists stories
// by filter, and a cleanup's dry run lists exactly the files (and bus messages) the real run then removes — nothing
// outside the filter is touched.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connectBus, ensureStream, type Bus } from "@faro/bus";
import { ConfigError } from "@faro/config";
import { FARO_INCIDENT, FARO_STORY } from "@faro/contracts";
import { loadServiceConfig, startService, type RunningService } from "@faro/kernel";
import { createLogger } from "@faro/observability";
import { startNats, type ManagedServer } from "@faro/test-harness";
import { writerService } from "../src/definition.js";
import type { Writer } from "../src/service.js";
import { CLUSTER, publishEntries, publishIncident, story, until } from "./helpers.js";

const TOKEN = "admin-t0ken";
let nats: ManagedServer;
let bus: Bus;
let dir: string;

beforeAll(async () => {
  nats = await startNats();
  bus = await connectBus({ servers: nats.url, name: "admin-test" });
  await ensureStream(bus.jsm, FARO_STORY);
  await ensureStream(bus.jsm, FARO_INCIDENT);
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "faro-writer-admin-"));
});

afterAll(async () => {
  await bus?.close();
  await nats?.stop();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

function start(extra: string[]): Promise<RunningService<Writer>> {
  const config = loadServiceConfig(writerService, {
    argv: ["--nats.url", nats.url, "--cluster", CLUSTER, "--dir", dir, "--log.level", "warn", "--snapshot.interval", "0", "--http.port", "0", ...extra],
    env: {},
  });
  return startService(writerService, config, { logger: createLogger({ service: "writer", level: "silent", pretty: false }), http: false });
}

const storyCount = async (storyId: string) => Object.values((await bus.jsm.streams.info(FARO_STORY.name, { subjects_filter: `faro.v1.story.*.*.*.${storyId}` })).state.subjects ?? {}).reduce((a, b) => a + b, 0);

describe("writer admin API", () => {
  it("is off by default and needs a token when enabled", async () => {
    const w = await start([]);
    try {
      expect(w.instance.adminUrl()).toBeUndefined();
    } finally {
      await w.stop();
    }
    expect(() => loadServiceConfig(writerService, { argv: ["--admin.enabled", "true"], env: {} })).toThrow(ConfigError);
    expect(() => loadServiceConfig(writerService, { argv: ["--admin.enabled", "true"], env: {} })).toThrow(/admin\.token: admin\.enabled needs/);
  });

  it("lists by filter; the dry run lists exactly what the real cleanup removes, and nothing else is touched", { timeout: 60_000 }, async () => {
    const w = await start(["--admin.enabled", "true", "--admin.token", TOKEN, "--admin.port", "0"]);
    try {
      const url = w.instance.adminUrl()!;
      // Two closed stories in shop (old: 2026-01-01), one in other (old), one still open in shop (a snapshot: now).
      const web = story("web");
      const api = story("api");
      const other = story("x", { namespace: "other" });
      const open = story("cart");
      for (const s of [web, api, other]) {
        await publishIncident(bus.js, s.incident);
        await publishEntries(bus.js, s.sc, [...s.entries, s.close]);
      }
      await publishEntries(bus.js, open.sc, open.entries);
      await until(() => fs.existsSync(path.join(dir, "shop")) && fs.readdirSync(path.join(dir, "shop")).filter((f) => f.endsWith(".json")).length >= 2 && fs.existsSync(path.join(dir, "other")), 20_000, "closed stories written");
      await w.instance.flush(); // the open story as a snapshot
      const call = async (method: string, route: string, body?: unknown, token = TOKEN) => {
        const res = await fetch(`${url}${route}`, { method, headers: token ? { authorization: `Bearer ${token}` } : {}, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
        return { status: res.status, json: (await res.json()) as Record<string, unknown> };
      };

      expect((await call("GET", "/v1/stories", undefined, "")).status).toBe(401);
      expect((await call("POST", "/v1/cleanup", { dryRun: false }, "wrong")).status).toBe(401);
      const all = (await call("GET", "/v1/stories")).json["stories"] as { file: string; namespace: string }[];
      expect(all).toHaveLength(4);
      const shopOld = (await call("GET", "/v1/stories?namespace=shop&olderThan=7d")).json["stories"] as { file: string; workload: string }[];
      expect(shopOld.map((s) => s.workload).sort()).toEqual(["Deployment/api", "Deployment/web"]);
      expect((await call("GET", "/v1/stories?olderThan=soon")).status).toBe(400);
      expect((await call("POST", "/v1/cleanup", { namespace: "shop", bogus: 1 })).json["error"]).toMatch(/unknown field "bogus"/);

      const before = { web: await storyCount(web.sc.storyId), other: await storyCount(other.sc.storyId), open: await storyCount(open.sc.storyId) };
      expect(before.web).toBeGreaterThan(0);
      // No dryRun in the body: a dry run.
      const dry = (await call("POST", "/v1/cleanup", { namespace: "shop", olderThan: "7d" })).json as { dryRun: boolean; files: string[]; busMessages: number };
      expect(dry.dryRun).toBe(true);
      expect(dry.files.sort()).toEqual(shopOld.map((s) => s.file).sort());
      expect(dry.busMessages).toBe(before.web + (await storyCount(api.sc.storyId)));
      for (const f of dry.files) expect(fs.existsSync(path.join(dir, f)), f).toBe(true);
      expect(await storyCount(web.sc.storyId)).toBe(before.web);

      const real = (await call("POST", "/v1/cleanup", { namespace: "shop", olderThan: "7d", dryRun: false })).json as { dryRun: boolean; files: string[]; busMessages: number };
      expect(real).toMatchObject({ dryRun: false, files: dry.files, busMessages: dry.busMessages });
      for (const f of dry.files) expect(fs.existsSync(path.join(dir, f)), f).toBe(false);
      expect(await storyCount(web.sc.storyId)).toBe(0);
      // Outside the filter: the other namespace's story and the recent snapshot, files and bus messages alike.
      const left = (await call("GET", "/v1/stories")).json["stories"] as { workload: string }[];
      expect(left.map((s) => s.workload).sort()).toEqual(["Deployment/cart", "Deployment/x"]);
      expect(await storyCount(other.sc.storyId)).toBe(before.other);
      expect(await storyCount(open.sc.storyId)).toBe(before.open);
      const metrics = await w.handle.metrics.registry.metrics();
      expect(metrics).toMatch(/faro_writer_cleanups_total\{[^}]*dry_run="true"[^}]*\} 1/);
      expect(metrics).toMatch(/faro_writer_cleanup_files_removed_total\{[^}]*\} 2/);
    } finally {
      await w.stop();
    }
  });
});
