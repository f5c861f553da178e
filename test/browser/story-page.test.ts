// The story page in a real browser: the demo pipeline writes its stories into a temp dir, `faro serve` lists them,
// and Debian's chromium (driven by puppeteer-core) opens the payments story and finds its pod lanes and the
// CrashLoopBackOff incident with its exit code and last log line. Screenshots go to test-results/ (an artefact).
import fs from "node:fs";
import { createRequire } from "node:module";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { commands } from "@faro/cli";
import { startNats, startRedis, type ManagedServer } from "@faro/test-harness";
import { faro, ROOT } from "../e2e/helpers.js";

/** Chromium to drive: FARO_CHROMIUM, else Debian's package. */
const CHROMIUM = process.env.FARO_CHROMIUM ?? "/usr/bin/chromium";
const HAVE_CHROMIUM = fs.existsSync(CHROMIUM);
const ARTEFACTS = path.join(ROOT, "test-results");
const LAST_LINE = "panic: runtime error: invalid memory address or nil pointer dereference";

// The few puppeteer-core calls this test makes (the package is a dependency of apps/cli, loaded from there).
interface Element {
  click(): Promise<void>;
}
interface Page {
  goto(url: string, opts?: { waitUntil?: string }): Promise<unknown>;
  setViewport(v: { width: number; height: number }): Promise<void>;
  on(event: "console", fn: (m: { type(): string; text(): string }) => void): void;
  on(event: "pageerror", fn: (e: Error) => void): void;
  on(event: "request", fn: (r: { url(): string }) => void): void;
  $$eval<T>(selector: string, fn: (els: HTMLElement[]) => T): Promise<T>;
  $eval<T>(selector: string, fn: (el: HTMLElement) => T): Promise<T>;
  $(selector: string): Promise<Element | null>;
  select(selector: string, value: string): Promise<string[]>;
  waitForNavigation(): Promise<unknown>;
  url(): string;
  screenshot(opts: { path: string; fullPage?: boolean }): Promise<unknown>;
}
interface Browser {
  newPage(): Promise<Page>;
  close(): Promise<void>;
}
type Puppeteer = { launch(o: { executablePath: string; headless: boolean; args: string[] }): Promise<Browser> };

// DOM types for the callbacks run in the page (the test's tsconfig has no DOM lib).
interface HTMLElement {
  textContent: string | null;
  getAttribute(name: string): string | null;
  click(): void;
}

let nats: ManagedServer | undefined;
let redis: ManagedServer | undefined;
let dir = "";
let browser: Browser | undefined;
let base = "";
const stop = new AbortController();
let serving: Promise<number> | undefined;

const skipReason = HAVE_CHROMIUM ? "" : ` — SKIPPED: no chromium at ${CHROMIUM} (apt-get install chromium, or set FARO_CHROMIUM)`;
// The reporter hides the names of skipped suites: say it where a person reading the run sees it.
if (!HAVE_CHROMIUM) console.warn(`test/browser/story-page.test.ts${skipReason}`);

