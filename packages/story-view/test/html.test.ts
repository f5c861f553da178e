// The story page: lanes, incidents, failures, no network, and every value from the file escaped.
import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import type { StoryFile } from "@faro/contracts";
import { renderStoryHtml, renderStoryListHtml, UnsupportedStoryError } from "../src/index.js";
import { CART, INVENTORY, loadFixture, PAYMENTS } from "./fixtures.js";

const HOSTILE = `</script><script>alert("x")</script><img src=x onerror=alert(1)>&amp;\u2028`;

function scripts(html: string): string[] {
  return [...html.matchAll(/<script\b[^>]*>([\s\S]*?)<\/script>/g)].map((m) => m[1]!);
}

describe("renderStoryHtml", () => {
  it("draws the payments story: its pod and container lanes, the incident with exit code and last log line, each failure's log", () => {
    const s = loadFixture(PAYMENTS);
    const html = renderStoryHtml(s);
    expect(html).toContain('<div class="lane pod" data-pod="payments-d6dwbrtdjm-dgbp7">');
    expect(html).toContain('<div class="lane container" data-pod="payments-d6dwbrtdjm-dgbp7" data-container="app">');
    // Three runs ended with exit 1 on the container lane, each a failed segment.
    expect(html.match(/class="seg failed"/g)).toHaveLength(3);
    expect(html).toMatch(/<article class="incident sev-high" data-incident="i-1f4518e76397b721" data-reason="CrashLoopBackOff">/);
    expect(html).toContain('<span class="exitcode">exit code 1</span>');
    expect(html).toContain('last log line: <code>panic: runtime error: invalid memory address or nil pointer dereference</code>');
    expect(html.match(/<section class="failure"/g)).toHaveLength(3);
    // The owner chain, clickable, and one timeline marker per non-log entry of the workload.
    expect(html).toContain("<summary>ReplicaSet payments-d6dwbrtdjm</summary>");
    expect(html).toContain('data-seq="47"');
    expect(html).toContain('<tr id="e47" class="k-lifecycle t-error" data-seq="47">');
  });

  it("draws replaced pods and a container that never started", () => {
    const cart = renderStoryHtml(loadFixture(CART));
    expect(cart.match(/<div class="lane pod"/g)).toHaveLength(3);
    expect(cart).toContain("replaces cart-dbfllvr6zx-vgb9p");
    const inventory = renderStoryHtml(loadFixture(INVENTORY));
    expect(inventory).toMatch(/<div class="seg waiting"/);
    expect(inventory).toContain('data-reason="ImagePullBackOff"');
  });

  it("draws an init container seen only when it finished", () => {
    const s = structuredClone(loadFixture(PAYMENTS)) as StoryFile;
    s.pods[0]!.containers.unshift({ name: "init-db", type: "init", instances: [{ restartCount: 0, finishedAt: "2026-12-08T00:52:54Z", exitCode: 0, reason: "Completed" }] });
    const html = renderStoryHtml(s);
    const lane = /<div class="lane container" data-pod="[^"]+" data-container="init-db">([\s\S]*?)<\/div><\/div><div class="lane/.exec(html)?.[1] ?? "";
    expect(lane).toContain('<span class="ctype">init </span>init-db');
    expect(lane).toMatch(/<div class="seg done" data-restart="0" [^>]*title="init-db restart 0: start not seen, exited 0 \(Completed\)">/);
  });

  it("is self-contained: no external resource, and its one script is the one the policy allows by hash", () => {
    const html = renderStoryHtml(loadFixture(PAYMENTS));
    expect(html).not.toMatch(/<link\b|\bsrc=|@import|url\(/);
    const code = scripts(html).at(-1)!;
    const hash = createHash("sha256").update(code).digest("base64");
    expect(html).toContain(`script-src 'sha256-${hash}'`);
    expect(html).toContain("default-src 'none'");
  });

  it("escapes every value taken from the story file", () => {
    const s = structuredClone(loadFixture(PAYMENTS)) as StoryFile;
    s.workload.name = HOSTILE;
    s.pods[0]!.name = HOSTILE;
    s.pods[0]!.node = HOSTILE;
    s.incidents[0]!.logTail.push({ timestamp: "2026-12-08T00:53:15.9Z", line: HOSTILE });
    const log = s.timeline.find((e) => e.kind === "log")!;
    log.pod = HOSTILE;
    (log.data["lines"] as Array<{ line: string }>)[0]!.line = HOSTILE;
    const change = s.timeline.find((e) => e.kind === "change")!;
    change.data["diff"] = [{ op: "replace", path: HOSTILE, from: HOSTILE, to: HOSTILE }];
    s.ownerChain[0]!.name = HOSTILE;
    const html = renderStoryHtml(s, { backHref: `"><script>alert(1)</script>` });
    expect(html).not.toContain("<script>alert");
    expect(html).not.toContain("<img src=x");
    expect(html).not.toContain('"><script');
    // Harmless in HTML text, but a line terminator inside the inline JSON would break older parsers.
    expect(scripts(html)[0]).not.toContain("\u2028");
    // Exactly the page's two script elements (data and code) survive.
    expect(scripts(html)).toHaveLength(2);
    expect(html).toContain("&lt;/script&gt;&lt;script&gt;alert(&quot;x&quot;)");
    // The embedded data still holds the text as it was: the page shows it, it does not run it.
    const data = JSON.parse(scripts(html)[0]!) as { entries: Array<{ seq: number; data: { lines?: Array<{ line: string }> } }> };
    expect(data.entries.find((e) => e.seq === log.seq)!.data.lines![0]!.line).toBe(HOSTILE);
  });

  it("leaves the middle log entries out beyond maxEntries, and says how many", () => {
    const s = loadFixture(PAYMENTS);
    const logs = s.timeline.filter((e) => e.kind === "log").length;
    const others = s.timeline.length - logs;
    const html = renderStoryHtml(s, { maxEntries: others + 10 });
    const rows = [...html.matchAll(/<tr id="e(\d+)" class="k-(\w+)/g)];
    expect(rows.filter((r) => r[2] === "log")).toHaveLength(10);
    expect(rows.filter((r) => r[2] !== "log")).toHaveLength(others);
    expect(html).toContain(`… ${logs - 10} log entries not shown on this page (the story file has them)`);
    // The first and the last log entries stay; the incident and the failures' log lines do not depend on it.
    const logSeqs = s.timeline.filter((e) => e.kind === "log").map((e) => e.seq);
    expect(rows.map((r) => Number(r[1]))).toEqual(expect.arrayContaining([logSeqs[0], logSeqs.at(-1)]));
    expect(html.match(/<section class="failure"/g)).toHaveLength(3);
    expect(renderStoryHtml(s)).not.toContain("not shown on this page");
  });

  it("refuses a story file version it does not know", () => {
    const s = { ...loadFixture(PAYMENTS), schemaVersion: 2 } as unknown as StoryFile;
    expect(() => renderStoryHtml(s)).toThrow(UnsupportedStoryError);
  });
});

describe("renderStoryListHtml", () => {
  it("lists stories with links and escapes names and filters", () => {
    const html = renderStoryListHtml({
      items: [
        { id: "s-1-w0", href: "/story/s-1-w0", cluster: "c1", namespace: "shop", workload: `Deployment/${HOSTILE}`, window: 0, pods: 1, incidents: { CrashLoopBackOff: 2 }, state: "snapshot", openedAt: "2026-12-08T00:52:53Z" },
      ],
      filters: { namespace: HOSTILE, since: HOSTILE },
      choices: { clusters: ["c1"], namespaces: ["shop", HOSTILE], reasons: ["CrashLoopBackOff"] },
      total: 3,
      dir: "/tmp/x",
    });
    expect(html).toContain('<a href="/story/s-1-w0">');
    expect(html).toContain('<span class="pill">CrashLoopBackOff×2</span>');
    expect(html).not.toContain("<script");
    expect(html).not.toContain("<img src=x");
    expect(html).toContain('<span id="count">1</span> of 3 stories');
  });
});
