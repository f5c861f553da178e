// `faro stories html`: a story file, found by id, prefix or path, written as a page to -o FILE or stdout.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import type { CommandIO } from "../src/command.js";
import { storiesHtml } from "../src/commands/html.js";
import { CommandError, UsageError } from "../src/errors.js";

const FIXTURES = path.resolve(import.meta.dirname, "../../../packages/story-view/test/fixtures/stories");
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "faro-stories-html-"));

afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

function io() {
  const out: string[] = [];
  const err: string[] = [];
  const c: CommandIO = { out: (l) => out.push(l), err: (l) => err.push(l), signal: new AbortController().signal };
  return { c, out, err };
}

describe("faro stories html", () => {
  it("writes the page of a story found by id prefix to -o FILE and says so on stderr only", async () => {
    const { c, out, err } = io();
    const file = path.join(tmp, "sub", "story.html");
    expect(await storiesHtml(["s-c5a8", "--dir", FIXTURES, "-o", file], c)).toBe(0);
    expect(out).toEqual([]);
    expect(err[0]).toMatch(/^wrote .*story\.html: Deployment payments \(s-c5a8ff62e036e89f window 0\), \d+ KiB$/);
    const html = fs.readFileSync(file, "utf8");
    expect(html).toContain('data-reason="CrashLoopBackOff"');
    expect(html).toContain('<div class="lane pod" data-pod="payments-d6dwbrtdjm-dgbp7">');
  });

  it("finds a story by workload name, like `faro stories show`", async () => {
    const { c } = io();
    const file = path.join(tmp, "payments.html");
    expect(await storiesHtml(["shop/payments", "--dir", FIXTURES, "-o", file], c)).toBe(0);
    expect(fs.readFileSync(file, "utf8")).toContain("<h1>Deployment payments in shop</h1>");
  });

  it("takes a path to a story file and prints the page on stdout without -o", async () => {
    const { c, out } = io();
    expect(await storiesHtml([path.join(FIXTURES, "shop/s-e732f910458c9f31-w0.json")], c)).toBe(0);
    expect(out.join("\n")).toMatch(/^<!doctype html>[\s\S]*data-reason="ImagePullBackOff"[\s\S]*<\/html>$/);
  });

  it("fails in one line on a missing id, an unknown story or a file that is not a story", async () => {
    await expect(storiesHtml([], io().c)).rejects.toThrow(UsageError);
    await expect(storiesHtml(["s-nope", "--dir", FIXTURES], io().c)).rejects.toThrow(/no story of "s-nope"/);
    const bogus = path.join(tmp, "bogus.json");
    fs.writeFileSync(bogus, JSON.stringify({ schemaVersion: 1 }));
    await expect(storiesHtml([bogus], io().c)).rejects.toThrow(CommandError);
    await expect(storiesHtml([bogus], io().c)).rejects.toThrow(/is not a valid story file: .*required property/);
  });
});
