// The local-directory sink: one bundle per incident revision at the documented path (incident, story rebuilt from
// FARO_STORY or read from the writer's directory, the failing container's logs per instance, bundle.json), written
// atomically (no temp file left behind), each path segment escaped into one safe name.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { startNats, startRedis, until, type ManagedServer } from "@faro/test-harness";
import { incident, publish, publishStory, startForwarder } from "./helpers.js";

let nats: ManagedServer;
let redis: ManagedServer;
let nc: NatsConnection;
let dir: string;

beforeAll(async () => {
  [nats, redis] = await Promise.all([startNats(), startRedis()]);
  nc = await connect({ servers: nats.url });
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "faro-fwd-dir-"));
});

afterAll(async () => {
  await nc?.close();
  await Promise.all([nats?.stop(), redis?.stop()]);
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

describe("forwarder: directory sink", () => {
  it("writes <cluster>/<namespace>/<incidentId>/<repeatCount>/ with incident, story, per-instance logs and bundle.json", { timeout: 20_000 }, async () => {
    const out = path.join(dir, "out1");
    await publishStory(nc, "crasher", "dir1");
    const fwd = await startForwarder({ FARO_NATS_URL: nats.url, FARO_REDIS_URL: redis.url, FARO_CLUSTER: "dir1" }, { sinks: [{ name: "files", type: "directory", directory: { path: out } }] });
    try {
      await publish(nc, incident("crasher", 1, { cluster: "dir1" }));
      await publish(nc, incident("crasher", 2, { cluster: "dir1", namespace: "pay.ments" }));
      const first = path.join(out, "dir1", "shop", "crasher", "1");
      // A namespace is one path segment whatever it holds: escaped like a subject token.
      const second = path.join(out, "dir1", "pay~2Ements", "crasher", "2");
      await until(() => fs.existsSync(path.join(first, "bundle.json")) && fs.existsSync(path.join(second, "bundle.json")), "both bundles");
      const body = JSON.parse(fs.readFileSync(path.join(second, "incident.json"), "utf8")) as { event: string; idempotencyKey: string; incident: { repeatCount: number; namespace: string } };
      expect(body).toMatchObject({ event: "incident.updated", idempotencyKey: "crasher:2", incident: { repeatCount: 2, namespace: "pay.ments" } });

      // The first bundle: its story is on the bus (namespace shop), rebuilt from FARO_STORY, logs per instance.
      const story = JSON.parse(fs.readFileSync(path.join(first, "story.json"), "utf8")) as { storyId: string; source: string; entries: { entryKind: string }[] };
      expect(story.storyId).toBe("s-crasher");
      expect(story.source).toBe("FARO_STORY");
      expect(story.entries.map((e) => e.entryKind)).toEqual(["open", "log", "log", "log", "log"]);
      expect(fs.readFileSync(path.join(first, "logs", "crasher-7d9f-aaaaa.app.0.log"), "utf8")).toBe("2026-01-01T00:00:01.000000000Z starting\n2026-01-01T00:00:02.000000000Z panic: first\n");
      expect(fs.readFileSync(path.join(first, "logs", "crasher-7d9f-aaaaa.app.1.log"), "utf8")).toBe("2026-01-01T00:00:03.000000000Z starting again\n2026-01-01T00:00:04.000000000Z panic: boom\n");
      const index = JSON.parse(fs.readFileSync(path.join(first, "bundle.json"), "utf8")) as Record<string, unknown>;
      expect(index).toMatchObject({ idempotencyKey: "crasher:1", storyId: "s-crasher", story: { file: "story.json", source: "bus", entries: 5 }, logs: [{ lines: 2 }, { lines: 2 }] });
      // The sidecar's lines are not the failing container's: not in the bundle.
      expect(JSON.stringify(index)).not.toContain("sidecar");

      // The second (namespace pay.ments) has no story on the bus: an empty story, no logs, still a complete bundle.
      const empty = JSON.parse(fs.readFileSync(path.join(second, "bundle.json"), "utf8")) as { story: { entries: number }; logs: unknown[] };
      expect(empty).toMatchObject({ story: { entries: 0 }, logs: [] });
      const files = fs.readdirSync(out, { recursive: true }).map(String);
      expect(files.filter((f) => f.endsWith(".tmp"))).toEqual([]);
    } finally {
      await fwd.running.stop();
    }
  });

  it("takes story.json from the writer's directory (newest window) when bundle.storyDir is set", { timeout: 20_000 }, async () => {
    const out = path.join(dir, "out2");
    const stories = path.join(dir, "stories");
    fs.mkdirSync(path.join(stories, "shop"), { recursive: true });
    fs.writeFileSync(path.join(stories, "shop", "s-writer-w1.json"), '{"window":1}\n');
    fs.writeFileSync(path.join(stories, "shop", "s-writer-w2.json"), '{"window":2}\n');
    fs.writeFileSync(path.join(stories, "shop", "s-writer2-w9.json"), '{"other":true}\n');
    await publishStory(nc, "writer", "dir2");
    const fwd = await startForwarder(
      { FARO_NATS_URL: nats.url, FARO_REDIS_URL: redis.url, FARO_CLUSTER: "dir2" },
      { sinks: [{ name: "files", type: "directory", directory: { path: out }, bundle: { storyDir: stories } }] },
    );
    try {
      await publish(nc, incident("writer", 1, { cluster: "dir2" }));
      const b = path.join(out, "dir2", "shop", "writer", "1");
      await until(() => fs.existsSync(path.join(b, "bundle.json")), "the bundle");
      expect(fs.readFileSync(path.join(b, "story.json"), "utf8")).toBe('{"window":2}\n');
      const index = JSON.parse(fs.readFileSync(path.join(b, "bundle.json"), "utf8")) as { story: { source: string; path: string }; logs: { file: string }[] };
      expect(index.story).toEqual({ file: "story.json", source: "writer", path: path.join(stories, "shop", "s-writer-w2.json") });
      // The logs still come from the story's entries on the bus.
      expect(index.logs.map((l) => l.file)).toEqual(["logs/writer-7d9f-aaaaa.app.0.log", "logs/writer-7d9f-aaaaa.app.1.log"]);
    } finally {
      await fwd.running.stop();
    }
  });
});
