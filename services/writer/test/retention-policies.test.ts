// The writer applies retention.policies continuously (scan at start and every scanInterval), with per-policy metrics,
// and refuses a bad policy pattern naming the field.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ConfigError } from "@faro/config";
import { loadServiceConfig, startService, type RunningService } from "@faro/kernel";
import { createLogger } from "@faro/observability";
import { startNats, type ManagedServer } from "@faro/test-harness";
import { writerService } from "../src/definition.js";
import type { Writer } from "../src/service.js";
import { CLUSTER, until } from "./helpers.js";

let nats: ManagedServer;
let dir: string;

beforeAll(async () => {
  nats = await startNats();
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "faro-writer-policies-"));
});
afterAll(async () => {
  await nats?.stop();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

const POLICIES = JSON.stringify([
  { name: "shop", namespace: "shop-*", maxAge: "1d" },
  { name: "team-a", tenant: "team-a", maxAge: "30d" },
]);

function config(extra: string[]) {
  return loadServiceConfig(writerService, {
    argv: ["--nats.url", nats.url, "--cluster", CLUSTER, "--dir", dir, "--log.level", "warn", "--snapshot.interval", "0", "--http.port", "0", "--http.host", "127.0.0.1", ...extra],
    env: {},
  });
}

function file(ns: string, name: string, tenant: string, ageDays: number): string {
  fs.mkdirSync(path.join(dir, ns), { recursive: true });
  const f = path.join(dir, ns, `${name}.json`);
  fs.writeFileSync(f, JSON.stringify({ tenant }));
  const t = (Date.now() - ageDays * 86_400_000) / 1000;
  fs.utimesSync(f, t, t);
  return f;
}

describe("writer retention policies", () => {
  it("removes files by the first matching policy on its periodic scan and counts them per policy", { timeout: 20_000 }, async () => {
    const a = file("shop-eu", "s-a-w0", "acme", 2);
    const b = file("billing", "s-b-w0", "team-a", 10);
    const c = file("billing", "s-c-w0", "team-b", 10);
    const w: RunningService<Writer> = await startService(writerService, config(["--retention.maxAge", "7d", "--retention.scanInterval", "100ms", "--retention.policies", POLICIES]), {
      logger: createLogger({ service: "writer", level: "warn" }),
      http: false,
    });
    try {
      await until(() => !fs.existsSync(a) && !fs.existsSync(c), 5000, "the start scan");
      expect(fs.existsSync(b)).toBe(true);
      // A file aging past its policy later goes at the next periodic scan, with no call from outside.
      const d = file("shop-us", "s-d-w0", "acme", 0);
      const t = (Date.now() - 2 * 86_400_000) / 1000;
      fs.utimesSync(d, t, t);
      await until(() => !fs.existsSync(d), 5000, "the periodic scan");
      // The scan counts a deletion after the unlink: wait for the counters rather than read them at once.
      const text = await until(
        async () => {
          const t = await w.handle.metrics.registry.metrics();
          return /faro_writer_retention_deletions_total\{[^}]*policy="shop"[^}]*\} 2/.test(t) && /faro_writer_retention_deletions_total\{[^}]*policy="default"[^}]*\} 1/.test(t) ? t : undefined;
        },
        5000,
        "the per-policy deletion counters",
      );
      expect(text).toMatch(/faro_writer_retention_max_age_seconds\{[^}]*policy="team-a"[^}]*\} 2592000/);
    } finally {
      await w.stop();
    }
  });

  it("refuses a policy with a bad pattern, naming the field", () => {
    let err: unknown;
    try {
      config(["--retention.policies", JSON.stringify([{ namespace: "shop" }, { namespace: "/(/" }])]);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).message).toContain("retention.policies[1].namespace");
  });
});
