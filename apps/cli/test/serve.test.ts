// `faro serve` as a user runs it (child process, real HTTP): the list with filters, story pages, read-only,
// localhost only, and Ctrl-C (SIGINT) exits 0.
import { spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import http from "node:http";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const ROOT = path.resolve(import.meta.dirname, "../../..");
const CLI = path.join(ROOT, "apps/cli/src/main.ts");
const FIXTURES = path.join(ROOT, "packages/story-view/test/fixtures/stories");

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "faro-serve-"));
let proc: ChildProcess;
let base: string;
let output = "";
let exited: Promise<number | null>;

beforeAll(async () => {
  fs.cpSync(FIXTURES, dir, { recursive: true });
  proc = spawn(process.execPath, ["--import", "tsx", CLI, "serve", "--dir", dir, "--port", "0"], { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] });
  exited = new Promise((resolve) => proc.on("exit", (code) => resolve(code)));
  base = await new Promise<string>((resolve, reject) => {
    proc.stdout!.on("data", (d: Buffer) => {
      output += d.toString();
      const m = /at (http:\/\/127\.0\.0\.1:\d+\/)/.exec(output);
      if (m) resolve(m[1]!);
    });
    proc.stderr!.on("data", (d: Buffer) => (output += d.toString()));
    proc.on("exit", (code) => reject(new Error(`faro serve exited ${code}: ${output}`)));
  });
});

afterAll(async () => {
  if (proc.exitCode === null) {
    proc.kill("SIGKILL");
    await exited;
  }
  fs.rmSync(dir, { recursive: true, force: true });
});

async function get(p: string): Promise<{ status: number; type: string; body: string }> {
  const res = await fetch(new URL(p, base));
  return { status: res.status, type: res.headers.get("content-type") ?? "", body: await res.text() };
}

function request(method: string, p: string, headers: Record<string, string> = {}): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.request(new URL(p, base), { method, headers }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on("error", reject);
    req.end();
  });
}

describe("faro serve", () => {
  it("says where it listens, bound to 127.0.0.1", () => {
    expect(output).toMatch(/^serving 4 stories from .*faro-serve-\w+ at http:\/\/127\.0\.0\.1:\d+\/ \(Ctrl-C stops\)$/m);
  });

  it("lists every story and filters by namespace, reason, cluster and time", async () => {
    const all = await get("/");
    expect(all.status).toBe(200);
    expect(all.type).toBe("text/html; charset=utf-8");
    expect(all.body.match(/<tr class="story/g)).toHaveLength(4);
    expect(all.body).toContain('<a href="/story/s-c5a8ff62e036e89f-w0">Deployment/payments</a>');
    const crash = await get("/?reason=CrashLoopBackOff");
    expect(crash.body.match(/<tr class="story/g)).toHaveLength(1);
    expect(crash.body).toContain("Deployment/payments");
    expect((await get("/?namespace=_cluster")).body.match(/<tr class="story/g)).toHaveLength(1);
    expect((await get("/?cluster=demo-c3319e&namespace=shop")).body.match(/<tr class="story/g)).toHaveLength(3);
    expect((await get("/?cluster=elsewhere")).body).toContain("No story matches.");
    // The demo ran at 2026-12-08T00:52–00:55Z: nothing opened after 01:00, everything still open since 00:00.
    expect((await get("/?until=2026-12-08T00:00:00Z")).body).toContain("No story matches.");
    expect((await get("/?since=2026-12-08T00:00:00Z")).body.match(/<tr class="story/g)).toHaveLength(4);
    const bad = await get("/?since=yesterday");
    expect(bad.status).toBe(400);
    expect(bad.body).toContain("since: &quot;yesterday&quot; is neither an RFC3339 time nor a duration like 30m; ignored");
    const api = JSON.parse((await get("/api/stories?reason=OOMKilled")).body) as { total: number; stories: unknown[] };
    expect(api).toMatchObject({ total: 4, stories: [] });
  });

  it("serves each story as its page and its file", async () => {
    const page = await get("/story/s-c5a8ff62e036e89f-w0");
    expect(page.status).toBe(200);
    expect(page.body).toContain('data-reason="CrashLoopBackOff"');
    expect(page.body).toContain('<a class="back" href="/">');
    const file = await get("/story/s-c5a8ff62e036e89f-w0.json");
    expect(file.type).toBe("application/json; charset=utf-8");
    expect(JSON.parse(file.body)).toMatchObject({ storyId: "s-c5a8ff62e036e89f", window: 0 });
  });

  it("serves nothing but the listed files, read-only, to local Host names only", async () => {
    expect((await get("/story/..%2F..%2F..%2Fpackage.json")).status).toBe(404);
    expect((await get("/story/s-nope-w0")).status).toBe(404);
    expect((await get("/etc/passwd")).status).toBe(404);
    expect(await request("POST", "/")).toBe(405);
    expect(await request("DELETE", "/story/s-c5a8ff62e036e89f-w0")).toBe(405);
    expect(await request("GET", "/", { host: "attacker.example" })).toBe(403);
    expect(await request("GET", "/", { host: `localhost:${new URL(base).port}` })).toBe(200);
  });

  it("follows the directory: new, replaced and removed files show on the next request", async () => {
    const payments = path.join(dir, "shop", "s-c5a8ff62e036e89f-w0.json");
    const story = JSON.parse(fs.readFileSync(payments, "utf8")) as { storyId: string; namespace: string; incidents: Array<{ reason: string }> };
    fs.mkdirSync(path.join(dir, "pay"));
    fs.writeFileSync(path.join(dir, "pay", "s-00000000000000aa-w0.json"), JSON.stringify({ ...story, storyId: "s-00000000000000aa", namespace: "pay", incidents: [] }));
    fs.writeFileSync(path.join(dir, "pay", ".s-00000000000000aa-w1.json.123-abc.tmp"), "{");
    expect((await get("/?namespace=pay")).body.match(/<tr class="story/g)).toHaveLength(1);
    // The writer replaces a file by rename: the list shows the new content.
    const tmp = path.join(dir, "shop", ".payments.tmp");
    fs.writeFileSync(tmp, JSON.stringify({ ...story, incidents: [{ ...story.incidents[0], reason: "OOMKilled" }] }));
    fs.renameSync(tmp, payments);
    expect((await get("/?reason=CrashLoopBackOff")).body).toContain("No story matches.");
    expect((await get("/?reason=OOMKilled")).body.match(/<tr class="story/g)).toHaveLength(1);
    fs.rmSync(payments);
    expect((await get("/story/s-c5a8ff62e036e89f-w0")).status).toBe(404);
    expect(JSON.parse((await get("/api/stories")).body)).toMatchObject({ total: 4 });
  });

  it("exits 0 on Ctrl-C (SIGINT)", async () => {
    proc.kill("SIGINT");
    expect(await exited).toBe(0);
  });
});
