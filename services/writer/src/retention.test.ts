// Retention policies per tenant/namespace: first match wins, the default covers the rest, pages follow their story file.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { compileRetentionPolicies, scanRetention } from "./retention.js";

const DAY = 86_400_000;
const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

/** A story file of `tenant` in folder `ns`, last modified `ageDays` ago. */
function story(dir: string, ns: string, name: string, tenant: string, ageDays: number, html = false): string {
  fs.mkdirSync(path.join(dir, ns), { recursive: true });
  const file = path.join(dir, ns, `${name}.json`);
  fs.writeFileSync(file, JSON.stringify({ schemaVersion: 1, tenant, namespace: ns }));
  const t = (Date.now() - ageDays * DAY) / 1000;
  fs.utimesSync(file, t, t);
  if (html) {
    const page = file.replace(/\.json$/, ".html");
    fs.writeFileSync(page, "<html></html>");
    fs.utimesSync(page, t, t);
  }
  return file;
}

describe("scanRetention with policies", () => {
  it("applies the first matching policy by namespace and tenant, else the default, and counts deletions per policy", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "faro-retention-"));
    dirs.push(dir);
    const shopOld = story(dir, "shop", "s-a-w0", "acme", 2, true); // shop-*: 1d → removed (and its page)
    const shopNew = story(dir, "shop", "s-b-w0", "acme", 0.5); // younger than 1d → kept
    const teamA = story(dir, "billing", "s-c-w0", "team-a", 20); // team-a: 30d → kept
    const teamB = story(dir, "billing", "s-d-w0", "team-b", 8); // default 7d → removed
    const forever = story(dir, "audit", "s-e-w0", "team-b", 400); // audit: 0 = forever → kept
    const cluster = story(dir, "_cluster", "s-f-w0", "team-b", 3); // cluster-scoped: empty namespace, `*` policy 2d → removed
    const rules = compileRetentionPolicies(
      [
        { name: "shop", namespace: "shop*", maxAge: DAY },
        { name: "audit", namespace: "audit", maxAge: 0 },
        { name: "team-a", tenant: "team-a", maxAge: 30 * DAY },
        { name: "cluster", namespace: "/^$/", maxAge: 2 * DAY },
      ],
      7 * DAY,
    );
    const r = await scanRetention(dir, rules);
    expect(r.errors).toEqual([]);
    expect(r.deleted.sort()).toEqual([shopOld, shopOld.replace(/\.json$/, ".html"), teamB, cluster].sort());
    expect(r.byPolicy).toEqual({ shop: 2, default: 1, cluster: 1 });
    for (const kept of [shopNew, teamA, forever]) expect(fs.existsSync(kept)).toBe(true);
  });

  it("a tenant-bound policy does not match a file whose tenant cannot be read; the default then decides", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "faro-retention-"));
    dirs.push(dir);
    fs.mkdirSync(path.join(dir, "shop"));
    const broken = path.join(dir, "shop", "s-x-w0.json");
    fs.writeFileSync(broken, "{not json");
    const t = (Date.now() - 3 * DAY) / 1000;
    fs.utimesSync(broken, t, t);
    const rules = compileRetentionPolicies([{ tenant: "*", maxAge: DAY }], 30 * DAY);
    expect((await scanRetention(dir, rules)).deleted).toEqual([]);
    const strict = compileRetentionPolicies([{ tenant: "*", maxAge: 30 * DAY }], DAY);
    expect(await scanRetention(dir, strict)).toMatchObject({ deleted: [broken], byPolicy: { default: 1 } });
  });

  it("a number is one maximum age for every file (policy `default`)", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "faro-retention-"));
    dirs.push(dir);
    const old = story(dir, "shop", "s-a-w0", "acme", 8);
    story(dir, "shop", "s-b-w0", "acme", 1);
    expect(await scanRetention(dir, 7 * DAY)).toMatchObject({ deleted: [old], byPolicy: { default: 1 } });
  });
});