describe.skipIf(!HAVE_CHROMIUM)(`story page in chromium${skipReason}`, () => {
  beforeAll(async () => {
    [nats, redis] = await Promise.all([startNats(), startRedis()]);
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "faro-browser-"));
    const demo = faro(["demo", "--dir", dir, "--speed", "20"], { FARO_NATS_URL: nats.url, FARO_REDIS_URL: redis.url, NO_COLOR: "1" });
    const code = await demo.exited;
    expect(code, demo.output()).toBe(0);

    const serve = commands.find((c) => c.name === "serve")!;
    const listening = new Promise<string>((resolve) => {
      serving = serve.run(["--dir", dir, "--port", "0"], {
        out: (line) => {
          const m = /at (http:\/\/127\.0\.0\.1:\d+\/)/.exec(line);
          if (m) resolve(m[1]!);
        },
        err: () => undefined,
        signal: stop.signal,
      });
    });
    base = await Promise.race([listening, serving!.then((c) => Promise.reject(new Error(`faro serve exited ${c}`)))]);
    const puppeteer = createRequire(path.join(ROOT, "apps/cli/package.json"))("puppeteer-core") as Puppeteer;
    browser = await puppeteer.launch({ executablePath: CHROMIUM, headless: true, args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"] });
    fs.mkdirSync(ARTEFACTS, { recursive: true });
  }, 170_000);

  afterAll(async () => {
    await browser?.close();
    stop.abort();
    await serving;
    await Promise.all([nats?.stop(), redis?.stop()]);
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it("faro serve lists the demo's 13 stories and filters them by incident reason", async () => {
    const page = await browser!.newPage();
    await page.setViewport({ width: 1400, height: 900 });
    await page.goto(base, { waitUntil: "load" });
    const rows = await page.$$eval("tr.story", (els) => els.map((e) => e.getAttribute("data-id")));
    const files = fs.readdirSync(dir, { recursive: true, encoding: "utf8" }).filter((f) => f.endsWith(".json"));
    expect(rows).toHaveLength(13);
    expect(rows).toHaveLength(files.length);
    await page.screenshot({ path: path.join(ARTEFACTS, "story-list.png") });
    await page.select('select[name="reason"]', "CrashLoopBackOff");
    const submit = await page.$('form.filters button[type="submit"]');
    await Promise.all([page.waitForNavigation(), submit!.click()]);
    expect(page.url()).toContain("reason=CrashLoopBackOff");
    expect(await page.$$eval("tr.story a", (els) => els.map((e) => e.textContent))).toEqual(["Deployment/payments"]);
  });

  it("opens the payments story: pod lanes, the CrashLoopBackOff incident with exit code and last log line, details on click, no network", async () => {
    const page = await browser!.newPage();
    const problems: string[] = [];
    const requests: string[] = [];
    page.on("console", (m) => {
      if (m.type() === "error" || m.type() === "warn") problems.push(m.text());
    });
    page.on("pageerror", (e) => problems.push(e.message));
    page.on("request", (r) => requests.push(r.url()));
    await page.setViewport({ width: 1400, height: 1000 });
    await page.goto(`${base}?reason=CrashLoopBackOff`, { waitUntil: "load" });
    const link = await page.$("tr.story a");
    await Promise.all([page.waitForNavigation(), link!.click()]);
    expect(page.url()).toMatch(/\/story\/s-[0-9a-f]+-w\d+$/);
    requests.length = 0;
    await page.goto(page.url(), { waitUntil: "load" });

    expect(await page.$eval("h1", (e) => e.textContent)).toBe("Deployment payments in shop");
    const pods = await page.$$eval(".lane.pod", (els) => els.map((e) => e.getAttribute("data-pod")));
    expect(pods.length).toBeGreaterThanOrEqual(1);
    for (const p of pods) expect(p).toMatch(/^payments-/);
    const containers = await page.$$eval(".lane.container", (els) => els.map((e) => e.getAttribute("data-container")));
    expect(containers).toContain("app");
    // The crash loop on the container lane: runs that exited 1, marked as such.
    expect(await page.$$eval(".lane.container .seg.failed .exit", (els) => els.map((e) => e.textContent))).toContain("exit 1 Error");

    const incident = '.incident[data-reason="CrashLoopBackOff"]';
    expect(await page.$eval(`${incident} .exitcode`, (e) => e.textContent)).toBe("exit code 1");
    expect(await page.$eval(`${incident} .lastline code`, (e) => e.textContent)).toBe(LAST_LINE);
    expect(await page.$eval(`${incident} .story-of`, (e) => e.textContent)).toContain("exited 1 (Error)");
    // The log lines around the failures hold the line the container died with.
    expect((await page.$$eval(".failure .log", (els) => els.map((e) => e.textContent ?? ""))).some((t) => t.includes(LAST_LINE))).toBe(true);

    await page.screenshot({ path: path.join(ARTEFACTS, "story-page.png") });

    // A restart marker opens its entry in the detail panel (the page's script runs under its CSP).
    await page.$eval(".lane.container .m.lc.error", (e) => e.click());
    const detail = await page.$eval("#detail", (e) => e.textContent ?? "");
    expect(detail).toMatch(/container `app` exited 1 \(Error\) after \d+ s/);
    // The owner chain opens on click.
    await page.$eval(".owners .owner summary", (e) => e.click());
    expect(await page.$eval(".owners .owner[open] div", (e) => e.textContent)).toMatch(/apps\/v1 · uid /);

    expect(problems).toEqual([]);
    // Self-contained: the document itself is the only request.
    expect(requests).toHaveLength(1);
  });
});
